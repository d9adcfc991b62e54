"""WebDAV connections (issue 19): a push keeps its connections alive across requests, one per
uploading thread, and a kept-alive connection the headend closed is opened again."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from targetkit import PASSWORD, USER, Channel, DeployNginx, check_headend, make_runtime, page_bytes

from pusher.registry import TARGETS
from pusher.stages.outbox import deliver


class Dav(ThreadingHTTPServer):
    """PUT, GET, HEAD, MOVE and DELETE in memory (no listing: GET assets/ is a 404), over HTTP/1.1 keep-alive;
    counts the connections it accepted and the requests on each."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.connections = 0
        self.requests = 0
        self.close_after: int | None = None  # close every connection after this many requests
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Dav

    def setup(self) -> None:
        super().setup()
        self.served = 0
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", *, head: bool = False) -> None:
        self.served += 1
        with self.server.lock:
            self.server.requests += 1
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if self.server.close_after is not None and self.served >= self.server.close_after:
            # Closed without saying so, as a server whose keep-alive timeout ran out does.
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_PUT(self) -> None:
        n = int(self.headers["Content-Length"])
        self.server.files[self.path.lstrip("/")] = self.rfile.read(n)
        self._answer(201)

    def do_GET(self) -> None:
        data = self.server.files.get(self.path.lstrip("/"))
        self._answer(404) if data is None else self._answer(200, data)

    def do_HEAD(self) -> None:
        data = self.server.files.get(self.path.lstrip("/"))
        self._answer(404, head=True) if data is None else self._answer(200, data, head=True)

    def do_MOVE(self) -> None:
        src = self.path.lstrip("/")
        dst = self.headers["Destination"].removeprefix(self.server.url)
        self.server.files[dst] = self.server.files.pop(src)
        self._answer(201)

    def do_DELETE(self) -> None:
        self.server.files.pop(self.path.lstrip("/"), None)
        self._answer(204)


@pytest.fixture
def dav() -> Iterator[Dav]:
    srv = Dav()
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _push(dav: Dav, tmp_path: Path, connections: int) -> tuple[int, int]:
    opts = {"url": dav.url, "verify": "sha256", "connections": connections, "precheck": False, "listing": "json"}
    rt = make_runtime(tmp_path / "work", [{"name": "dav", "kind": "webdav", "options": opts}])
    try:
        ch = Channel(rt)
        for i in range(20):
            ch.set(f"i{i}", page_bytes(f"i{i}a", 5000), page_bytes(f"i{i}b", 7000))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done", r.error
        assert r.files == 40 + 2 + 1
    finally:
        rt.close()
    check_headend(dav.files.get, sorted(n for n in dav.files if n.startswith("assets/")), version=1)
    return dav.connections, dav.requests


@pytest.mark.parametrize("connections", [1, 4])
def test_a_push_keeps_its_connections_alive(dav: Dav, tmp_path: Path, connections: int) -> None:
    opened, requests = _push(dav, tmp_path, connections)
    # Every asset PUT and read back (84 requests and the manifest's): over at most one
    # connection per uploading thread, and one for the manifest and what follows it.
    assert requests > 80
    assert opened <= connections + 1, f"{opened} connections for {requests} requests"


def test_a_connection_the_headend_closed_is_opened_again(dav: Dav, tmp_path: Path) -> None:
    dav.close_after = 3
    opened, requests = _push(dav, tmp_path, 2)
    assert requests > 80 and opened >= requests // 3  # closed every third request, and the push went on


def test_every_request_of_one_thread_goes_over_one_connection(dav: Dav) -> None:
    t = TARGETS.get("webdav").factory("w", TARGETS.validate_options("webdav", {"url": dav.url}))
    try:
        for i in range(10):
            t.put(f"assets/{i}.png", bytes([i]) * 100)  # PUT and GET (the sha256 read-back)
        assert t.read("assets/3.png") == bytes([3]) * 100
    finally:
        t.close()
    assert (dav.connections, dav.requests) == (1, 21)


def test_the_shipped_nginx_takes_a_push_at_full_speed_and_still_limits_strangers(deployed: DeployNginx, tmp_path: Path) -> None:
    """deploy/nginx-webdav.conf refused (503) a push past 200 requests: its limit of 50 a second
    per address held the pusher too. Strangers are still held to it."""
    opts = {"url": deployed.url, "username": USER, "password": PASSWORD}
    rt = make_runtime(tmp_path / "work", [{"name": "dav", "kind": "webdav", "options": opts}])
    try:
        ch = Channel(rt)
        for i in range(200):
            ch.set(f"i{i}", page_bytes(f"i{i}a", 3000), page_bytes(f"i{i}b", 4000))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done", r.error
    finally:
        rt.close()
    assert not [q for q in deployed.requests() if q.status == 503]
    conn = http.client.HTTPConnection("127.0.0.1", deployed.port, timeout=10)
    statuses = set()
    for _ in range(1000):  # far faster than 50 a second, on one kept-alive connection
        conn.request("GET", "/channel/channel.xml")
        resp = conn.getresponse()
        resp.read()
        statuses.add(resp.status)
        if 503 in statuses:
            break
    conn.close()
    assert 503 in statuses, statuses
