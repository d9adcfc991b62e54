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
from pusher.errors import PlayoutError, StoreError
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


def _segment_ref(rt: Runtime, page: PageRef, seconds: int, profile: VideoProfile, mux: MuxSettings) -> Path:
    key = hashlib.sha256(repr((ENCODER_VERSION, page.sha256, profile, seconds, mux, page_aspect(rt))).encode()).hexdigest()
    return rt.assets.root.parent / "segments" / key


def cached_segment(rt: Runtime, page: PageRef, seconds: int, profile: VideoProfile, mux: MuxSettings) -> tuple[str, int] | None:
    """(sha256, bytes) of the page's segment if it is encoded and kept, else None (for the
    publish stage's byte budget, which must not encode what it may leave out)."""
    ref = _segment_ref(rt, page, seconds, profile, mux)
    try:
        try:
            text = ref.read_text(encoding="ascii")
        except FileNotFoundError:
            # Another node may have encoded it (nodes without a shared disk): its index is shared too.
            got = rt.blobs.get(f"segments/{ref.name}") if rt.blobs is not None else None
            if got is None:
                return None
            text = got.decode("ascii")
        sha, size = text.split()
        if rt.assets.has(sha, "ts"):
            return sha, int(size)
    except (OSError, ValueError, StoreError):
        pass
    return None


def _segment(rt: Runtime, page: PageRef, seconds: int, profile: VideoProfile, mux: MuxSettings) -> tuple[str, int, bool]:
    """The segment of one page: (sha256, bytes, whether it was encoded now)."""
    from renderers.video.encode import encode_segment

    sar = page_aspect(rt)
    ref = _segment_ref(rt, page, seconds, profile, mux)
    index = ref.parent
    cached = cached_segment(rt, page, seconds, profile, mux)
    if cached:
        return cached[0], cached[1], False
    try:
        png = rt.assets.read(page.sha256, "png")
    except OSError as exc:
        raise PlayoutError(f"page {page.id}: not in the asset cache ({exc.strerror})") from None
    data = encode_segment(png, profile, seconds, mux=mux, page_sar=sar)
    try:
        sha = rt.assets.put(data, "ts")
        index.mkdir(parents=True, exist_ok=True)
        tmp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{sha} {len(data)}", encoding="ascii")
        os.replace(tmp, ref)
        if rt.blobs is not None:  # after the segment itself: a node that finds the index finds the segment
            rt.blobs.put(f"segments/{ref.name}", f"{sha} {len(data)}".encode("ascii"))
    except (OSError, StoreError) as exc:  # a full disk: this version keeps the loop on air, nothing half-written is referenced
        raise PlayoutError(f"page {page.id}: cannot keep its segment ({getattr(exc, 'strerror', None) or exc})") from None
    return sha, len(data), True


@dataclass(frozen=True)
class Estimate:
    bytes: int  # segments (each once), playlists and the loop the channel's playout would add
    per_page: dict[str, int]  # page id in the manifest → bytes of its segment(s)


def estimate(rt: Runtime, spec: ChannelSpec) -> Estimate:
    """What the playout of ``spec`` adds to a version, for the byte budget, without encoding the
    pages it may yet leave out: cached segments count their size, the others the bytes per second
    of those (of one page encoded now, when none is cached; it is kept for the build)."""
    from renderers.video.hls import ffconcat_text, hls_text

    b = rt.settings.broadcast
    if not b.playout.enabled:
        return Estimate(0, {})
    profile, mux = settings_of(rt)
    loop = entries(spec, b.page_seconds, b.alert_every)
    if not loop:
        return Estimate(0, {})
    known = [cached_segment(rt, e.page, e.seconds, profile, mux) for e in loop]
    if not any(known):
        sha, size, _ = _segment(rt, loop[0].page, loop[0].seconds, profile, mux)
        known[0] = (sha, size)
    sized = [(k[1], e.seconds) for k, e in zip(known, loop, strict=True) if k]
    rate = sum(n for n, _ in sized) / max(1, sum(secs for _, secs in sized))
    per_page: dict[str, int] = {}
    segments: dict[str, int] = {}  # each once, as they travel
    in_order = 0  # as the loop holds them (a page shown twice, twice)
    for n, (k, e) in enumerate(zip(known, loop, strict=True)):
        size = k[1] if k else round(rate * e.seconds)
        per_page[e.page.id] = per_page.get(e.page.id, 0) + size
        segments[k[0] if k else f"estimate-{n}"] = size
        in_order += size
    total = sum(segments.values())
    if "hls" in b.playout.outputs:
        listed = [(asset_name("0" * 64, "ts"), float(e.seconds), e.title) for e in loop]
        total += len(hls_text(listed).encode("utf-8")) + len(ffconcat_text(listed).encode("utf-8"))
    if "loop" in b.playout.outputs:
        total += in_order
    return Estimate(total, per_page)


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
        made.append(_loop(rt, [sha for sha, _ in segs], mux))
    seconds = sum(e.seconds for e in loop)
    log.info("playout: %d segments (%d encoded now), a %d s loop", len(loop), encoded, seconds)
    return Playout(made, segments, seconds, encoded, tuple(asset_name(sha, "ts") for sha, _ in segs))


def _loop(rt: Runtime, segments: list[str], mux: MuxSettings) -> Output:
    from renderers.video import loop

    fd, name = tempfile.mkstemp(prefix=".loop.", suffix=".ts", dir=rt.assets.root)
    os.close(fd)
    tmp = Path(name)
    try:
        # The muxer reads files: segments another node encoded are brought into the cache first.
        loop.build_loop([rt.assets.file(sha, "ts") for sha in segments], tmp, mux)
        sha, size = rt.assets.put_file(tmp, "ts")  # a loop is hundreds of MB: never whole in memory
    except (OSError, StoreError) as exc:
        raise PlayoutError(f"loop.ts: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Output("loop", asset_name(sha, "ts"), sha, size)
