"""Core commands: run, poll, push, status, check-config, demo."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pusher.cli import ConfigOpt, JsonOpt, app, out
from pusher.config.settings import Settings, load_settings
from pusher.interfaces import Block, Document
from pusher.runtime import Runtime


def runtime(config: Path | None) -> Runtime:
    return Runtime(load_settings(config))


@app.command()
def run(
    config: ConfigOpt = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines instead of text.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the daemon: poll every source on its schedule, then screen, render, publish and deliver."""
    from pusher import logs
    from pusher.daemon.scheduler import Daemon

    logs.setup(log_level, log_json)
    rt = runtime(config)
    try:
        Daemon(rt).run()
    finally:
        rt.close()


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
        out.print_json(json.dumps([vars(r) for r in reports], ensure_ascii=False))
    else:
        t = Table("source", "status", "listed", "new", "changed", "withdrawn", "errors", title="poll")
        for r in reports:
            t.add_row(r.source, r.status, str(r.listed), str(r.new), str(r.changed), str(r.withdrawn), r.error or str(len(r.item_errors)))
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
    reports = rnd.deliveries
    out.print(f"screened {rnd.screened}, rendered {rnd.rendered.items} items ({rnd.rendered.pages} pages), "
              + (f"channel version {rnd.version.version}" if rnd.version else "channel unchanged"))  # fmt: skip
    said = {"done": "delivered version {v} ({f} files, {b} bytes)", "failed": "failed: {e}", "waiting": "waiting: {e}",
            "busy": "busy: {e}", "idle": "up to date"}  # fmt: skip
    for r in reports:
        line = said.get(r.status, r.status).format(v=r.version, f=r.files, b=r.bytes, e=r.error)
        out.print(f"{r.target}: {line}", markup=False)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


@app.command()
def status(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Items by state, last poll per source, last delivery per target, backlog."""
    from pusher.ops.status import collect_status

    st = collect_status(runtime(config))
    if as_json:
        out.print_json(json.dumps(st.to_dict(), ensure_ascii=False))
        return
    ch = st.channel
    size = f"{ch.items} items, {ch.pages} pages, {ch.bytes} bytes"
    out.print(f"channel {ch.name} ({ch.profile}): version {ch.version or '—'}, {size}")
    out.print(f"carousel: {ch.cycle_seconds} s per cycle at {ch.bitrate_kbps:g} kbit/s"
              + (f", budget {ch.budget_bytes} bytes" if ch.budget_bytes else ""))  # fmt: skip
    out.print("items: " + ", ".join(f"{k} {v}" for k, v in st.items.items() if v) or "items: none")
    out.print("backlog: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in st.to_dict()["backlog"].items()))
    t = Table("source", "kind", "last poll", "status", "polls", "errors", "last error", title="sources")
    for s in st.sources:
        t.add_row(s.name, s.kind, s.last_poll_at or "never", s.last_status, str(s.polls), str(s.errors), s.last_error)
    out.print(t)
    t = Table("target", "kind", "delivered version", "at", "backlog", "to send", "next attempt", "last error", title="targets")
    for g in st.targets:
        to_send = f"{g.to_send} ({g.to_send_bytes // 1024} KB)" if g.to_send else "0"
        t.add_row(g.name, g.kind, str(g.last_delivered_version or "—"), g.last_delivered_at or "never", str(g.backlog),
                  to_send, g.next_attempt_at or "", g.last_error)  # fmt: skip
    out.print(t)
    for n in st.nodes:
        role = "leader" if n.leader else "worker"
        out.print(f"node {n.name}: {role}, {'alive' if n.alive else 'gone'}, last seen {n.seen_at or 'never'}", markup=False)
    health = st.health
    out.print("health: ok" if health.ok else "health: " + "; ".join(health.problems), markup=False)


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
def check_config(config: ConfigOpt = None) -> None:
    """Validate the configuration, the fonts it names and the gate's keyword lists."""
    from pusher.gate import build_gate
    from renderers import make_renderer

    settings = load_settings(config)
    make_renderer(settings.channel.profile, settings.render)
    build_gate(settings.gate).screen(Document(url="", title="配置检查", blocks=(Block("p", "配置检查"),)))
    from pusher.logs import redact, register_secrets

    register_secrets(settings)
    for line in describe(settings):
        out.print(redact(line), markup=False)
    out.print("configuration OK")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Where the demo keeps its database and headend folder.")] = Path("var/demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after pushing instead of serving the headend.")] = False,
    port: Annotated[int, typer.Option("--port", help="Port of the sample portal on 127.0.0.1.")] = 8741,
    preview_port: Annotated[int, typer.Option("--preview-port", help="Port of the headend preview on 127.0.0.1.")] = 8742,
) -> None:
    """Run the whole flow against a bundled sample portal on 127.0.0.1: no configuration, no network."""
    from pusher.demo import PORTAL, demo_settings, portal_server, write_demo_config
    from pusher.ops import run_cycle

    workdir = workdir.resolve()
    with portal_server(PORTAL, port) as portal:
        out.print(f"sample portal: {portal.url}/index.html", markup=False)
        rt = Runtime(demo_settings(portal.url, workdir))
        try:
            rep = run_cycle(rt)
        finally:
            rt.close()
    headend = workdir / "headend"
    manifest = headend / "channel.xml"
    out.print(f"polled {rep.polled} sources: {rep.new} new, {rep.changed} changed, {rep.withdrawn} withdrawn items")
    for e in rep.source_errors:
        out.print(f"  source error: {e}", markup=False)
    out.print(f"screened {rep.screened}; rendered {rep.rendered_items} items into {rep.rendered_pages} pages")
    out.print("items by state: " + ", ".join(f"{k} {v}" for k, v in rep.states.items()))
    cfg = write_demo_config(portal.url, workdir)
    if rep.states.get("held"):
        out.print(f"  {rep.states['held']} held by the sensitive-information gate: see `pusher review list --config {cfg}`", markup=False)
    if rep.version:
        out.print(f"published channel version {rep.version}")
    else:
        out.print("channel unchanged: nothing to publish")
    for d in rep.delivered:
        out.print(f"delivered {d}", markup=False)
    for e in rep.delivery_errors:
        out.print(f"delivery error: {e}", markup=False)
    from feeds.channel import manifest_assets

    if manifest.exists():
        assets = manifest_assets(manifest.read_bytes())
        total = sum(b for _, b in assets.values())
        out.print(f"channel: {manifest} ({len(assets)} pages, {total / 1024:.0f} KB)", markup=False)
    out.print(f"the other commands see the demo with --config {cfg} (e.g. pusher status --config {cfg})", markup=False)
    if rep.delivery_errors or rep.source_errors:
        raise typer.Exit(1)
    if no_serve:
        return
    serve_headend(headend, preview_port)


def serve_headend(folder: Path, port: int) -> None:
    from pusher.web.preview import preview_forever

    def ready(url: str) -> None:
        out.print(f"viewer: {url}  (Ctrl-C to stop)", markup=False)

    with contextlib.suppress(KeyboardInterrupt):
        preview_forever(folder, port=port, on_ready=ready)
