"""Playout video core: TV page PNGs → broadcast MPEG-TS (work in progress)."""

from .encode import encode_segment
from .hls import PlaylistEntry, parse_hls, write_hls
from .live import AsRun, LiveStreamer
from .loop import LoopInfo, build_loop
from .mux import MuxSettings
from .profiles import PROFILES, VideoProfile, check_profile

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
    "parse_hls",
    "write_hls",
]
