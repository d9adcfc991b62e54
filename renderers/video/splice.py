"""Joining encoded segments on one clock, without re-encoding.

Every segment starts at its own :data:`~.mux.FIRST_PTS` (so it can be cached by content).
A :class:`Splicer` owns one output muxer and lays segments end to end: video frames on a
continuous grid, audio continuing from where it stopped. Audio and video frame lengths do not
divide each other (40 ms vs 24 or 21.3 ms), so at each join the audio is cut or extended by
whole frames to stay within half an audio frame of the video; the audio being silence (each
frame the same, see :func:`~.encode.silence_packet`), that is seamless.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import av
from av.container import OutputContainer
from av.stream import Stream

from pusher.errors import PlayoutError

from .mux import TICKS, MuxSettings, packet

SegmentSource = Union[bytes, str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Segment:
    """A demuxed segment: access units in decode order (= display order: no B-frames)."""

    video: tuple[tuple[bytes, bool], ...]  # (data, is keyframe)
    audio: tuple[bytes, ...]
    frame_ticks: int
    audio_ticks: int
    codecs: tuple[str, str]
    shape: tuple[int, int]
    template: bytes  # the segment's first bytes, to copy stream parameters from

    @property
    def ticks(self) -> int:
        return len(self.video) * self.frame_ticks


#: Audio frame lengths the splice knows (48 kHz AAC, MP2), in 90 kHz ticks. Without full
#: stream probing FFmpeg hands back whole PES packets of many frames, so probing stays on.
AUDIO_FRAME_TICKS = {"aac": 1920, "mp2": 2160}
_CACHE: OrderedDict[tuple[object, ...], Segment] = OrderedDict()
_CACHE_SIZE = 512
_CACHE_LOCK = threading.Lock()
TEMPLATE_BYTES = 1 << 20


def read_segment(src: SegmentSource) -> Segment:
    """Demux one segment written by :func:`~.encode.encode_segment` (one video stream at a
    constant frame rate, one 48 kHz AAC or MP2 stream). Rebuilding a loop after one page
    changed reads only that page's segment again: parsed segments are kept, keyed by content
    (bytes) or by path, size and mtime, with identical packets stored once (a still's
    segment is one GOP repeated, so that is a few hundred KB)."""
    data: bytes | None = None
    if isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
        key: tuple[object, ...] = ("bytes", hashlib.sha256(data).digest())
        name = f"({len(data)} bytes)"
    else:
        name = os.fspath(src)
        try:
            st = os.stat(name)
        except OSError as e:
            raise PlayoutError(f"cannot read segment {name}: {e.strerror or e}") from e
        key = ("path", os.path.realpath(name), st.st_mtime_ns, st.st_size, st.st_ino)
    with _CACHE_LOCK:
        seg = _CACHE.get(key)
    if seg is None:
        if data is None:
            try:
                with open(name, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise PlayoutError(f"cannot read segment {name}: {e.strerror or e}") from e
        seg = _demux(data, name)
    with _CACHE_LOCK:  # the pipeline encodes in threads and may loop while a live stream reads
        _CACHE[key] = seg
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return seg


def _demux(data: bytes, name: str) -> Segment:
    unique: dict[bytes, bytes] = {}
    try:
        with av.open(io.BytesIO(data), "r", format="mpegts") as inp:
            vs = next((s for s in inp.streams if s.type == "video"), None)
            aus = next((s for s in inp.streams if s.type == "audio"), None)
            if vs is None or aus is None:
                raise PlayoutError(f"segment {name}: needs one video and one audio stream")
            video: list[tuple[int, bytes, bool]] = []
            audio: list[tuple[int, bytes]] = []
            for pkt in inp.demux(vs, aus):
                if pkt.size == 0 or pkt.dts is None:
                    continue
                payload = bytes(pkt)
                payload = unique.setdefault(payload, payload)
                if pkt.stream is vs:
                    video.append((pkt.dts, payload, pkt.is_keyframe))
                else:
                    audio.append((pkt.dts, payload))
            codecs = (vs.codec_context.name, aus.codec_context.name)
            shape = (vs.codec_context.width, vs.codec_context.height)  # type: ignore[attr-defined]
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise PlayoutError(f"segment {name} is not a readable MPEG-TS: {e}") from e
    if len(video) < 2 or not audio or not video[0][2]:
        raise PlayoutError(f"segment {name}: too short or does not start with a keyframe")
    audio_ticks = _step(name, [t for t, _ in audio]) if len(audio) > 1 else AUDIO_FRAME_TICKS.get(codecs[1], 0)
    if audio_ticks != AUDIO_FRAME_TICKS.get(codecs[1]):
        raise PlayoutError(f"segment {name}: audio is not 48 kHz AAC or MP2 in single frames ({codecs[1]}, {audio_ticks} ticks)")
    return Segment(
        video=tuple((d, k) for _, d, k in video),
        audio=tuple(d for _, d in audio),
        frame_ticks=_step(name, [t for t, _, _ in video]),
        audio_ticks=audio_ticks,
        codecs=codecs,
        shape=shape,
        template=data[:TEMPLATE_BYTES],
    )


def _step(name: str, times: list[int]) -> int:
    steps = {b - a for a, b in itertools.pairwise(times)}
    if len(steps) != 1 or min(steps) <= 0:
        raise PlayoutError(f"segment {name}: frames are not evenly spaced ({sorted(steps)[:4]} ticks)")
    return steps.pop()


class Splicer:
    """Lays segments end to end into one muxer, which stays open across segments (so the
    continuity counters and the PCR never jump, whatever is appended next)."""

    def __init__(self, out: OutputContainer, first: Segment, mux: MuxSettings) -> None:
        self.out = out
        self.kind = (first.codecs, first.shape, first.frame_ticks, first.audio_ticks)
        with av.open(io.BytesIO(first.template), "r", format="mpegts") as inp:
            v_in = next(s for s in inp.streams if s.type == "video")
            a_in = next(s for s in inp.streams if s.type == "audio")
            self.vs: Stream = out.add_stream_from_template(v_in)
            self.aus: Stream = out.add_stream_from_template(a_in)
        self.vs.id, self.aus.id = mux.video_pid, mux.audio_pid
        self.vs.time_base = self.aus.time_base = TICKS
        self.video_next = 0  # pts of the next video frame
        self.audio_next = 0
        self.frames = 0
        self._before: Callable[[int], None] | None = None

    def append(self, seg: Segment, before: Callable[[int], None] | None = None) -> int:
        """Mux ``seg`` after what came before; returns the (0-based) tick it starts at.

        ``before(ticks)`` is called ahead of each packet with its timestamp: the live
        streamer paces there, and may raise to abandon the segment part-way."""
        self._before = before
        kind = (seg.codecs, seg.shape, seg.frame_ticks, seg.audio_ticks)
        if kind != self.kind:
            raise PlayoutError(f"segment {kind[0]} {kind[1]} does not match the stream's {self.kind[0]} {self.kind[1]}")
        start = self.video_next
        end = start + seg.ticks
        n_audio = max(0, round((end - self.audio_next) / seg.audio_ticks))
        audio = self._audio_packets(seg, n_audio)
        a = 0
        for i, (data, key) in enumerate(seg.video):
            t = start + i * seg.frame_ticks
            while a < n_audio and self.audio_next <= t:
                self._mux(self.aus, audio[a], self.audio_next, seg.audio_ticks, True)
                self.audio_next += seg.audio_ticks
                a += 1
            self._mux(self.vs, data, t, seg.frame_ticks, key)
        for rest in audio[a:]:
            self._mux(self.aus, rest, self.audio_next, seg.audio_ticks, True)
            self.audio_next += seg.audio_ticks
        self.video_next = end
        self.frames += len(seg.video)
        return start

    @staticmethod
    def _audio_packets(seg: Segment, n: int) -> list[bytes]:
        packets = list(seg.audio[:n])
        return packets + [seg.audio[-1]] * (n - len(packets))

    def _mux(self, stream: Stream, data: bytes, ticks: int, duration: int, key: bool) -> None:
        if self._before is not None:
            self._before(ticks)
        self.out.mux(packet(data, stream, ticks, duration, key))
