"""The daemon under systemd's eyes: a fake ``NOTIFY_SOCKET`` (a unix datagram socket this test
binds, in the abstract namespace as systemd's often is) hears READY, WATCHDOG and STOPPING;
the health endpoint of the running daemon answers."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from daemonkit import Portal, manifest_items, start_daemon, wait_for, write_config

from pusher.daemon.notify import notify, watchdog_interval


def _listen(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(0.2)
    return sock


def _drain(sock: socket.socket, into: list[str]) -> list[str]:
    while True:
        try:
            into.append(sock.recv(4096).decode())
        except TimeoutError:
            return into


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_daemon_notifies_ready_watchdog_stopping_and_serves_health(fixture_portal: Portal, tmp_path: Path) -> None:
    fixture_portal.add(3)
    address = f"@tvpusher-test-{uuid.uuid4().hex}"
    sock = _listen(address)
    port = _free_port()
    headend = tmp_path / "headend"
    cfg = write_config(tmp_path / "t.toml", portal=fixture_portal, work=tmp_path / "work", headend=headend, health=f"127.0.0.1:{port}",
                       daemon={"heartbeat": 5.0})  # fmt: skip
    # systemd's WatchdogSec=1.5s: the daemon must pet more often than its configured heartbeat.
    d = start_daemon(cfg, tmp_path / "d.log", env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1500000"})
    got: list[str] = []
    try:
        assert wait_for(lambda: any("READY=1" in m for m in _drain(sock, got)), 30), d.text()
        assert wait_for(lambda: sum("WATCHDOG=1" in m for m in _drain(sock, got)) >= 4, 10), got
        # Read on as systemd does: a queue left full (ten datagrams) drops what comes next.
        assert wait_for(lambda: _drain(sock, got) and len(manifest_items(headend)) == 3, 30), d.text()
        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200, health.text
        assert health.json() == {"ok": True, "problems": []}
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'tvpusher_items{state="published"} 3.0' in metrics
        assert 'tvpusher_source_polls_total{source="notices"}' in metrics
        assert "tvpusher_render_seconds_per_page_count" in metrics
        assert 'tvpusher_push_bytes_total{target="headend"}' in metrics
        assert "tvpusher_leader 1.0" in metrics
        assert httpx.get(f"{base}/nope", timeout=10).status_code == 404
        _drain(sock, got)
        assert d.stop() == 0, d.text()
        _drain(sock, got)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        sock.close()
    ready = next(i for i, m in enumerate(got) if "READY=1" in m)
    stopping = next(i for i, m in enumerate(got) if "STOPPING=1" in m)
    assert ready < stopping
    beats = [json.loads(line) for line in d.text().splitlines() if line.startswith("{")]
    assert any(e.get("event") == "ready" for e in beats)


@pytest.mark.parametrize("abstract", [False, True])
def test_notify_is_one_datagram_to_a_path_or_an_abstract_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, abstract: bool) -> None:
    address = f"@tvpusher-unit-{uuid.uuid4().hex}" if abstract else str(tmp_path / "n.sock")
    sock = _listen(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    try:
        assert notify("READY=1", "STATUS=scheduler running")
        assert sock.recv(4096) == b"READY=1\nSTATUS=scheduler running"
    finally:
        sock.close()
    assert not notify("WATCHDOG=1"), "nobody listens any more: reported, not raised"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not notify("READY=1"), "outside systemd a no-op"


def test_watchdog_interval_is_systemds_and_only_for_its_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert watchdog_interval() is None
