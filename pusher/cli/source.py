"""``pusher source …``: look at a portal through an adapter, storing nothing.

``pusher source test NAME`` (a configured source) or ``pusher source test --url URL --kind
KIND [--option key=value …]`` prints the list the adapter reads, then the first (or ``--item
N``th) detail as it would be stored: what an operator uses to tune selectors. No database is
opened and no validators are sent, so the answer is always the full page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from pusher.cli import ConfigOpt, JsonOpt, app, load, out
from pusher.config.settings import HttpSettings, SourceSettings
from pusher.errors import UsageError
from pusher.interfaces import Document, Gone, Listing
from pusher.timeutil import local

source_app = typer.Typer(help="Inspect portal sources (nothing is stored).", no_args_is_help=True)
app.add_typer(source_app, name="source")


@source_app.command("test")
def test(
    name: Annotated[str | None, typer.Argument(help="A configured source (or use --url and --kind).", show_default=False)] = None,
    url: Annotated[str | None, typer.Option("--url", help="List URL of a portal column to try.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Adapter kind for --url: hanweb, trs, rss, html.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="Adapter option key=value (JSON values allowed).")] = None,
    item: Annotated[int, typer.Option("--item", help="Which listed entry to read in detail (1 = first).", min=0)] = 1,
    limit: Annotated[int, typer.Option("--limit", help="List entries to print.", min=1)] = 20,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print what a source would extract now: its list, then one detail page. Nothing is stored."""
    from feeds.classify import classify
    from feeds.http import Http
    from pusher.registry import SOURCES

    s, http_settings, columns = _resolve(name, url, kind, option or [], config)
    src = SOURCES.create(s.kind, s.options, s.spec())
    with Http(http_settings, source=s.name, hosts=s.spec().allowed_hosts()) as http:
        listing = src.list(http, {})
        doc: Document | Gone | None = None
        if item and listing.entries:
            if item > len(listing.entries):
                raise UsageError(f"--item {item}：列表只有 {len(listing.entries)} 个条目", key="--item")
            doc = src.detail(http, listing.entries[item - 1])
        requests = http.requests
    channel_column = classify(doc, s, columns) if isinstance(doc, Document) else ""
    if as_json:
        out.print_json(json.dumps(_as_json(listing, doc, channel_column, requests, limit), ensure_ascii=False, default=str))
        return
    _print(s, listing, doc, channel_column, requests, limit)


