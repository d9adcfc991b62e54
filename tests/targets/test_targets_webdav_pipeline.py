"""WebDAV read-back pipelining and the HTTP/1.1 framing of ``pusher/targets/http1.py`` (issue 19).

A raw socket server (:class:`Raw`) stands in for the headend, so a test sees what the client
wrote before it was answered, and can answer with bytes no ``http.server`` would produce:
chunked bodies with extensions and trailers, interim 100 answers, a close without warning.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from pusher.errors import TargetError
from pusher.registry import TARGETS
from pusher.targets.webdav import WebDavTarget


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    ahead: bytes  # what the client had already sent past this request when it was complete
    connection: int


@dataclass
class Raw:
    """Stores PUT bodies and answers GET with them; ``answer(seen)`` may return raw answer bytes
    instead (or ``b""`` to close the connection without a word)."""

    answer: Callable[[Seen], bytes | None] = lambda seen: None
    hang_up: bool = False  # close every connection after its first answer
    files: dict[str, bytes] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ")
                length = next((int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k.lower() == "content-length"), 0)
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                seen = Seen(method, path, body, buf, number)
                self.seen.append(seen)
                out = self.answer(seen)
                if out is None:
                    out = self._default(seen)
                if not out:
                    return  # closed without a word
                conn.sendall(out)
                if self.hang_up:
                    return

    def _default(self, seen: Seen) -> bytes:
        if seen.method == "PUT":
            self.files[seen.path] = seen.body
            return b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
        data = self.files.get(seen.path)
        if data is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[Raw]:
    srv = Raw()
    yield srv
    srv.close()


def target(url: str, **options: object) -> WebDavTarget:
    t = TARGETS.get("webdav").factory("dav", TARGETS.validate_options("webdav", {"url": url, **options}))
    assert isinstance(t, WebDavTarget)
    return t


def page(i: int) -> tuple[str, bytes]:
    data = bytes([i]) * (3000 + i)
    return f"assets/{hashlib.sha256(data).hexdigest()}.png", data


def put_pages(url: str, n: int) -> None:
    """Pages 0…n-1 pushed in order on one target, which is closed after."""
    t = target(url)
    try:
        for i in range(n):
            t.put(*page(i))
    finally:
        t.close()


def test_a_page_and_its_read_back_leave_together_on_a_kept_alive_connection(raw: Raw) -> None:
    put_pages(raw.url, 5)
    puts = [s for s in raw.seen if s.method == "PUT"]
    gets = [s for s in raw.seen if s.method == "GET"]
    assert len(puts) == len(gets) == 5 and raw.connections == 1
    # The first page of a connection waits for an answer (an HTTP/1.0 server would close after
    # it); every later one has its GET already sent when the PUT is complete: one round trip.
    assert puts[0].ahead == b""
    assert all(s.ahead.startswith(f"GET {s.path} HTTP/1.1\r\n".encode()) for s in puts[1:]), [s.ahead[:40] for s in puts]
    assert [g.path for g in gets] == [p.path for p in puts]


def test_a_read_back_lost_to_a_silent_close_is_asked_again(raw: Raw) -> None:
    """The server answers the PUT, then closes without a word: the GET that left with it is sent
    again on a new connection, and the page is verified."""
    closed: list[str] = []

    def answer(seen: Seen) -> bytes | None:
        if seen.method == "PUT" and seen.ahead and not closed:
            closed.append(seen.path)
            raw.files[seen.path] = seen.body
            return b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"  # and then the close below
        if seen.method == "GET" and closed and seen.connection == 1 and seen.path == closed[0]:
            return b""
        return None

    raw.answer = answer
    put_pages(raw.url, 3)
    assert closed and raw.connections == 2
    assert [s.method for s in raw.seen if s.path == closed[0]] == ["PUT", "GET", "GET"]


REFUSALS = {
    "conflict": (b"HTTP/1.1 409 Conflict\r\nContent-Length: 3\r\n\r\nno\n", r"PUT assets/.* answered 409"),
    "password": (b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", r"access refused \(401\)"),
}


@pytest.mark.parametrize("answer,message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_pipelined_put_is_an_error_and_the_next_put_goes_through(raw: Raw, answer: bytes, message: str) -> None:
    """The GET that left with a refused PUT is answered too: its answer must not be taken for
    the next request's."""
    refuse = page(1)[0]
    raw.answer = lambda seen: answer if seen.path.endswith(refuse) and seen.method == "PUT" else None
    t = target(raw.url)
    try:
        t.put(*page(0))
        with pytest.raises(TargetError, match=message):
            t.put(*page(1))
        t.put(*page(2))
        assert t.read(page(2)[0]) == page(2)[1]
    finally:
        t.close()


def test_a_corrupt_read_back_is_refused_and_the_page_deleted(raw: Raw) -> None:
    name, data = page(3)
    raw.answer = lambda seen: (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(data), b"x" * len(data))
        if (seen.method, seen.path) == ("GET", "/" + name)
        else None
    )
    t = target(raw.url)
    try:
        t.put(*page(0))  # the connection is kept alive: the GET is pipelined
        with pytest.raises(TargetError, match="another sha256"):
            t.put(name, data)
    finally:
        t.close()
    assert ("DELETE", "/" + name) in [(s.method, s.path) for s in raw.seen]


ODD_ANSWERS = {
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nchan\r\n7\r\nnel.xml\r\n0\r\nX-Trailer: t\r\n\r\n",
    "interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nchannel.xml",
    "folded": b"HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length: 11\r\n\r\nchannel.xml",
    "to-close": b"HTTP/1.0 200 OK\r\n\r\nchannel.xml",
}


@pytest.mark.parametrize("answer", ODD_ANSWERS.values(), ids=ODD_ANSWERS.keys())
def test_answers_framed_every_way_http_allows_are_read(raw: Raw, answer: bytes) -> None:
    raw.answer = lambda seen: answer if seen.path == "/channel.xml" else None
    raw.hang_up = answer.startswith(b"HTTP/1.0")  # its body ends with the connection
    t = target(raw.url)
    try:
        assert t.read("channel.xml") == b"channel.xml"
        t.put(*page(0))  # and the connection (or a new one, after a close) carries on
        assert t.read("channel.xml") == b"channel.xml"
    finally:
        t.close()


BROKEN_ANSWERS = {
    "length": (b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "not a Content-Length"),
    "two-lengths": (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "not a Content-Length"),
    "chunk-size": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
    "status": (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP answer"),
    "short": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", "before the end of the answer"),
    "huge-head": (b"HTTP/1.1 200 OK\r\n" + b"X-A: " + b"a" * 70_000 + b"\r\n\r\n", "head of more than"),
}


@pytest.mark.parametrize("answer,message", BROKEN_ANSWERS.values(), ids=BROKEN_ANSWERS.keys())
def test_a_broken_answer_is_a_target_error(raw: Raw, answer: bytes, message: str) -> None:
    raw.answer = lambda seen: answer
    raw.hang_up = True  # "short" ends there, three bytes into a hundred
    t = target(raw.url, timeout=2)
    try:
        with pytest.raises(TargetError, match=message):
            t.read("channel.xml")
    finally:
        t.close()
