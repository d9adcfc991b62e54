"""Live playout over UDP/RTP on 127.0.0.1, captured by a plain socket (and by an FFmpeg
receiver), judged by ffprobe/ffmpeg: a switch of version mid-stream leaves no trace."""

from __future__ import annotations

import itertools
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pusher.errors import PlayoutError
from renderers.video import PROFILES, AsRun, LiveStreamer, MuxSettings, encode_segment

from .conftest import continuity_errors, decode_errors, expected_luma, luma_at, make_page, needs_ffmpeg, psnr, video_frames

pytestmark = needs_ffmpeg


class _Capture:
    """Datagrams to a local port, kept in arrival order."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        # Stops only on a quiet spell after close(): what is still queued is kept.
        while True:
            try:
                self.datagrams.append(self.sock.recv(65536))
            except TimeoutError:
                if self.done.is_set():
                    return

    def close(self) -> bytes:
        self.done.set()
        self.thread.join(5)
        self.sock.close()
        return b"".join(self.datagrams)


@pytest.fixture
def capture() -> Iterator[_Capture]:
    c = _Capture()
    yield c
    c.done.set()


def _stream(url: str, mux: MuxSettings, first: list[bytes], then: list[bytes] | None, switch_at: float, stop_at: float) -> list[AsRun]:
    streamer = LiveStreamer(url, mux)
    stop = threading.Event()
    log: list[AsRun] = []
    t = threading.Thread(target=streamer.run, args=(first, stop, log.append), daemon=True)
    t.start()
    if then:
        time.sleep(switch_at)
        streamer.switch(then)
    time.sleep(stop_at - (switch_at if then else 0))
    stop.set()
    t.join(5)
    assert not t.is_alive(), "the streamer did not stop on its stop event"
    return log


def test_live_udp_switch_of_version_is_seamless(tmp_path: Path, capture: _Capture) -> None:
    pages_a = [make_page(1280, 720, i) for i in range(3)]
    pages_b = [make_page(1280, 720, 10 + i) for i in range(2)]
    a = [encode_segment(p, PROFILES["hd"], 2.0) for p in pages_a]
    b = [encode_segment(p, PROFILES["hd"], 2.0) for p in pages_b]
    started = time.time()
    log = _stream(f"udp://127.0.0.1:{capture.port}", MuxSettings(muxrate=3_000_000), a, b, 3.0, 8.0)
    data = capture.close()
    path = tmp_path / "capture.ts"
    path.write_bytes(data)
    assert all(len(d) == 1316 for d in capture.datagrams[:-1]), "datagrams are not 7 TS packets"
    assert continuity_errors(data) == []
    assert decode_errors(path) == ""
    pts = [int(f["pts"]) for f in video_frames(path)]
    assert len(pts) >= 6 * 25 and all(b - a == 3600 for a, b in itertools.pairwise(pts)), "video pts jump"
    # Real time: 8 s of sending carries about 8 s of stream (plus the mux delay ahead).
    assert 7 * 25 <= len(pts) <= 9.5 * 25
    # The switch took effect at a segment boundary after it was asked for (t = 3 s).
    versions = [(r.version, r.index, r.stream_seconds) for r in log]
    assert versions[:2] == [(0, 0, 0.0), (0, 1, 2.0)]
    switched = next(r for r in log if r.version == 1)
    assert switched.index == 0 and switched.stream_seconds in (2.0, 4.0)
    assert abs(log[0].on_air - started - 0.7) < 0.5
    seen = set()
    duration = len(pts) / 25
    for r in log:
        mid = r.stream_seconds + 1.0
        if mid > duration - 0.2:
            continue
        png = (pages_a if r.version == 0 else pages_b)[r.index]
        assert psnr(luma_at(path, mid, 1280, 720), expected_luma(png, 1280, 720, "bt709")) >= 35, r
        seen.add(r.version)
    assert seen == {0, 1}


def test_live_rtp_headers_and_payload(tmp_path: Path, capture: _Capture) -> None:
    seg = [encode_segment(make_page(720, 576, 0), PROFILES["sd"], 1.0)]
    _stream(f"rtp://127.0.0.1:{capture.port}", MuxSettings(), seg, None, 0, 2.5)
    capture.close()
    grams = capture.datagrams
    assert len(grams) > 20
    heads = [struct.unpack("!BBHII", g[:12]) for g in grams]
    assert {(h[0], h[1]) for h in heads} == {(0x80, 33)}
    assert [h[2] for h in heads] == list(range(heads[0][2], heads[0][2] + len(heads)))
    assert all(b[3] >= a[3] for a, b in itertools.pairwise(heads)) and len({h[4] for h in heads}) == 1
    assert all((len(g) - 12) % 188 == 0 for g in grams)
    path = tmp_path / "rtp.ts"
    path.write_bytes(b"".join(g[12:] for g in grams))
    assert continuity_errors(path.read_bytes()) == [] and decode_errors(path) == ""
    assert len(video_frames(path)) >= 40


def test_live_vbr_to_an_ffmpeg_receiver(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "ffmpeg.ts"
    receiver = subprocess.Popen(
        # timeout=: the receiver ends 1.5 s after the stream does (reporting an I/O error).
        ["ffmpeg", "-nostdin", "-v", "error", "-i", f"udp://127.0.0.1:{port}?fifo_size=100000&overrun_nonfatal=1&timeout=1500000",
         "-c", "copy", "-f", "mpegts", "-y", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        segs = [encode_segment(make_page(1280, 720, i), PROFILES["hd"], 1.0) for i in range(2)]
        _stream(f"udp://127.0.0.1:{port}", MuxSettings(), segs, None, 0, 4.0)
        _, err = receiver.communicate(timeout=15)
    finally:
        receiver.kill()
    assert receiver.returncode == 0, err
    assert decode_errors(out) == ""
    assert len(video_frames(out)) >= 75


def test_live_refuses_bad_targets_and_empty_lists() -> None:
    stop = threading.Event()
    with pytest.raises(PlayoutError, match="expected udp"):
        LiveStreamer("http://127.0.0.1:1").run([b"x"], stop)
    with pytest.raises(PlayoutError, match="empty"):
        LiveStreamer("udp://127.0.0.1:9").run([], stop)
    with pytest.raises(PlayoutError, match="at least one"):
        LiveStreamer("udp://127.0.0.1:9").switch([])
