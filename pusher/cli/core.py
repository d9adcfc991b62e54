"""Core commands: run, poll, push, status, check-config, demo."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from pusher.cli import ConfigOpt, JsonOpt, app, load, load_deployment, out, selected_channel
from pusher.config.settings import Settings
from pusher.interfaces import Block, Document
from pusher.runtime import Runtime

if TYPE_CHECKING:
    from pusher.ops import RoundReport


def runtime(config: Path | None) -> Runtime:
    """The Runtime of the channel the command acts on (its PostgreSQL schema made if new)."""
    from pusher.daemon.channels import open_runtime

    return open_runtime(load(config))


@app.command()
def run(
    config: ConfigOpt = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines instead of text.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the daemon: poll every source on its schedule, then screen, render, publish and deliver
    (every channel of a configuration of several, or the one of --channel)."""
    from pusher import logs
    from pusher.cli import load_channel
    from pusher.daemon.scheduler import Daemon

    logs.setup(log_level, log_json)
    dep = load_deployment(config)
    if dep.several:
        chosen = [load_channel(dep)] if selected_channel() is not None else list(dep.channels)
        logs.set_timezone(chosen[0].settings.channel.timezone)
        Daemon.serving(chosen).run()
        return
    rt = runtime(config)
    logs.set_timezone(rt.settings.channel.timezone)
    try:
        Daemon(rt).run()
    finally:
        rt.close()


#: Item states as the operator reads them.
STATE_SAID = {"new": "待筛查", "screened": "待绘制", "held": "待审核", "rejected": "已驳回", "rendered": "已绘制", "failed": "绘制失败",
              "published": "播出中", "withdrawn": "已撤下", "expired": "已过期"}  # fmt: skip
#: A poll's or a source's last status as the operator reads it (JSON keeps the English value).
POLL_SAID = {"ok": "正常", "not_modified": "未变", "error": "失败", "never": "从未采集"}


