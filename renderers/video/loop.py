"""A channel loop: cached segments remuxed into one continuous MPEG-TS, never re-encoded.

The loop is what a playout server plays on repeat, so it must be whole or absent: it is
written under a temporary name beside the target and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import av

from pusher.errors import PlayoutError

from .mux import TS_PACKET, MuxSettings, open_ts
from .splice import SegmentSource, Splicer, read_segment


@dataclass(frozen=True)
class LoopInfo:
    """What was written: ``starts`` are each segment's offset into the loop, in seconds."""

    duration: float
    bytes: int
    segments: int
    frames: int
    starts: tuple[float, ...]
    muxrate: int

    @property
    def bitrate(self) -> float:
        """Average bits per second of the whole file (≈ ``muxrate`` when CBR)."""
        return self.bytes * 8 / self.duration if self.duration else 0.0


class _Counting:
    """Counts what reaches the file and keeps its last bytes (for :func:`_pad_cbr`)."""

    TAIL = 512 * 1024

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.written, self.tail = f, 0, bytearray()

    def write(self, data: bytes) -> int:
        n = self.f.write(data)
        self.written += len(data)
        self.tail += data
        if len(self.tail) > 2 * self.TAIL:
            del self.tail[: len(self.tail) - self.TAIL]
        return n if n is not None else len(data)

    def flush(self) -> None:
        self.f.flush()


def _mux_all(segments: Sequence[SegmentSource], sink: IO[bytes], mux: MuxSettings) -> LoopInfo:
    if not segments:
        raise PlayoutError("a loop needs at least one segment")
    counting = _Counting(sink)
    first = read_segment(segments[0])
    starts = []
    with open_ts(counting, mux, cbr=True) as out:  # type: ignore[arg-type]
        splicer = Splicer(out, first, mux)
        for i, src in enumerate(segments):
            seg = first if i == 0 else read_segment(src)
            starts.append(splicer.append(seg))
        end = splicer.video_next
    t0 = starts[0]
    if mux.muxrate:
        _pad_cbr(counting, end - t0, mux)
    return LoopInfo(
        duration=(end - t0) / 90_000,
        bytes=counting.written,
        segments=len(segments),
        frames=splicer.frames,
        starts=tuple((s - t0) / 90_000 for s in starts),
        muxrate=mux.muxrate,
    )


def build_loop(segments: Sequence[SegmentSource], out: str | os.PathLike[str] | IO[bytes], mux: MuxSettings | None = None) -> LoopInfo:
    """Remux ``segments`` (bytes or paths of TS segments of one profile) into one TS.

    ``out`` is a path (written atomically) or a binary file object. With ``mux.muxrate`` set
    the loop is constant bit rate, padded with null packets."""
    mux = mux or MuxSettings()
    if not isinstance(out, str | os.PathLike):
        try:
            return _mux_all(segments, out, mux)
        except (OSError, av.FFmpegError) as e:
            raise PlayoutError(f"cannot write the loop: {_reason(e)}") from e
    target = Path(out)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(name)
        os.fchmod(fd, 0o644)  # mkstemp makes 0600: a playout server under another user must read the loop
        with os.fdopen(fd, "wb") as f:
            info = _mux_all(segments, f, mux)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        return info
    except (OSError, av.FFmpegError) as e:
        raise PlayoutError(f"cannot write the loop {target}: {_reason(e)}") from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _reason(e: BaseException) -> str:
    # FFmpeg reports a failed custom write as a generic I/O error; the Python one is the cause.
    cause = e.__cause__ or e.__context__
    if isinstance(e, av.FFmpegError) and isinstance(cause, OSError):
        e = cause
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)


def _pad_cbr(sink: _Counting, ticks: int, mux: MuxSettings) -> None:
    """Make a CBR loop exactly ``ticks`` long in bytes at the muxrate.

    The muxer stops when the last frame is written, which in CBR is ``max_delay`` before that
    frame is due; a server sending the file on repeat at the muxrate would then start the
    next pass early and the PCR would jump at every wrap. So the file is topped up with null
    packets (and PCR-only packets on the PCR PID every 20 ms, continuing the muxer's clock)
    until its length is the content's duration at the muxrate."""
    target = round(ticks * mux.muxrate / (90_000 * 8 * TS_PACKET)) * TS_PACKET
    short = target - sink.written
    if short < 0:
        need = sink.written * 8 * 90_000 // ticks
        raise PlayoutError(f"muxrate {mux.muxrate} bit/s is too low for these segments (they need about {need} bit/s)")
    last = _last_pcr(bytes(sink.tail), sink.written, mux.video_pid)
    if last is None:
        raise PlayoutError("the CBR loop carries no PCR to continue (is the video PID right?)")
    pcr_pos, pcr, cc = last
    every = max(1, round(0.02 * mux.muxrate / (8 * TS_PACKET)))
    null = bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * (TS_PACKET - 4)
    out = bytearray()
    for i in range(short // TS_PACKET):
        pos = sink.written + len(out)
        if i % every == 0:
            at = pcr + (pos - pcr_pos) * 8 * 27_000_000 // mux.muxrate
            out += _pcr_packet(mux.video_pid, cc, at)
        else:
            out += null
    sink.write(bytes(out))


def _last_pcr(tail: bytes, written: int, pid: int) -> tuple[int, int, int] | None:
    """(file position, PCR in 27 MHz, continuity counter) of the last PCR on ``pid``."""
    start = written - len(tail)
    skip = (-start) % TS_PACKET  # the tail may begin mid-packet
    found = None
    for i in range(skip, len(tail) - TS_PACKET + 1, TS_PACKET):
        p = tail[i : i + TS_PACKET]
        if ((p[1] & 0x1F) << 8 | p[2]) != pid or not p[3] & 0x20 or p[4] < 7 or not p[5] & 0x10:
            continue
        base = int.from_bytes(p[6:11], "big") >> 7
        ext = int.from_bytes(p[10:12], "big") & 0x1FF
        found = (start + i, base * 300 + ext, p[3] & 0x0F)
    return found


def _pcr_packet(pid: int, cc: int, pcr: int) -> bytes:
    # Adaptation field only: no payload, so the continuity counter stays where it was.
    base, ext = (pcr // 300) % (1 << 33), pcr % 300
    field = bytes([183, 0x10]) + ((base << 15) | (0x3F << 9) | ext).to_bytes(6, "big")
    return bytes([0x47, (pid >> 8) & 0x1F, pid & 0xFF, 0x20 | cc]) + field + b"\xff" * (TS_PACKET - 4 - len(field))
