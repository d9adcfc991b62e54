"""Broadcaster's commands: alert, export, report, search."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pusher.cli import ConfigOpt, JsonOpt, app, echo, out
from pusher.cli.core import runtime
from pusher.cli.delivery import delivery_line
from pusher.errors import UsageError


class Level(StrEnum):
    info = "info"
    warning = "warning"
    urgent = "urgent"


class ExportKindArg(StrEnum):
    xmltv = "xmltv"
    playlist = "playlist"
    rss = "rss"
    hls = "hls"
    ts = "ts"


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    png = "png"


#: What the operator reads for the alert levels and exports (the values stay English in JSON and logs).
LEVEL_SAID = {"info": "通知", "warning": "警示", "urgent": "紧急"}
EXPORT_SAID = {"xmltv": "XMLTV 节目单", "playlist": "M3U 播放列表", "rss": "RSS"}
# The year report's (section, key) as the table shows them; CSV and JSON keep the English keys.
SECTION_SAID = {"total": "合计", "column": "栏目", "publisher": "发布机构", "month": "月份", "kind": "类型", "channel": "频道",
                "gate": "筛查", "operator": "操作", "alerts": "提示", "playout": "直播"}  # fmt: skip
KEY_SAID = {"published": "发布条数", "pushes": "推送次数", "bytes_pushed": "推送字节数", "versions": "频道版本数", "held": "暂扣待审",
            "rejected": "驳回", "retractions": "撤下", "total": "合计", "aired_seconds": "播出秒数", "aired_items": "播出条目数",
            **LEVEL_SAID}  # fmt: skip
AIRED_SAID = {"item": "条目页", "column": "栏目页", "home": "首页", "alert": "提示页"}


def _key_said(section: str, key: str) -> str:
    if section in ("column", "publisher", "month", "kind"):
        return key  # data: the portal's own names
    if section == "playout" and key.endswith("_seconds") and key not in KEY_SAID:
        kind = key.removesuffix("_seconds")
        return f"{AIRED_SAID.get(kind, kind)}播出秒数"
    return KEY_SAID.get(key, key)


@app.command()
def alert(
    text: Annotated[str | None, typer.Argument(help="The alert's text (the ticker line and the alert page).", show_default=False)] = None,
    until: Annotated[str | None, typer.Option("--until", help="When it ends: 6h, 90m, 18:30 or '2026-11-28 08:00' (default 24h).")] = None,
    level: Annotated[Level, typer.Option("--level", help="info, warning or urgent.")] = Level.warning,
    column: Annotated[str | None, typer.Option("--column", help="A column id it belongs to (default: the whole channel).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="End every alert on air now.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Put an alert on air at once (rendered, published and pushed ahead of any waiting delivery), or --clear."""
    from pusher.ops import broadcast, clear_alerts, parse_until, raise_alert

    if clear == bool(text):
        raise UsageError("give an alert TEXT, or --clear (not both)")
    rt = runtime(config)
    try:
        if clear:
            ended = clear_alerts(rt)
            if not ended:
                out.print("没有播出中的提示")
                return
            out.print("已结束提示 " + "、".join(f"#{i}" for i in ended))
            b = broadcast(rt)
        else:
            assert text is not None
            end = parse_until(until, rt.settings.channel.timezone) if until else None
            a = raise_alert(rt, text, level=level.value, until=end, column=column)
            from pusher.timeutil import local

            said = f"提示 #{a.id}（{LEVEL_SAID[a.level]}）已播出"
            out.print(f"{said}，至 {local(a.until, rt.settings.channel.timezone):%Y-%m-%d %H:%M}" if a.until else said)
            b = broadcast(rt, a)
        out.print(f"频道版本 {b.version.version}" if b.version else "频道未变")
        for r in b.deliveries:
            line = delivery_line(r)
            out.print(line + "（发送队列会继续重试）" if r.status == "failed" else line)
        if any(r.status == "failed" for r in b.deliveries):
            raise typer.Exit(1)
    finally:
        rt.close()


@app.command()
def export(
    kind: Annotated[ExportKindArg, typer.Argument(help="xmltv, playlist, rss, hls (a folder) or ts (one loop file).")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="File to write ('-' for standard output).")],
    version: Annotated[int | None, typer.Option("--version", help="Channel version (default: the newest).")] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Playlist: prefix of the page file names.")] = "assets/",
    config: ConfigOpt = None,
) -> None:
    """Write an export of a channel version: XMLTV of the rolling version, a playlist, RSS 2.0, or HLS (a folder)."""
    from pusher.ops import export_version

    rt = runtime(config)
    if kind == ExportKindArg.ts:
        from pusher.ops.exports import export_ts

        try:
            number, seconds, size = export_ts(rt, out_file, version)
        finally:
            rt.close()
        out.print(f"频道版本 {number} 的 TS 循环文件：{out_file}（{seconds:.0f} 秒，{size} 字节）")
        return
    if kind == ExportKindArg.hls:
        from pusher.ops.exports import export_hls

        try:
            number, segments = export_hls(rt, out_file, version)
        finally:
            rt.close()
        out.print(f"频道版本 {number} 的 HLS：{out_file / 'index.m3u8'}（{segments} 个分片）")
        return
    try:
        exp = export_version(rt, kind.value, version, prefix=prefix)
    finally:
        rt.close()
    data, number = exp.data, exp.version
    if str(out_file) == "-":
        echo(data.decode("utf-8"), nl=False)
        return
    try:
        out_file.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {out_file}: {exc.strerror or exc}", key="--out") from None
    out.print(f"频道版本 {number} 的 {EXPORT_SAID[kind.value]}：{out_file}（{len(data)} 字节）")


