"""Live playout: the channel version on the air as a real-time MPEG-TS over UDP or RTP, as a
headend's multiplexer takes it. One muxer runs for the whole broadcast, so a newer version
comes in at a segment boundary with no gap, no timestamp jump and no continuity-counter error.
Every segment sent is written to the as-run log (proof of play), which ``pusher report`` reads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from feeds.exports import spec_of_manifest
from pusher.names import parse_asset_name
from pusher.ops.exports import channel_version
from pusher.runtime import Runtime
from pusher.stages import playout
from pusher.stages.manifest import full_manifest
from pusher.store.models import AsRun, ChannelVersion

log = logging.getLogger("tvpusher.playout")


@dataclass(frozen=True)
class Loop:
    version: int
    paths: list[Path]
    entries: list[playout.Entry]


@dataclass
class AirReport:
    segments: int = 0
    versions: list[int] = field(default_factory=list)  # the channel versions aired, in order


def loop_of(rt: Runtime, cv: ChannelVersion) -> Loop:
    """A channel version's loop as segment files (encoded now where the cache lacks them)."""
    spec, number, _ = spec_of_manifest(full_manifest(rt, cv))
    b = rt.settings.broadcast
    pl = playout.build(rt, spec, outputs=())
    paths = [rt.assets.file(*parse_asset_name(name)) for name in pl.order]  # local files, brought in if another node made them
    return Loop(number, paths, playout.entries(spec, b.page_seconds, b.alert_every))


def _newest(rt: Runtime) -> int:
    with rt.store.read() as db:
        return db.exec(select(ChannelVersion.version).order_by(col(ChannelVersion.version).desc())).first() or 0


def air(
    rt: Runtime,
    url: str,
    stop: threading.Event,
    *,
    version: int | None = None,
    check_every: float = 5.0,
    on_version: Callable[[int], None] | None = None,
) -> AirReport:
    """Send the channel to ``url`` (``udp://HOST:PORT`` or ``rtp://HOST:PORT``) until ``stop``.

    With ``version`` that version loops; without, the newest does, and a newer one is taken up
    within ``check_every`` seconds (its new segments are encoded first, off the air)."""
    from renderers.video.live import AsRun as Sent
    from renderers.video.live import LiveStreamer

    _, mux = playout.settings_of(rt)
    streamer = LiveStreamer(url, mux)
    report = AirReport()
    loops = [loop_of(rt, channel_version(rt, version))]  # by the streamer's switch count
    rows: queue.Queue[AsRun | None] = queue.Queue()

    def sent(s: Sent) -> None:
        lp = loops[s.version]
        e = lp.entries[s.index]
        if not report.versions or report.versions[-1] != lp.version:
            report.versions.append(lp.version)
            if on_version:
                on_version(lp.version)
        report.segments += 1
        rows.put(AsRun(aired_at=datetime.fromtimestamp(s.on_air, UTC), seconds=e.seconds, channel_version=lp.version, page=e.page.id,
                       item=e.key if e.kind == "item" else "", kind=e.kind, output=url, node=rt.settings.daemon.node_name()))  # fmt: skip

    def write_rows() -> None:
        # Off the sending thread, in batches: a busy store must not make the stream late.
        done = False
        while not done:
            batch: list[AsRun] = []
            row = rows.get()
            while row is not None:
                batch.append(row)
                try:
                    row = rows.get_nowait()
                except queue.Empty:
                    break
            done = row is None
            if batch:
                with rt.store.write() as db:
                    db.add_all(batch)

    def watch() -> None:
        while not stop.wait(check_every):
            if report.versions[-1:] != [loops[-1].version]:
                continue  # the last switch has not reached the air yet
            newest = _newest(rt)
            if newest <= loops[-1].version:
                continue
            try:
                lp = loop_of(rt, channel_version(rt, newest))
            except Exception:  # a version that cannot be made into video: the one on air stays
                log.exception("playout of channel version %d failed; version %d stays on air", newest, loops[-1].version)
                continue
            loops.append(lp)
            streamer.switch(lp.paths)
            log.info("channel version %d goes on air at the next segment", lp.version)

    writer = threading.Thread(target=write_rows, name="asrun", daemon=True)
    writer.start()
    watcher = threading.Thread(target=watch, name="playout-watch", daemon=True) if version is None else None
    if watcher:
        watcher.start()
    try:
        streamer.run(loops[0].paths, stop, on_segment=sent)
    finally:
        stop.set()
        rows.put(None)
        writer.join(timeout=10)
        if watcher:
            watcher.join(timeout=check_every + 1)
    return report
