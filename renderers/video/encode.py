"""One page PNG → one self-contained MPEG-TS segment of a still.

A still needs its picture coded once: we make a single closed GOP and build the segment by
repeating that GOP's packets with shifted timestamps. (For H.264, x264 codes only the
keyframe and one P-frame that copies it; the rest of the GOP is that copy re-stamped, see
:func:`encode_gop`. MPEG-2 encodes the whole GOP, 2 ms a frame.) Without B-frames decode order is display order, so a GOP
cut short at the end of the segment is still a valid GOP. Silent audio is likewise one
encoded silence frame repeated. Everything is single-threaded and option-pinned so the
same page gives the same bytes on every run and machine (segments are content-addressed).
"""

from __future__ import annotations

import functools
import io
import math
from fractions import Fraction

import av
import numpy as np
from av.container import OutputContainer
from av.stream import Stream

from pusher.errors import PlayoutError

from . import h264
from .mux import MuxSettings, open_ts, packet
from .picture import page_yuv420
from .profiles import COLOUR_CODES, VideoProfile, check_profile

MAX_SECONDS = 3600.0
#: Frames x264 encodes before we check the still has settled (see :func:`encode_gop`).
SETTLE_PROBE = 2
MPEG2_MAX_QSCALE = 12


def video_encoder(profile: VideoProfile, *, probe: bool = False) -> av.VideoCodecContext:
    """A fresh, single-threaded encoder for ``profile`` (x264's output depends on its thread
    count, so it is pinned; parallelism comes from encoding pages in separate processes)."""
    cc = av.CodecContext.create(profile.codec, "w")
    assert isinstance(cc, av.VideoCodecContext)
    cc.width, cc.height, cc.pix_fmt = profile.width, profile.height, profile.pix_fmt
    cc.time_base = Fraction(1, profile.fps)
    cc.framerate = Fraction(profile.fps)
    cc.sample_aspect_ratio = profile.sar
    cc.gop_size = profile.gop
    cc.max_b_frames = 0
    cc.thread_count = 1
    cc.color_range = 1  # MPEG / limited
    cc.color_primaries = COLOUR_CODES[profile.primaries]
    cc.color_trc = COLOUR_CODES[profile.transfer]
    cc.colorspace = COLOUR_CODES[profile.matrix]
    if profile.codec == "mpeg2video":
        cc.qscale = True
        cc.global_quality = round(profile.quality * 118)  # FF_QP2LAMBDA
    cc.options = _video_options(profile, probe)
    return cc


def _video_options(p: VideoProfile, probe: bool) -> dict[str, str]:
    if p.codec == "libx264":
        x264: dict[str, object] = {
            "keyint": p.gop,
            "min-keyint": p.gop,
            "scenecut": 0,
            "bframes": 0,
            "open-gop": 0,
            "threads": 1,
            "ref": 1,  # a still gains nothing from more, and one reference makes settled frames repeatable
            "weightp": 0,
            "aud": 1,  # access unit delimiters: ETSI TS 101 154 wants them in broadcast TS
            "vbv-maxrate": p.max_rate // 1000,
            "vbv-bufsize": p.buffer_bits // 1000,
            "force-cfr": 1,
        }
        if probe:
            # P-frames at the coarsest quantiser: coding any residual costs more than it
            # gains, so x264 skips every macroblock and the first P-frame is an exact copy.
            x264 |= {"zones": f"1,{p.gop - 1},q=51", "rc-lookahead": SETTLE_PROBE}
        return {
            "profile": "high",
            "level": p.h264_level,
            "preset": "medium",
            "tune": "stillimage",
            "crf": f"{p.quality:g}",
            "x264-params": ":".join(f"{k}={v}" for k, v in x264.items()),
        }
    return {
        "flags": "+cgop",
        "sc_threshold": "1000000000",  # no scene cuts: fixed GOPs (and +cgop requires it)
        "maxrate": str(p.max_rate),
        "bufsize": str(p.buffer_bits),
        "intra_vlc": "1",
        "seq_disp_ext": "1",  # carries the colour description
        "video_format": "pal",
    }


