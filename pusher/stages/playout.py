"""The channel as a linear TV service, made with each channel version: every page of the rolling
version becomes a content-addressed MPEG-TS segment, encoded once per (page, video profile,
seconds, programme) and kept in the asset cache; ``playout.m3u8`` (HLS) lists them in the
order and timing the XMLTV and the playlist use; ``loop.ts`` (opt-in) is the same loop remuxed
into one file for a playout server that loops a file. A one-item change encodes only that
item's pages and the menus that list it; the rest is reused.

Segments, the playlist and the loop travel through the outbox like pages; the manifest lists the
playlist and the loop in its ``<x:exports>``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from feeds.channel import ChannelSpec, PageRef
from feeds.exports import schedule
from pusher.errors import PlayoutError
from pusher.names import asset_name
from pusher.runtime import Runtime

if TYPE_CHECKING:
    from renderers.video.mux import MuxSettings
    from renderers.video.profiles import VideoProfile

log = logging.getLogger("tvpusher.playout")

#: Part of every segment's cache key: raise it when the encoder's output changes.
ENCODER_VERSION = "1"
#: The page profile → the video profile that carries it, when ``[broadcast.playout] video`` is unset.
VIDEO_OF_PAGES = {"sd": "sd", "hd": "hd", "fhd": "fhd"}


@dataclass(frozen=True)
class Entry:
    page: PageRef
    seconds: int
    title: str
    kind: str = ""  # alert | home | column | item
    key: str = ""  # the alert, column or item id in the manifest


@dataclass(frozen=True)
class Output:
    kind: str  # hls | loop
    href: str  # the content-named asset
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Playout:
    outputs: list[Output]
    segments: dict[str, int]  # asset name → bytes, each once
    seconds: int  # the loop's duration
    encoded: int  # segments encoded this time (the rest came from the cache)
    order: tuple[str, ...] = ()  # segment asset names in loop order (a page shown twice, twice)


def entries(spec: ChannelSpec, page_seconds: int, alert_every: int = 0) -> list[Entry]:
    """The loop page by page, as the EPG and the playlist schedule it."""
    out = []
    for s in schedule(spec, page_seconds, alert_every):
        label = f"{s.column} — {s.title}" if s.kind == "item" and s.column else s.title
        out += [Entry(p, secs, label, s.kind, s.key) for p, secs in zip(s.pages, s.seconds(page_seconds), strict=True)]
    return out


def page_aspect(rt: Runtime) -> Fraction:
    """The pages' pixel aspect: square, unless SD is drawn for the set (``render.aspect``)."""
    from renderers.tv import SD_PIXEL_ASPECT

    if rt.settings.channel.profile != "sd" or not rt.settings.render.aspect:
        return Fraction(1)
    return Fraction(*SD_PIXEL_ASPECT[rt.settings.render.aspect])


def settings_of(rt: Runtime) -> tuple[VideoProfile, MuxSettings]:
    """The video profile and the programme ``[broadcast.playout]`` asks for. SD pages drawn for a
    16:9 set go out as ``sd-wide`` unless the configuration says otherwise."""
    from renderers.video.mux import MuxSettings
    from renderers.video.profiles import get_profile

    p = rt.settings.broadcast.playout
    pages = (
        "sd-wide"
        if rt.settings.channel.profile == "sd" and rt.settings.render.aspect == "16:9"
        else VIDEO_OF_PAGES[rt.settings.channel.profile]
    )
    profile = get_profile(p.video or pages)
    mux = MuxSettings(service_id=p.service_id, pmt_pid=p.pmt_pid, video_pid=p.video_pid, audio_pid=p.audio_pid,
                      service_name=p.service_name or rt.settings.channel.name, provider_name=p.provider_name,
                      muxrate=p.muxrate_kbps * 1000)  # fmt: skip
    return profile, mux