@app.command()
def report(
    year: Annotated[int | None, typer.Option("--year", help="Calendar year, in the channel's time zone.")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="table, csv, json or png.")] = ReportFormat.table,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (png: default report-YEAR.png).")] = None,
    as_run: Annotated[str | None, typer.Option("--as-run", help="The as-run log of one day (YYYY-MM-DD) instead: what aired live.")] = None,
    config: ConfigOpt = None,
) -> None:
    """The year's account (items by column, publisher, month, kind; pushes, reviews, retractions, alerts, live airtime), or --as-run."""
    from pusher.ops import report as rp

    if as_run is not None:
        _as_run(as_run, fmt, config)
        return
    if year is None:
        raise UsageError("give --year YEAR (or --as-run DAY)")
    rt = runtime(config)
    try:
        rep = rp.year_report(rt, year)
    finally:
        rt.close()
    if fmt == ReportFormat.png:
        path = out_file or Path(f"report-{year}.png")
        rp.to_png(rep, path)
        out.print(f"统计图：{path}")
        return
    if fmt in (ReportFormat.csv, ReportFormat.json):
        text = rp.to_csv(rep) if fmt == ReportFormat.csv else rp.to_json(rep) + "\n"
        if out_file:
            out_file.write_text(text, encoding="utf-8")
        else:
            echo(text, nl=False)
        return
    t = Table("类别", "项目", "数值", title=f"{rep.channel} {year} 年度统计")
    for section, key, value in rep.rows():
        t.add_row(SECTION_SAID.get(section, section), _key_said(section, key), str(value))
    out.print(t)


def _as_run(day_text: str, fmt: ReportFormat, config: Path | None) -> None:
    from datetime import date

    from pusher.ops.report import as_run
    from pusher.timeutil import local

    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise UsageError(f"--as-run {day_text!r}: give a day as YYYY-MM-DD") from None
    rt = runtime(config)
    try:
        rows, tz = as_run(rt, day), rt.settings.channel.timezone
    finally:
        rt.close()
    data = [{"aired_at": local(r.aired_at, tz).isoformat(timespec="seconds"), "seconds": r.seconds, "version": r.channel_version,
             "page": r.page, "item": r.item, "kind": r.kind, "output": r.output} for r in rows]  # fmt: skip
    if fmt == ReportFormat.json:
        echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if fmt == ReportFormat.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(data[0]) if data else ["aired_at"])
        w.writeheader()
        w.writerows(data)
        echo(buf.getvalue(), nl=False)
        return
    t = Table("播出时间", "秒", "版本", "页面", "条目", "输出", title=f"播出记录 {day}")
    for d in data:  # the day is in the title: the time of day is enough
        t.add_row(str(d["aired_at"])[11:19], *(str(d[k]) for k in ("seconds", "version", "page", "item", "output")))
    out.print(t)


@app.command()
def search(
    words: Annotated[list[str], typer.Argument(help="Words to find in titles and text (Chinese substrings too).")],
    column: Annotated[str | None, typer.Option("--column", help="Only this column id.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only items published on or after this date (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many results.")] = 20,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search items' titles and text, best matches first, with snippets."""
    from pusher.store.search import search as run_search
    from pusher.timeutil import local, to_utc

    rt = runtime(config)
    try:
        tz = rt.settings.channel.timezone
        start = None
        if since:
            try:
                start = to_utc(datetime.fromisoformat(since), tz)
            except ValueError:
                raise UsageError(f"--since {since!r}: give a date as YYYY-MM-DD") from None
        if column:
            rt.settings.column(column)
        hits = run_search(rt.store, " ".join(words), column=column, since=start, limit=limit)
    finally:
        rt.close()
    if as_json:
        out.print_json(
            json.dumps([{**vars(h), "published": h.published.isoformat() if h.published else None} for h in hits], ensure_ascii=False)
        )
        return
    if not hits:
        out.print("没有找到")
        return
    for h in hits:
        day = f"{local(h.published, tz):%Y-%m-%d}" if h.published else "—"
        out.print(f"[{h.id}] {h.title}  ({h.column}, {day}, {h.state})", markup=False)
        out.print(f"    {h.snippet}", markup=False)