@app.command()
def poll(
    sources: Annotated[list[str] | None, typer.Argument(help="Source names (default: every enabled source).", show_default=False)] = None,
    recheck: Annotated[list[int] | None, typer.Option("--recheck", help="Re-read this item's detail page now (repeatable).")] = None,
    recheck_all: Annotated[bool, typer.Option("--all", help="With the poll, re-read every known detail page now.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Poll sources now and store what is new, changed or withdrawn (nothing is pushed)."""
    from pusher.stages import poll_source

    rt = runtime(config)
    names = sources or [s.name for s in rt.settings.sources if s.enabled]
    for n in names:
        rt.settings.source(n)  # unknown names fail before any network traffic
    wanted: bool | set[int] = True if recheck_all else set(recheck or ())
    reports = [poll_source(rt, n, recheck=wanted) for n in names]
    if as_json:
        # The report's fields as shown (repr=False ones are working state, not output).
        shown = [{f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.repr} for r in reports]
        out.print_json(json.dumps(shown, ensure_ascii=False))
    else:
        t = table("来源", "结果", "列表条数", "新增", "更新", "撤下", "错误", title="采集")
        for r in reports:
            said = POLL_SAID.get(r.status, r.status)
            t.add_row(r.source, said, str(r.listed), str(r.new), str(r.changed), str(r.withdrawn), r.error or str(len(r.item_errors)))
        out.print(t)
    if any(r.status == "error" for r in reports):
        raise typer.Exit(1)


@app.command()
def push(
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
    item: Annotated[int | None, typer.Option("--item", "-i", help="Make sure this item is on air, and push now (audited).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Screen, render and publish what is waiting, then deliver to the targets now (ignoring backoff)."""
    from pusher import ops

    rt = runtime(config)
    if target:
        rt.settings.target(target)
    on_air = None if item is None else (lambda: ops.ensure_on_air(rt, item, target))
    rnd = ops.run_round(rt, target=target, now_only_due=False, before_deliver=on_air)
    _print_round(rnd)
    if any(r.status == "failed" for r in rnd.deliveries):
        raise typer.Exit(1)


def _print_round(rnd: RoundReport) -> None:
    from pusher.cli.delivery import delivery_line

    r = rnd.rendered
    line = f"筛查 {rnd.screened} 条，绘制 {r.items} 条（{r.pages} 页）" + (f"，绘制失败 {r.failed} 条" if r.failed else "")
    out.print(line + "，" + (f"频道版本 {rnd.version.version}" if rnd.version else "频道未变"), markup=False)
    for d in rnd.deliveries:
        out.print(delivery_line(d), markup=False)


@app.command()
def retry(
    item: Annotated[int | None, typer.Argument(help="A failed item's id (from `pusher status`).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every failed item.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Draw failed items again now (ITEM, or --all), then publish and push like `pusher push`."""
    from pusher import ops
    from pusher.errors import UsageError

    if (item is None) == (not every):
        raise UsageError("give a failed ITEM id, or --all (not both)")
    rt = runtime(config)
    try:
        again = ops.retry(rt, [item] if item is not None else None)
        out.print(f"重新绘制 {len(again)} 条：" + ("、".join(f"#{i}" for i in again) or "没有失败的条目"), markup=False)
        rnd = ops.run_round(rt, now_only_due=False)
        _print_round(rnd)
        from pusher.store.models import Item

        with rt.store.read() as db:
            still = [row for i in again if (row := db.get(Item, i)) is not None and row.state.value == "failed"]
    finally:
        rt.close()
    for row in still:
        out.print(f"仍然失败：#{row.id} {row.title}：{row.state_reason}", markup=False)
    if still or any(d.status == "failed" for d in rnd.deliveries):
        raise typer.Exit(1)


@app.command()
def status(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Items by state, last poll per source, last delivery per target, backlog (several channels
    and no --channel: one line per channel)."""
    from pusher.ops.status import collect_status

    if load_deployment(config).several and selected_channel() is None:
        _channels_status(config, as_json)
        return
    st = collect_status(runtime(config))
    if as_json:
        out.print_json(json.dumps(st.to_dict(), ensure_ascii=False))
        return
    ch = st.channel
    kb = lambda n: f"{n / 1024:,.0f} KB"  # noqa: E731
    parts = f"页面 {kb(ch.page_bytes)}，节目单等导出 {kb(ch.export_bytes)}，视频 {kb(ch.video_bytes)}"
    size = f"{ch.items} 条，{ch.pages} 页，{kb(ch.bytes)}（{parts}）"
    out.print(f"频道 {ch.name}（{ch.profile}）：版本 {ch.version or '—'}，生成于 {ch.generated_at or '—'}；{size}", markup=False)
    over = f"，超过上限 {ch.max_cycle_seconds:g} 秒！" if ch.max_cycle_seconds and ch.cycle_seconds > ch.max_cycle_seconds else ""
    out.print(f"轮播：每周期 {ch.cycle_seconds:g} 秒（{ch.bitrate_kbps:g} kbit/s）{over}"
              + (f"，预算 {kb(ch.budget_bytes)}" if ch.budget_bytes else ""), markup=False)  # fmt: skip
    out.print("条目：" + ("，".join(f"{STATE_SAID.get(k, k)} {v}" for k, v in st.items.items() if v) or "无"), markup=False)
    b = st.backlog
    out.print(f"积压：待筛查 {b.to_screen}，待审核 {b.held_for_review}，待绘制 {b.to_render}，待推送 {b.deliveries}", markup=False)
    for a in st.alerts:
        until = f"，至 {a.until}" if a.until else ""
        out.print(f"播出中的提示 #{a.id}（{a.level}{'，栏目 ' + a.column if a.column else ''}{until}）：{a.text}", markup=False)
    if not st.alerts:
        out.print("播出中的提示：无")
    for f in st.failed[:20]:
        again = f"，下次自动重试 {f.retry_at}" if f.retry_at else ""
        out.print(f"绘制失败 #{f.id} {f.title}（{f.source}，{f.since}{again}）：{f.reason}", markup=False)
    if len(st.failed) > 20:
        out.print(f"……另有 {len(st.failed) - 20} 条绘制失败（pusher review list --state failed）", markup=False)
    t = table("来源", "类型", "上次采集", "状态", "次数", "错误", "最近错误", title="来源")
    for s in st.sources:
        t.add_row(s.name, s.kind, s.last_poll_at or "从未", POLL_SAID.get(s.last_status, s.last_status), str(s.polls), str(s.errors),
                  s.last_error)  # fmt: skip
    out.print(t)
    t = table("目标", "类型", "已送达版本", "时间", "积压", "待传", "下次尝试", "最近错误", title="目标")
    for g in st.targets:
        to_send = f"{g.to_send} ({g.to_send_bytes // 1024} KB)" if g.to_send else "0"
        t.add_row(g.name, g.kind + ("" if g.enabled else "（停用）"), str(g.last_delivered_version or "—"), g.last_delivered_at or "从未",
                  str(g.backlog), to_send, g.next_attempt_at or "", g.last_error)  # fmt: skip
    out.print(t)
    for n in st.nodes:
        role = "主节点" if n.leader else "工作节点"
        out.print(f"节点 {n.name}：{role}，{'在线' if n.alive else '已离线'}，最近心跳 {n.seen_at or '从未'}", markup=False)
    health = st.health
    word = {"ok": "正常", "degraded": "降级", "failing": "故障"}[health.state]
    out.print(f"健康：{word} ({health.state})", markup=False)
    from pusher.cli.said import health_said

    for p in (*health.problems, *health.degraded):
        out.print(f"  - {health_said(p)}", markup=False)


def _channels_status(config: Path | None, as_json: bool) -> None:
    """Every channel of the configuration in brief; one whose store cannot be read says why."""
    from pusher.daemon.channels import open_runtime
    from pusher.ops.status import collect_status

    rows: list[dict[str, Any]] = []
    for c in load_deployment(config).channels:
        try:
            rt = open_runtime(c.settings)
            try:
                rows.append({"name": c.name, "status": collect_status(rt).to_dict()})
            finally:
                rt.close()
        except Exception as exc:  # one channel's database away: the others are still shown
            rows.append({"name": c.name, "error": str(exc)})
    if as_json:
        out.print_json(json.dumps({"channels": rows}, ensure_ascii=False))
    else:
        t = table("频道", "频道名称", "版本", "播出中", "待审核", "绘制失败", "待推送", "主节点", "健康", title="各频道")
        word = {"ok": "正常", "degraded": "降级", "failing": "故障"}
        for r in rows:
            if "error" in r:
                t.add_row(r["name"], "", "", "", "", "", "", "", f"无法读取：{r['error']}")
                continue
            st = r["status"]
            items, back, ch = st["items"], st["backlog"], st["channel"]
            lead = next((n["name"] for n in st["nodes"] if n["leader"] and n["alive"]), "—")
            t.add_row(r["name"], ch["name"], str(ch["version"] or "—"), str(items.get("published", 0)), str(back["held_for_review"]),
                      str(items.get("failed", 0)), str(back["deliveries"]), lead,
                      word.get(st["health"]["state"], st["health"]["state"]))  # fmt: skip
        out.print(t)
        out.print("各频道详情：pusher status --channel 频道", markup=False)
    if any("error" in r for r in rows):
        raise typer.Exit(1)


def table(*headers: str, title: str) -> Table:
    """A table whose cells wrap instead of being cut with "…" (status lines are long: errors, times)."""
    t = Table(title=title)
    for h in headers:
        t.add_column(h, overflow="fold")
    return t


def describe(settings: Settings) -> list[str]:
    lines = [f"channel: {settings.channel.name} ({settings.channel.profile}), timezone {settings.channel.timezone}",
             f"database: {settings.channel.database_url.split('@')[-1]}", f"workdir: {settings.channel.workdir}"]  # fmt: skip
    lines += [f"column {c.id}: {c.name}" + (f" [{c.key}]" if c.key else "") for c in settings.columns]
    lines += [
        f"source {s.name}: {s.kind} {s.url} every {s.interval}s → {s.column}" + ("" if s.enabled else " (disabled)")
        for s in settings.sources
    ]
    lines += [f"target {t.name}: {t.kind}" + ("" if t.enabled else " (disabled)") for t in settings.targets]
    return lines


@app.command("check-config")
def check_config(
    config: ConfigOpt = None,
    probe: Annotated[bool, typer.Option("--probe", help="Also probe WebDAV/FTP headends (list, upload) and poll each source.")] = False,
) -> None:
    """Validate the configuration, the fonts it names (against the channel's characters), the gate's keyword lists and the targets
    (every channel of a configuration of several, or the one of --channel)."""
    from pusher.cli import load_channel
    from pusher.gate import build_gate
    from pusher.logs import redact
    from pusher.ops.checks import Check, check_fonts, check_sources, check_targets

    dep = load_deployment(config)
    chosen = [load_channel(dep)] if not dep.several or selected_channel() is not None else list(dep.channels)
    checks: list[Check] = []
    for c in chosen:
        settings = c.settings
        if dep.several:
            out.print(f"频道 {c.name}：", markup=False)
        build_gate(settings.gate).screen(Document(url="", title="配置检查", blocks=(Block("p", "配置检查"),)))
        for line in describe(settings):
            out.print(redact(line), markup=False)
        found = [*check_fonts(settings), *check_targets(settings, probe), *check_sources(settings, probe)]
        for k in found:
            mark = "－" if k.skipped else ("✓" if k.ok else "✗")
            out.print(redact(f"{mark} {k.what}：{k.detail}"), markup=False)
        checks += [dataclasses.replace(k, what=f"{c.name}：{k.what}") for k in found] if dep.several else found
    failed = [c for c in checks if not c.ok]
    if not failed:
        out.print("配置检查通过")
        return
    from pusher.cli import err

    err.print(redact(f"错误：配置检查未通过（{len(failed)} 项）：" + "；".join(f"{c.what}：{c.detail}" for c in failed)), markup=False)
    # A configuration the daemon cannot work with is exit 2; a headend or portal that does not
    # answer now is operational (1).
    raise typer.Exit(2 if any(c.config for c in failed) else 1)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Where the demo keeps its database and headend folder.")] = Path("var/demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after pushing instead of serving the headend.")] = False,
    port: Annotated[int, typer.Option("--port", help="Port of the sample portal on 127.0.0.1.")] = 8741,
    preview_port: Annotated[int, typer.Option("--preview-port", help="Port of the headend preview on 127.0.0.1.")] = 8742,
    portal_only: Annotated[bool, typer.Option("--portal-only", help="Only serve the sample portal (for the demo's saved config).")] = False,
) -> None:
    """Run the whole flow against a bundled sample portal on 127.0.0.1: no configuration, no network."""
    from pusher.demo import PORTAL, demo_settings, portal_server, write_demo_config
    from pusher.ops import run_cycle

    workdir = workdir.resolve()
    # The portal stays up while the viewer is served: the config the demo leaves points at it,
    # so `pusher poll --config var/demo/tvpusher.toml` works beside it.
    with portal_server(PORTAL, port) as portal:
        out.print(f"示例门户网站：{portal.url}/index.html", markup=False)
        if portal_only:
            workdir.mkdir(parents=True, exist_ok=True)
            write_demo_config(portal.url, workdir)
            out.print("仅提供示例门户网站（Ctrl-C 停止）", markup=False)
            from pusher.web.preview import term_as_interrupt

            with contextlib.suppress(KeyboardInterrupt), term_as_interrupt():
                threading.Event().wait()
            return
        rt = Runtime(demo_settings(portal.url, workdir))
        try:
            rep = run_cycle(rt)
        finally:
            rt.close()
        _demo_summary(rep, portal.url, workdir, no_serve, preview_port)


def _demo_summary(rep: Any, portal_url: str, workdir: Path, no_serve: bool, preview_port: int) -> None:
    from pusher.demo import write_demo_config

    headend = workdir / "headend"
    manifest = headend / "channel.xml"
    out.print(f"采集 {rep.polled} 个来源：新增 {rep.new} 条，更新 {rep.changed} 条，撤下 {rep.withdrawn} 条")
    for e in rep.source_errors:
        out.print(f"  来源错误：{e}")
    out.print(f"筛查 {rep.screened} 条；绘制 {rep.rendered_items} 条，共 {rep.rendered_pages} 页")
    out.print("条目状态：" + "，".join(f"{STATE_SAID.get(k, k)} {v}" for k, v in rep.states.items()))
    cfg = write_demo_config(portal_url, workdir)
    if rep.states.get("held"):
        out.print(f"  敏感信息筛查暂扣 {rep.states['held']} 条待审核：见 pusher review list --config {cfg}")
    if rep.version:
        out.print(f"已发布频道版本 {rep.version}")
    else:
        out.print("频道未变，无需发布")
    from pusher.cli.delivery import delivery_line

    for d in rep.deliveries:
        out.print(delivery_line(d))
    from feeds.channel import folder_reader, manifest_tree

    if manifest.exists():
        # Through the column manifests: every file the version needs (format 2).
        # channel.xml counts too, as in the delivery line above, so the two figures agree.
        root = manifest.read_bytes()
        assets = manifest_tree(root, folder_reader(headend))
        total = sum(b for _, b in assets.values()) + len(root)
        out.print(f"频道：{manifest}（{len(assets) + 1} 个文件，{total} 字节）")
    out.print(f"其他命令加 --config {cfg} 即可查看演示（例如 pusher status --config {cfg}）")
    if rep.delivery_errors or rep.source_errors:
        raise typer.Exit(1)
    if no_serve:
        return
    serve_headend(headend, preview_port)


def serve_headend(folder: Path, port: int) -> None:
    from pusher.web.preview import preview_forever

    def ready(url: str) -> None:
        out.print(f"机顶盒查看器：{url}（Ctrl-C 停止）")

    with contextlib.suppress(KeyboardInterrupt):
        preview_forever(folder, port=port, on_ready=ready)
