"""MPEG-TS multiplex settings and the one place an FFmpeg ``mpegts`` muxer is opened.

Segments, loops and the live stream all go through :func:`open_ts`, so they carry the same
PIDs, service and provider names and timestamp conventions; a segment cut from a loop looks
like the loop, and the headend sees one unchanging programme whatever produced the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any

import av
from av.container import OutputContainer
from av.stream import Stream

from pusher.errors import PlayoutError

TS_PACKET = 188
NULL_PID = 0x1FFF

#: How far a packet may arrive ahead of its decode time (T-STD buffering), in µs.
MAX_DELAY_US = 700_000
#: We hand the muxer timestamps from 0; it writes them 2 × ``max_delay`` later (1.4 s, as
#: FFmpeg's own TS output), with the first PCR ``max_delay`` before the first DTS. (With
#: ``mpegts_copyts`` a CBR muxer starts its PCR *at* the first DTS: the first frames would
#: arrive after they are due.)
FIRST_PTS = 2 * MAX_DELAY_US * 9 // 100


@dataclass(frozen=True)
class MuxSettings:
    """The programme as the headend sees it. ``muxrate`` > 0 makes the output constant bit
    rate, padded with null packets (PID 0x1FFF); 0 leaves it variable. The PCR rides on the
    video PID, as most headends expect."""

    service_id: int = 1
    pmt_pid: int = 0x1000
    video_pid: int = 0x100
    audio_pid: int = 0x101
    service_name: str = "永康数字电视政务频道"
    provider_name: str = "永康市融媒体中心"
    muxrate: int = 0

    def __post_init__(self) -> None:
        pids = {"pmt_pid": self.pmt_pid, "video_pid": self.video_pid, "audio_pid": self.audio_pid}
        for key, pid in pids.items():
            # 0x00-0x0F are reserved (PAT, CAT, NIT, SDT…), 0x1FFF is null.
            if not 0x10 <= pid < NULL_PID:
                raise PlayoutError(f"mux {key} {pid:#x} is outside 0x0010-0x1FFE")
        if len(set(pids.values())) != 3:
            raise PlayoutError("mux PIDs must differ: PMT, video and audio each need their own")
        if not 1 <= self.service_id <= 0xFFFF:
            raise PlayoutError(f"mux service_id {self.service_id} is outside 1-65535")
        if self.muxrate < 0 or 0 < self.muxrate < 500_000:
            raise PlayoutError(f"mux muxrate {self.muxrate} bit/s is too low for a TV service (0 = VBR)")
        for key, text in (("service_name", self.service_name), ("provider_name", self.provider_name)):
            # The SDT descriptor length is one byte: selector + UTF-8 must fit in 255.
            if not text or len(text.encode()) > 250:
                raise PlayoutError(f"mux {key} must be 1-250 bytes of UTF-8")


def open_ts(file: IO[bytes] | str, mux: MuxSettings, *, cbr: bool, buffer_size: int | None = None) -> OutputContainer:
    """An ``mpegts`` output on ``file``; timestamps given from 0 come out from :data:`FIRST_PTS`."""
    options = {
        "mpegts_service_id": str(mux.service_id),
        "mpegts_pmt_start_pid": str(mux.pmt_pid),
        # Stream PIDs come from each stream's id (see add_streams); this only keeps the
        # muxer's fallback away from the PMT.
        "mpegts_start_pid": str(min(mux.video_pid, mux.audio_pid)),
        "max_delay": str(MAX_DELAY_US),
    }
    if cbr and mux.muxrate:
        options["muxrate"] = str(mux.muxrate)
    kwargs: dict[str, Any] = {"format": "mpegts", "options": options}
    if buffer_size:
        kwargs["buffer_size"] = buffer_size
    try:
        out = av.open(file, "w", **kwargs)
    except OSError as e:
        raise PlayoutError(f"cannot open TS output {file if isinstance(file, str) else '(stream)'}: {e}") from e
    assert isinstance(out, OutputContainer)
    out.metadata["service_name"] = mux.service_name
    out.metadata["service_provider"] = mux.provider_name
    return out


#: The 90 kHz clock of MPEG-TS timestamps, the time base of every packet we mux.
TICKS = Fraction(1, 90_000)


def packet(data: bytes, stream: Stream, ticks: int, duration: int, key: bool) -> av.Packet:
    """A coded frame as a packet of ``stream`` at ``ticks`` (pts = dts: no B-frames)."""
    pkt = av.Packet(data)
    pkt.stream = stream
    pkt.time_base = TICKS
    pkt.pts = pkt.dts = ticks
    pkt.duration = duration
    pkt.is_keyframe = key
    return pkt
