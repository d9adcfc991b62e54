"""SIGTERM while the daemon is still starting (its store is busy, the scheduler not yet running):
the daemon must still drain and exit 0, not ignore the signal and run on until it is killed."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from daemonkit import Portal, start_daemon, wait_for, write_config

from pusher.store.db import Store


def catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def test_sigterm_during_startup_stops_the_daemon(fixture_portal: Portal, tmp_path: Path) -> None:
    work = tmp_path / "work"
    cfg = write_config(tmp_path / "t.toml", portal=fixture_portal, work=work, headend=tmp_path / "headend")
    db = work / "tvpusher.db"
    store = Store(f"sqlite:///{db}")
    store.migrate()
    store.dispose()
    # Another writer holds the database: the daemon's start-up (handing back old claims) waits.
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    d = start_daemon(cfg, tmp_path / "d.log")
    try:
        assert wait_for(lambda: catches_sigterm(d.proc.pid), 30, every=0.01), d.text()[-3000:]
        d.proc.send_signal(signal.SIGTERM)
        lock.execute("COMMIT")
        lock.close()
        assert d.proc.wait(20) == 0, d.text()[-3000:]
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    log = d.text()
    assert "daemon stopped" in log and "Traceback" not in log, log[-3000:]
