"""The watchdog is petted by the scheduler's own heartbeat job: when every worker thread of the
scheduler is stuck, the pets stop (systemd would restart the service) and /healthz says the
scheduler is stuck; when the threads come free, the pets resume."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from daemonkit import Portal, wait_for, write_config

from pusher.config.settings import load_settings
from pusher.daemon.scheduler import Daemon
from pusher.runtime import Runtime


def test_a_stuck_scheduler_stops_petting_the_watchdog(fixture_portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture_portal.add(1)
    address = f"@tvpusher-wd-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:])
    sock.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "600000")  # pets every 0.2 s
    cfg = write_config(tmp_path / "t.toml", portal=fixture_portal, work=tmp_path / "work", headend=tmp_path / "headend")
    rt = Runtime(load_settings(cfg))
    daemon = Daemon(rt)
    pets: list[float] = []

    def listen() -> None:
        while not stop.is_set():
            try:
                if b"WATCHDOG=1" in sock.recv(4096):
                    pets.append(time.monotonic())
            except TimeoutError:
                continue

    stop, hang = threading.Event(), threading.Event()
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    runner = threading.Thread(target=daemon.scheduler.start, daemon=True)  # no signals off the main thread
    runner.start()
    try:
        assert wait_for(lambda: len(pets) >= 3, 10)
        # Every worker thread of the scheduler gets stuck.
        workers = daemon.scheduler._executors["default"]._pool._max_workers
        stuck: list[int] = []

        def hung() -> None:
            stuck.append(1)
            hang.wait(30)

        for i in range(workers):
            daemon.scheduler.add_job(hung, id=f"hang{i}", misfire_grace_time=None)
        assert wait_for(lambda: len(stuck) == workers, 10), "the hanging jobs never all ran"
        stuck_at = time.monotonic() + 0.1  # a pet already on its way may still land
        time.sleep(1.5)
        assert not [t for t in pets if t > stuck_at], "the watchdog was petted by a stuck scheduler"
        age = daemon.beat_age()
        assert age is not None and age >= 1.5
        hang.set()
        assert wait_for(lambda: any(t > stuck_at + 1.5 for t in pets), 5), "the pets did not resume"
    finally:
        hang.set()
        rt.stopping.set()
        daemon.scheduler.shutdown(wait=True)
        stop.set()
        listener.join()
        sock.close()
        rt.close()
