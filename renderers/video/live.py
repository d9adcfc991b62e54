"""Live playout: one long-lived TS muxer, paced in real time, out over UDP or RTP.

The muxer is opened once and fed segment after segment (see :class:`~.splice.Splicer`), so
timestamps, PCR and continuity counters run on across segment joins, loop wraps and version
switches: a box tuned to the stream never sees a gap or a jump. Pacing follows the PCR
clock: with a muxrate each datagram leaves when its bytes are due at that rate; without one
each packet leaves when its timestamp comes round. Either way stream time ``s`` is on screen
at ``start + s + max_delay``.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pusher.errors import PlayoutError

from .mux import MAX_DELAY_US, TS_PACKET, MuxSettings, open_ts
from .splice import SegmentSource, Splicer, read_segment

log = logging.getLogger(__name__)

DATAGRAM = 7 * TS_PACKET  # 1316 bytes: fits an Ethernet MTU with IP/UDP/RTP headers
RTP_MP2T = 33  # RFC 3551 static payload type for MPEG-2 TS


@dataclass(frozen=True)
class AsRun:
    """One line of the as-run log: which segment went out, and when it was on screen."""

    sequence: int  # segments sent since start
    version: int  # bumped by each switch()
    index: int  # position in the current list
    stream_seconds: float
    on_air: float  # wall clock (time.time()) when its first frame is due on screen


class _Stop(Exception):
    pass


class _Sender:
    """The muxer's output file: cuts bytes into datagrams and sends each on time."""

    def __init__(self, url: str, muxrate: int, lead: float, stop: threading.Event) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("udp", "rtp") or not u.hostname or not u.port:
            raise PlayoutError(f"live output {url!r}: expected udp://HOST:PORT or rtp://HOST:PORT")
        try:
            info = socket.getaddrinfo(u.hostname, u.port, type=socket.SOCK_DGRAM)[0]
            self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
            self.addr = info[4]
            if info[0] == socket.AF_INET:  # reach a headend a few routers away if multicast
                self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 16)
        except OSError as e:
            raise PlayoutError(f"live output {url!r}: {e.strerror or e}") from e
        self.rtp = u.scheme == "rtp"
        self.muxrate, self.lead, self.stop = muxrate, lead, stop
        self.buf = bytearray()
        self.sent = self.errors = 0
        self.seq = 0
        self.ssrc = int.from_bytes(hashlib.sha256(url.encode()).digest()[:4], "big")
        self.t0 = time.monotonic()

    def write(self, data: bytes) -> int:
        self.buf += data
        while len(self.buf) >= DATAGRAM:
            self._send(bytes(self.buf[:DATAGRAM]))
            del self.buf[:DATAGRAM]
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.buf:
            self._send(bytes(self.buf))
            self.buf.clear()
        self.sock.close()

    def _send(self, payload: bytes) -> None:
        if self.muxrate and not self.stop.is_set():
            due = self.t0 + self.sent * 8 / self.muxrate - self.lead
            delay = due - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
        if self.rtp:
            ts = int((time.monotonic() - self.t0) * 90_000) & 0xFFFFFFFF
            payload = struct.pack("!BBHII", 0x80, RTP_MP2T, self.seq & 0xFFFF, ts, self.ssrc) + payload
            self.seq += 1
        try:
            self.sock.sendto(payload, self.addr)
        except OSError as e:  # nobody listening yet, a full queue: the stream goes on
            self.errors += 1
            if self.errors in (1, 100, 10_000):
                log.warning("live output: send failed (%s), %d so far", e, self.errors)
        self.sent += len(payload) - (12 if self.rtp else 0)


class LiveStreamer:
    """Stream segments to ``url`` until stopped; :meth:`switch` changes what is played.

    All segments of a session must share one profile (the stream's codec parameters are
    fixed when it starts); a segment of another profile ends :meth:`run` with a
    :class:`PlayoutError`, and the caller starts a new session."""

    def __init__(self, url: str, mux: MuxSettings | None = None, *, lead: float = 0.1) -> None:
        self.url, self.mux, self.lead = url, mux or MuxSettings(), lead
        self._pending: list[SegmentSource] | None = None
        self._lock = threading.Lock()
        self.sent_bytes = 0

    def switch(self, segments: Sequence[SegmentSource]) -> None:
        """Play ``segments`` from the next segment boundary on (thread-safe)."""
        if not segments:
            raise PlayoutError("switch needs at least one segment")
        with self._lock:
            self._pending = list(segments)

    def run(
        self,
        source: Sequence[SegmentSource] | Callable[[], Sequence[SegmentSource]],
        stop: threading.Event,
        on_segment: Callable[[AsRun], None] | None = None,
    ) -> None:
        """Send until ``stop`` is set. ``source`` is the list to loop, or a callable asked for
        the list at the start and at every wrap (so a new version can also come that way)."""
        playlist = list(source() if callable(source) else source)
        if not playlist:
            raise PlayoutError("nothing to stream: the segment list is empty")
        sender = _Sender(self.url, self.mux.muxrate, self.lead, stop)
        wall0 = time.time() + (sender.t0 - time.monotonic())
        index = sequence = version = 0
        splicer: Splicer | None = None

        def pace(ticks: int) -> None:
            if stop.is_set():
                raise _Stop
            if not self.mux.muxrate:  # VBR: hold each packet until its time comes round
                delay = sender.t0 + ticks / 90_000 - self.lead - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    raise _Stop

        try:
            with open_ts(sender, self.mux, cbr=True, buffer_size=DATAGRAM) as out:  # type: ignore[arg-type]
                while not stop.is_set():
                    with self._lock:
                        pending, self._pending = self._pending, None
                    if pending is not None:
                        playlist, index, version = pending, 0, version + 1
                    elif index >= len(playlist):
                        playlist, index = (list(source()) or playlist) if callable(source) else playlist, 0
                    seg = read_segment(playlist[index])  # parsed once, then cached
                    splicer = splicer or Splicer(out, seg, self.mux)
                    start = splicer.video_next / 90_000
                    if on_segment:
                        on_segment(AsRun(sequence, version, index, start, wall0 + start + MAX_DELAY_US / 1e6))
                    try:
                        splicer.append(seg, pace)
                    except _Stop:
                        break
                    index += 1
                    sequence += 1
        except OSError as e:
            raise PlayoutError(f"live output {self.url}: {e.strerror or e}") from e
        finally:
            self.sent_bytes = sender.sent
            sender.close()