def add_audio_stream(out: OutputContainer, profile: VideoProfile, pid: int) -> Stream:
    s = out.add_stream(profile.audio_codec, rate=48_000, layout="stereo")
    s.id = pid
    cc = s.codec_context
    cc.bit_rate = profile.audio_bitrate
    cc.thread_count = 1
    cc.open()  # never fed: it only gives the muxer the stream parameters (AAC's config)
    return s


@functools.cache
def silencepacket(codec: str, bitrate: int) -> tuple[bytes, int]:
    """One encoded frame of stereo digital silence, and its length in 90 kHz ticks."""
    cc = av.CodecContext.create(codec, "w")
    assert isinstance(cc, av.AudioCodecContext)
    cc.sample_rate, cc.layout, cc.bit_rate, cc.thread_count = 48_000, "stereo", bitrate, 1
    cc.format = av.AudioFormat((cc.codec.audio_formats or [av.AudioFormat("s16")])[0].name)
    cc.time_base = Fraction(1, 48_000)
    cc.open()
    frame = av.AudioFrame(format=cc.format.name, layout="stereo", samples=cc.frame_size)
    frame.sample_rate = 48_000
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    packets: list[av.Packet] = []
    for i in range(6):
        frame.pts = i * cc.frame_size
        packets += cc.encode(frame)
    # Past the encoder's priming delay every packet of digital silence is the same frame.
    if len(packets) < 2 or bytes(packets[-1]) != bytes(packets[-2]):
        raise PlayoutError(f"{codec} encoder gives no steady silence frame")
    return bytes(packets[-1]), 90_000 * cc.frame_size // 48_000


def _encode(profile: VideoProfile, yuv: np.ndarray, frames: int, probe: bool = False) -> list[bytes]:
    cc = video_encoder(profile, probe=probe)
    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    packets: list[av.Packet] = []
    for i in range(frames):
        frame.pts = i
        packets += cc.encode(frame)
    packets += cc.encode(None)
    packets.sort(key=lambda p: p.pts or 0)
    if len(packets) != frames or not packets[0].is_keyframe or any(p.is_keyframe for p in packets[1:]):
        raise PlayoutError(f"{profile.codec} gave {len(packets)} packets, not one {frames}-frame GOP")
    return [bytes(p) for p in packets]


def encode_gop(profile: VideoProfile, yuv: np.ndarray, frames: int) -> list[bytes]:
    """The access units of one closed GOP of the still ``yuv``, keyframe first.

    For H.264 only the first few frames go through x264, with P-frames told to code nothing.
    A P-frame that decodes to exactly the keyframe's picture is a pure copy of its reference
    (H.264's integer transform makes that decoder-independent); its reference being the same
    picture again, repeating it keeps the picture, so the rest of the GOP is that frame
    re-stamped, see :mod:`.h264`. If the probe does not give such a frame, x264 encodes the
    whole GOP normally."""
    probe = min(frames, SETTLE_PROBE)
    if profile.codec == "mpeg2video":
        return _encode_mpeg2(profile, yuv, frames)
    if probe < 2:
        return _encode(profile, yuv, frames)
    packets = _encode(profile, yuv, probe, probe=True)
    sps = h264.sps_of(packets[0])
    numbered = all(h264.frame_num_of(au, sps) == i % (1 << sps.log2_max_frame_num) for i, au in enumerate(packets))
    settled = _first_copy(packets) if sps.poc_type == 2 and numbered else None
    if settled is None:
        return _encode(profile, yuv, frames)
    head = packets[: settled + 1]
    return head + [h264.with_frame_num(packets[settled], i, sps) for i in range(len(head), frames)]


