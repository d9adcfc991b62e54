"""Exports of a stored channel version, for operators (``pusher export``), whatever the
configuration: made from that version's own manifest, so they describe exactly what aired."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from feeds.exports import EXPORTERS, playlist, spec_of_manifest
from pusher.errors import TvPusherError
from pusher.names import ASSET_DIR, parse_asset_name, parse_item_ref
from pusher.runtime import Runtime
from pusher.stages.manifest import full_manifest
from pusher.stages.publish import describe, export_input
from pusher.store.models import ChannelVersion


@dataclass(frozen=True)
class Export:
    kind: str
    version: int
    data: bytes


def channel_version(rt: Runtime, version: int | None = None) -> ChannelVersion:
    """A stored channel version, or the newest."""
    with rt.store.read() as db:
        cv = (
            db.get(ChannelVersion, version)
            if version
            else db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
        )
    if cv is None:
        raise TvPusherError(f"no channel version {version}" if version else "no channel version yet: run `pusher push` first")
    return cv


def export_version(rt: Runtime, kind: str, version: int | None = None, *, prefix: str = ASSET_DIR) -> Export:
    """``kind`` (xmltv, playlist, rss) of a channel version; ``prefix``: the playlist's page path prefix."""
    cv = channel_version(rt, version)
    spec, number, generated = spec_of_manifest(full_manifest(rt, cv))
    ids = [parse_item_ref(i.id) for i in spec.items]
    inp = export_input(rt, spec, number, generated, describe(rt, ids))
    data = playlist.build(inp, prefix=prefix) if kind == "playlist" else EXPORTERS[kind].make(inp)
    return Export(kind, number, data)


def export_hls(rt: Runtime, out: Path, version: int | None = None) -> tuple[int, int]:
    """A stored version as HLS in folder ``out`` (``index.m3u8`` plus ``assets/<sha>.ts``),
    whatever the configuration: segments come from the cache, or are encoded now with the
    ``[broadcast.playout]`` video settings. Returns (version, segments)."""
    from pusher.stages import playout

    cv = channel_version(rt, version)
    spec, number, _ = spec_of_manifest(full_manifest(rt, cv))
    pl = playout.build(rt, spec, outputs=("hls",))
    made = {o.kind: o for o in pl.outputs}
    (out / ASSET_DIR).mkdir(parents=True, exist_ok=True)
    for name in pl.segments:
        sha, ext = parse_asset_name(name)
        dst = out / name
        if not dst.exists():
            shutil.copyfile(rt.assets.file(sha, ext), dst)
    shutil.copyfile(rt.assets.file(made["hls"].sha256, "m3u8"), out / "index.m3u8")
    shutil.copyfile(rt.assets.file(made["ffconcat"].sha256, "ffconcat"), out / "loop.ffconcat")
    return number, len(pl.segments)


def export_ts(rt: Runtime, out: Path, version: int | None = None) -> tuple[int, float, int]:
    """A stored version as one MPEG-TS loop file (what a playout server loops 24/7), remuxed
    from the cached segments, written whole or not at all. Returns (version, seconds, bytes)."""
    from pusher.stages import playout
    from renderers.video.loop import build_loop

    cv = channel_version(rt, version)
    spec, number, _ = spec_of_manifest(full_manifest(rt, cv))
    pl = playout.build(rt, spec, outputs=())
    _, mux = playout.settings_of(rt)
    info = build_loop([rt.assets.file(*parse_asset_name(name)) for name in pl.order], out, mux)
    return number, info.duration, info.bytes