def _resolve(
    name: str | None, url: str | None, kind: str | None, options: list[str], config: Path | None
) -> tuple[SourceSettings, HttpSettings, tuple[Any, ...]]:
    settings = load(config) if (config or name) else None
    if name:
        if url or kind:
            raise UsageError("请给出来源名称 NAME，或 --url 加 --kind，不能同时给出", key="source")
        assert settings is not None
        s = settings.source(name)
        if options:
            s = s.model_copy(update={"options": {**s.options, **_parse_options(options)}})
            s.validated_options()
        return s, settings.http, settings.columns
    if not (url and kind):
        raise UsageError("请给出来源名称 NAME，或同时给出 --url 和 --kind", key="source")
    raw = {"name": "test", "kind": kind, "url": url, "column": "-", "options": _parse_options(options)}
    s = SourceSettings.model_validate(raw)
    s.validated_options()
    return s, settings.http if settings else HttpSettings(), settings.columns if settings else ()


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise UsageError(f"应为 key=value，实际为 {p!r}", key="--option")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _day(dt: Any) -> str:
    return local(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _print(s: SourceSettings, listing: Listing, doc: Document | Gone | None, channel_column: str, requests: int, limit: int) -> None:
    # Plain lines rather than a table: long Chinese titles and URLs stay whole and greppable.
    out.print(f"{s.name}（{s.kind} 适配器）：{len(listing.entries)} 个条目，{requests} 次请求", markup=False)
    for i, e in enumerate(listing.entries[:limit], 1):
        out.print(f"{i:>3}  {_day(e.published)}  {e.title}\n     {e.url}", markup=False)
    if len(listing.entries) > limit:
        out.print(f"……另有 {len(listing.entries) - limit} 个条目（--limit 可显示更多）")
    if not listing.complete:
        out.print("注意：列表没有读全所有关注的页面")
    if isinstance(doc, Gone):
        out.print(f"详情：HTTP {doc.status}，该条目已不存在（{doc.url}）", markup=False)
        return
    if doc is None:
        return
    out.print("\n详情：")
    for label, value in (
        ("标题", doc.title),
        ("网址", doc.url),
        ("发布日期", _day(doc.published)),
        ("成文日期", doc.written.isoformat() if doc.written else ""),
        ("索引号", doc.index_no),
        ("发布机构", doc.publisher),
        ("文号", doc.doc_no),
        ("主题分类", doc.topic),
        ("有效性", doc.validity),
        ("网站栏目", doc.column),
        ("频道栏目", channel_column),
    ):
        out.print(f"  {label}：{value or '—'}", markup=False)
    for a in doc.attachments:
        out.print(f"  附件：{a.name} <{a.url}>", markup=False)
    out.print(f"正文（{len(doc.blocks)} 段，{len(doc.text)} 字）：")
    for b in doc.blocks[:12]:
        if b.kind == "table":
            out.print(f"  [表格，{len(b.rows)} 行] " + (" | ".join(b.rows[0]) if b.rows else ""), markup=False)
        elif b.kind == "img":
            out.print(f"  [图片 {b.src}] {b.text}", markup=False)
        else:
            out.print(("  # " if b.kind == "h" else "  ") + b.text[:200], markup=False)
    if len(doc.blocks) > 12:
        out.print(f"  ……另有 {len(doc.blocks) - 12} 段")


def _as_json(listing: Listing, doc: Document | Gone | None, channel_column: str, requests: int, limit: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "requests": requests,
        "complete": listing.complete,
        "entries": [{"url": e.url, "title": e.title, "published": e.published, "column": e.column} for e in listing.entries[:limit]],
        "total_entries": len(listing.entries),
    }
    if isinstance(doc, Gone):
        data["detail"] = {"gone": doc.status, "url": doc.url}
    elif doc is not None:
        data["detail"] = {
            "url": doc.url,
            "title": doc.title,
            "published": doc.published,
            "written": doc.written,
            "index_no": doc.index_no,
            "publisher": doc.publisher,
            "doc_no": doc.doc_no,
            "topic": doc.topic,
            "validity": doc.validity,
            "portal_column": doc.column,
            "channel_column": channel_column,
            "attachments": [{"name": a.name, "url": a.url} for a in doc.attachments],
            "text": doc.text,
        }
    return data


@source_app.command("discover")
def discover(
    url: Annotated[str, typer.Argument(help="A portal's home page or a column page.", show_default=False)],
    max_columns: Annotated[int, typer.Option("--max-columns", help="Columns to sample.", min=1)] = 12,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recognise the portal's CMS, find the columns it links with their latest items, and print
    ready-to-paste [[sources]] blocks. Nothing is stored."""
    from feeds import discover as dis
    from feeds.http import Http

    settings = load(config) if config else None
    host = urlsplit(url).hostname or ""
    # Both forms: a bare host, and the URL itself for its scheme and port.
    with Http(settings.http if settings else HttpSettings(), source="discover", hosts={host, url}) as http:
        found = dis.discover(http, url, max_columns)
    channel = _channel_columns(settings.columns if settings else ())
    pairs = list(zip(found.names, found.columns, strict=True))
    if as_json:
        data = {
            "url": found.url,
            "cms": found.family,
            "signs": found.signs,
            "columns": [
                {
                    "name": c.name,
                    "url": c.url,
                    "kind": c.kind,
                    "options": c.options,
                    "error": c.error,
                    "items": [{"title": t, "url": u} for t, u in c.items],
                    "source": dis.toml_block(n, c, channel.get(c.name, "")),
                }
                for n, c in pairs
            ],
        }
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    sign_text = f"（依据：{'、'.join(found.signs)}）" if found.signs else ""
    # Every line that is not a [[sources]] block is a TOML comment: the whole output pastes.
    out.print(f"# 门户：{found.url}\n# CMS：{dis.FAMILY_NAMES.get(found.family, found.family)}{sign_text}", markup=False)
    out.print(f"# 找到 {len(found.columns)} 个栏目；下面每段 [[sources]] 可直接粘贴到配置文件。", markup=False)
    for n, c in pairs:
        out.print(f"\n# {c.name} — {c.url}（{c.kind} 适配器）", markup=False)
        if c.error:
            out.print(f"#   读取失败：{c.error}", markup=False)
        elif not c.items:
            out.print("#   没有找到条目链接，请用 pusher source test 调整 link_xpath", markup=False)
        for t, u in c.items:
            out.print(f"#   最新：{t}  {u}", markup=False)
        out.print(dis.toml_block(n, c, channel.get(c.name, "")).rstrip("\n"), markup=False)


def _channel_columns(columns: Any) -> dict[str, str]:
    """Portal column name → the configured channel column that claims it (by name or rule)."""
    out: dict[str, str] = {}
    for col in columns:
        for name in (col.name, *col.portal_columns):
            out.setdefault(name, col.id)
    return out
