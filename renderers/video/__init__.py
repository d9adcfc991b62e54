"""Playout video core: TV page PNGs → broadcast MPEG-TS, loops, HLS and a live stream.

How the parts fit::

    page PNG ──encode_segment(png, profile, seconds)──► segment.ts   (self-contained TS, cached
        │        one closed GOP encoded, then repeated;                by content: same page,
        │        silence = one audio frame repeated)                   same bytes)
        │
        ├── write_hls([(href, seconds, title)…], dir) ──► index.m3u8 / loop.ffconcat / loop.m3u
        │        (segments referenced in place; every join a discontinuity)
        │
        ├── build_loop(segments, out, mux) ──► loop.ts   (remuxed on one clock, no re-encode;
        │        CBR at mux.muxrate; written atomically)
        │
        └── LiveStreamer(url, mux).run(segments, stop, on_segment) ──► udp:// or rtp://
                 (one muxer for the whole session; switch() at the next segment boundary)

    VideoProfile / PROFILES   what the boxes decode (sd, sd-wide: MPEG-2 + MP2; hd, fhd: H.264 + AAC)
    MuxSettings               the programme: service id and name, PIDs, muxrate

Everything deliberate is a :class:`pusher.errors.PlayoutError`. This package imports nothing
else from the project; the pipeline (settings, storage, outbox) wires it in.
"""

from .encode import encode_segment
from .hls import PlaylistEntry, hls_text, parse_hls, write_hls
from .live import AsRun, LiveStreamer
from .loop import LoopInfo, build_loop
from .mux import MuxSettings
from .profiles import PROFILES, VideoProfile, check_profile, get_profile

__all__ = [
    "PROFILES",
    "AsRun",
    "LiveStreamer",
    "LoopInfo",
    "MuxSettings",
    "PlaylistEntry",
    "VideoProfile",
    "build_loop",
    "check_profile",
    "encode_segment",
    "get_profile",
    "hls_text",
    "parse_hls",
    "write_hls",
]