def _encode_mpeg2(profile: VideoProfile, yuv: np.ndarray, frames: int) -> list[bytes]:
    """A fixed quantiser does not obey the VBV, so a dense page whose I-frame would overflow
    the Main@Main buffer is coded again one quantiser step coarser."""
    p = profile
    while True:
        packets = _encode(p, yuv, frames)
        if max(len(au) for au in packets) * 8 <= p.buffer_bits * 0.9 or p.quality >= MPEG2_MAX_QSCALE:
            return packets
        p = p.with_(quality=p.quality + 1)


def _first_copy(packets: list[bytes]) -> int | None:
    """Index of the first P-frame whose decoded picture equals the keyframe's."""
    dec = av.CodecContext.create("h264", "r")
    dec.thread_count = 1
    pictures: list[av.VideoFrame] = []
    for data in packets:
        pictures += dec.decode(av.Packet(data))
    pictures += dec.decode(None)
    if len(pictures) != len(packets):
        return None
    planes = [p.to_ndarray() for p in pictures]
    return next((i for i in range(1, len(planes)) if np.array_equal(planes[i], planes[0])), None)


def gop_lengths(frames: int, gop: int) -> list[int]:
    """Split ``frames`` into closed GOPs of at most ``gop`` frames. A last GOP of a single
    frame is avoided (it would put two IDRs back to back at the next join, and H.264 wants
    their ``idr_pic_id`` to differ): the GOP before it gives up a frame instead."""
    lengths = [gop] * (frames // gop) + ([frames % gop] if frames % gop else [])
    if len(lengths) > 1 and lengths[-1] == 1 and gop > 2:
        lengths[-2:] = [gop - 1, 2]
    return lengths


def encode_segment(
    png: bytes, profile: VideoProfile, seconds: float, *, mux: MuxSettings | None = None, page_sar: Fraction = Fraction(1)
) -> bytes:
    """A TS segment showing ``png`` for ``round(seconds * fps)`` frames, with silent stereo.
    ``page_sar``: the page's pixel aspect, when the renderer drew SD for the set (see :func:`fit_page`).

    Timestamps start at :data:`~.mux.FIRST_PTS`; audio covers the video to within half an
    audio frame. ``mux`` sets the PIDs and names (the muxrate does not apply: segments are VBR).
    """
    n = round(seconds * profile.fps) if isinstance(seconds, int | float) and math.isfinite(seconds) else 0
    if not 2 <= n <= MAX_SECONDS * profile.fps:
        raise PlayoutError(f"dwell time {seconds!r} s is outside [{2 / profile.fps:g}, {MAX_SECONDS:g}] s")
    check_profile(profile)
    mux = mux or MuxSettings()
    yuv = page_yuv420(png, profile, page_sar)
    lengths = gop_lengths(n, profile.gop)
    gop = encode_gop(profile, yuv, max(lengths))
    silence, a_ticks = silencepacket(profile.audio_codec, profile.audio_bitrate)
    v_ticks = profile.frame_ticks
    n_audio = max(1, round(n * v_ticks / a_ticks))
    buf = io.BytesIO()
    with open_ts(buf, mux, cbr=False) as out:
        vs = out.add_mux_stream(_MUX_CODEC[profile.codec], rate=profile.fps, width=profile.width, height=profile.height)
        vs.id = mux.video_pid
        aus = add_audio_stream(out, profile, mux.audio_pid)
        a = 0
        i = 0
        for length in lengths:
            for k in range(length):
                t = i * v_ticks
                # Interleave by time so the muxer never holds one stream back for the other.
                while a < n_audio and a * a_ticks <= t:
                    out.mux(packet(silence, aus, a * a_ticks, a_ticks, True))
                    a += 1
                out.mux(packet(gop[k], vs, t, v_ticks, k == 0))
                i += 1
        for rest in range(a, n_audio):
            out.mux(packet(silence, aus, rest * a_ticks, a_ticks, True))
    return buf.getvalue()


_MUX_CODEC = {"libx264": "h264", "mpeg2video": "mpeg2video"}
