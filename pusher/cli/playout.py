"""``pusher playout --udp udp://HOST:PORT`` (or ``--rtp``): the channel live, in real time."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from pusher.cli import ConfigOpt, app, out
from pusher.cli.core import runtime
from pusher.errors import UsageError


@app.command("playout")
def playout_cmd(
    udp: Annotated[str | None, typer.Option("--udp", help="Send MPEG-TS over UDP to udp://HOST:PORT (7 TS packets a datagram).")] = None,
    rtp: Annotated[str | None, typer.Option("--rtp", help="Send it over RTP (payload type 33) to rtp://HOST:PORT.")] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Loop this channel version (default: the newest, and each newer one).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Put the channel on the air as a live transport stream until Ctrl-C or SIGTERM; each page sent goes into the as-run log."""
    from pusher.ops.playout import air

    if (udp is None) == (rtp is None):
        raise UsageError("give one output: --udp udp://HOST:PORT or --rtp rtp://HOST:PORT")
    url = udp or rtp or ""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    rt = runtime(config)
    try:
        rep = air(rt, url, stop, version=version, on_version=lambda v: out.print(f"直播：频道版本 {v} → {url}"))
    finally:
        rt.close()
    out.print(f"已停止：共发送 {rep.segments} 个分片（频道版本 {'、'.join(map(str, rep.versions)) or '—'}）")
