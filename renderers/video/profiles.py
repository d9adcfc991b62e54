"""Broadcast video profiles: what each class of set-top box decodes.

SD boxes take MPEG-2 Main@Main 720×576 with MPEG-1 Layer II audio; HD boxes take H.264 High
at 1280×720 or 1920×1080 with AAC (or MP2). Everything is 4:2:0, limited ("tv") range, with
the colour description written into the stream so a box never has to guess BT.601 vs BT.709.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from fractions import Fraction

import av

from pusher.errors import PlayoutError

#: MPEG-2 Main@Main ceilings (ISO/IEC 13818-2 table 8-13): peak rate and VBV buffer.
MPEG2_MP_ML_MAX_RATE = 15_000_000
MPEG2_MP_ML_VBV_BITS = 1_835_008

AUDIO_RATE = 48_000


@dataclass(frozen=True)
class VideoProfile:
    """One output format. ``quality`` is the codec's constant-quality knob: x264 CRF, or the
    MPEG-2 fixed quantiser scale; ``max_rate``/``buffer_bits`` are the VBV the stream must obey."""

    name: str
    width: int
    height: int
    codec: str  # "mpeg2video" | "libx264"
    fps: int = 25
    pix_fmt: str = "yuv420p"
    sar: Fraction = Fraction(1)
    dar: Fraction = Fraction(16, 9)
    primaries: str = "bt709"  # FFmpeg names: colour primaries, transfer, matrix
    transfer: str = "bt709"
    matrix: str = "bt709"
    audio_codec: str = "aac"  # "aac" | "mp2"
    audio_bitrate: int = 128_000
    quality: float = 18.0
    max_rate: int = 8_000_000
    buffer_bits: int = 8_000_000
    h264_level: str = "4.0"
    gop_seconds: float = 2.0

    @property
    def gop(self) -> int:
        """Frames per closed GOP: the zapping delay bound, at most ``gop_seconds``."""
        return max(1, int(self.fps * self.gop_seconds))

    @property
    def frame_ticks(self) -> int:
        """One frame in 90 kHz MPEG system clock ticks."""
        return 90_000 // self.fps

    def with_(self, **changes: object) -> VideoProfile:
        """A variant, validated again (e.g. ``PROFILES["hd"].with_(audio_codec="mp2")``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        p = self  # short name: the checks read as a table
        if p.fps not in (25, 50) or (p.fps == 50 and p.codec != "libx264"):
            raise PlayoutError(f"profile {p.name}: {p.fps} fps is not broadcast here (25, or 50 for H.264)")
        if p.codec not in ("mpeg2video", "libx264") or p.audio_codec not in ("aac", "mp2"):
            raise PlayoutError(f"profile {p.name}: unsupported codecs {p.codec}/{p.audio_codec}")
        if p.width % 16 or (p.height % 16 and p.height != 1080):
            raise PlayoutError(f"profile {p.name}: {p.width}×{p.height} is not a broadcast frame size")
        if Fraction(p.width, p.height) * p.sar != p.dar:
            raise PlayoutError(f"profile {p.name}: SAR {p.sar} does not give DAR {p.dar} at {p.width}×{p.height}")
        if p.codec == "mpeg2video" and (p.max_rate > MPEG2_MP_ML_MAX_RATE or p.buffer_bits > MPEG2_MP_ML_VBV_BITS):
            raise PlayoutError(f"profile {p.name}: rate/VBV above MPEG-2 Main@Main limits")


def _sd(name: str, dar: Fraction) -> VideoProfile:
    # 720 samples span the 4:3 or 16:9 screen, so pixels are 16:15 or 64:45 wide.
    sar = dar * Fraction(576, 720)
    return VideoProfile(
        name=name,
        width=720,
        height=576,
        codec="mpeg2video",
        sar=sar,
        dar=dar,
        primaries="bt470bg",
        transfer="smpte170m",  # the BT.601 curve; identical to BT.709's, and what boxes expect tagged
        matrix="bt470bg",
        audio_codec="mp2",
        audio_bitrate=192_000,
        quality=3.0,
        max_rate=MPEG2_MP_ML_MAX_RATE,
        buffer_bits=MPEG2_MP_ML_VBV_BITS,
    )


PROFILES: dict[str, VideoProfile] = {
    "sd": _sd("sd", Fraction(4, 3)),
    "sd-wide": _sd("sd-wide", Fraction(16, 9)),
    "hd": VideoProfile("hd", 1280, 720, "libx264", h264_level="4.0"),
    "fhd": VideoProfile("fhd", 1920, 1080, "libx264", h264_level="4.1", max_rate=12_000_000, buffer_bits=12_000_000),
}


def get_profile(name: str) -> VideoProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise PlayoutError(f"unknown video profile {name!r} (have: {', '.join(PROFILES)})") from None


@functools.cache
def _codec_problem(kind: str, name: str) -> str | None:
    """Why this FFmpeg build cannot encode with ``name``, found by opening it once."""
    try:
        cc = av.CodecContext.create(name, "w")
    except Exception:  # UnknownCodecError or ValueError, depending on the PyAV version
        return f"this PyAV build has no {name} encoder"
    if cc.type != kind:
        return f"{name} is not a {kind} encoder"
    try:
        if isinstance(cc, av.VideoCodecContext):
            cc.width, cc.height, cc.pix_fmt, cc.time_base = 64, 64, "yuv420p", Fraction(1, 25)
        elif isinstance(cc, av.AudioCodecContext):
            cc.sample_rate, cc.layout, cc.time_base = AUDIO_RATE, "stereo", Fraction(1, AUDIO_RATE)
            cc.format = av.AudioFormat((cc.codec.audio_formats or [av.AudioFormat("s16")])[0].name)
        cc.open()
    except Exception as e:  # av.FFmpegError and friends: the reason is in the message
        return f"the {name} encoder does not open ({e})"
    return None


def check_profile(profile: VideoProfile) -> None:
    """Fail early, with the reason, if this FFmpeg build cannot encode ``profile``."""
    for kind, name in (("video", profile.codec), ("audio", profile.audio_codec)):
        problem = _codec_problem(kind, name)
        if problem:
            raise PlayoutError(f"profile {profile.name}: {problem}")


#: FFmpeg's AVCOL_* codes (ISO/IEC 23091-2) for the names used above.
COLOUR_CODES = {"bt709": 1, "bt470bg": 5, "smpte170m": 6}
#: Luma weights (Kr, Kb) of each matrix.
LUMA_WEIGHTS = {"bt709": (0.2126, 0.0722), "bt470bg": (0.299, 0.114), "smpte170m": (0.299, 0.114)}
