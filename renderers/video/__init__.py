"""Playout video core: TV page PNGs → broadcast MPEG-TS (work in progress)."""

from .encode import encode_segment
from .mux import MuxSettings
from .profiles import PROFILES, VideoProfile, check_profile

__all__ = ["PROFILES", "MuxSettings", "VideoProfile", "check_profile", "encode_segment"]