def _segment(rt: Runtime, page: PageRef, seconds: int, profile: VideoProfile, mux: MuxSettings) -> tuple[str, int, bool]:
    """The segment of one page: (sha256, bytes, whether it was encoded now)."""
    from renderers.video.encode import encode_segment

    sar = page_aspect(rt)
    key = hashlib.sha256(repr((ENCODER_VERSION, page.sha256, profile, seconds, mux, sar)).encode()).hexdigest()
    index = rt.assets.root.parent / "segments"
    ref = index / key
    try:
        sha, size = ref.read_text(encoding="ascii").split()
        if rt.assets.has(sha, "ts"):
            return sha, int(size), False
    except (OSError, ValueError):
        pass
    try:
        png = rt.assets.read(page.sha256, "png")
    except OSError as exc:
        raise PlayoutError(f"page {page.id}: not in the asset cache ({exc.strerror})") from None
    data = encode_segment(png, profile, seconds, mux=mux, page_sar=sar)
    try:
        sha = rt.assets.put(data, "ts")
        index.mkdir(parents=True, exist_ok=True)
        tmp = ref.with_name(f".{key}.{os.getpid()}.tmp")
        tmp.write_text(f"{sha} {len(data)}", encoding="ascii")
        os.replace(tmp, ref)
    except OSError as exc:  # a full disk: this version keeps the loop on air, nothing half-written is referenced
        raise PlayoutError(f"page {page.id}: cannot keep its segment ({exc.strerror or exc})") from None
    return sha, len(data), True


def build(rt: Runtime, spec: ChannelSpec, outputs: Sequence[str] | None = None) -> Playout:
    """Segments for every page of the loop (from the cache where they exist), then the outputs
    ``[broadcast.playout] outputs`` asks for. Raises PlayoutError; the caller keeps the
    previous loop on air."""
    b = rt.settings.broadcast
    outputs = b.playout.outputs if outputs is None else outputs
    profile, mux = settings_of(rt)
    loop = entries(spec, b.page_seconds, b.alert_every)
    if not loop:
        return Playout([], {}, 0, 0, ())
    # Both cores: the encoder runs single-threaded (for identical bytes on every run) and
    # releases the GIL, so one thread per core encodes the pages that are not cached yet.
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        done = list(pool.map(lambda e: _segment(rt, e.page, e.seconds, profile, mux), loop))
    segs = [(sha, size) for sha, size, _ in done]
    encoded = sum(fresh for _, _, fresh in done)
    segments = {asset_name(sha, "ts"): size for sha, size in segs}
    made = []
    if "hls" in outputs:
        from renderers.video.hls import ffconcat_text, hls_text

        # HLS for IPTV boxes, and the same list as ffconcat for playout servers that loop a
        # list. Both sit beside channel.xml: their segment paths ("assets/…") resolve from there.
        listed = [(asset_name(sha, "ts"), float(e.seconds), e.title) for (sha, _), e in zip(segs, loop, strict=True)]
        for kind, ext, text in (("hls", "m3u8", hls_text(listed)), ("ffconcat", "ffconcat", ffconcat_text(listed))):
            data = text.encode("utf-8")
            sha = rt.assets.put(data, ext)
            made.append(Output(kind, asset_name(sha, ext), sha, len(data)))
    if "loop" in outputs:
        made.append(_loop(rt, [rt.assets.path(sha, "ts") for sha, _ in segs], mux))
    seconds = sum(e.seconds for e in loop)
    log.info("playout: %d segments (%d encoded now), a %d s loop", len(loop), encoded, seconds)
    return Playout(made, segments, seconds, encoded, tuple(asset_name(sha, "ts") for sha, _ in segs))


def _loop(rt: Runtime, paths: list[Path], mux: MuxSettings) -> Output:
    from renderers.video import loop

    fd, name = tempfile.mkstemp(prefix=".loop.", suffix=".ts", dir=rt.assets.root)
    os.close(fd)
    tmp = Path(name)
    try:
        loop.build_loop(paths, tmp, mux)
        sha, size = rt.assets.put_file(tmp, "ts")  # a loop is hundreds of MB: never whole in memory
    except OSError as exc:
        raise PlayoutError(f"loop.ts: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Output("loop", asset_name(sha, "ts"), sha, size)
