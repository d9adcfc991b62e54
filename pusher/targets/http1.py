"""One HTTP/1.1 client connection whose reader outlives an answer, so requests can be pipelined.

Issue 19: ``http.client`` cost about 0.3 ms of CPU per request (its header parser is the e-mail
package's) and cannot send a request before the previous answer is read, so a verified upload
was two round trips. Here a WebDAV ``PUT`` and the ``GET`` that reads it back leave in one write
and are answered in order on the same connection (RFC 9112 §9.3.2; ``PUT`` is idempotent, so
pipelining behind it is allowed), at about a tenth of the CPU.

Only what a headend answer needs: a status line, headers, and a body framed by
``Content-Length``, ``chunked`` or the end of the connection (RFC 9112 §6.3); interim ``1xx``
answers are skipped. Errors are :class:`OSError`\\s (what a socket raises anyway) with one
subclass that the caller may act on: :class:`Dropped`, the connection ended before an answer
began, which on a kept-alive connection means the server closed it meanwhile.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

READ = 256 * 1024  # one recv: a page and its read-back answer arrive in a few
MAX_HEAD = 64 * 1024  # status line and headers of one answer
MAX_LINE = 4096  # a chunk-size line


class ProtocolError(OSError):
    """The server's bytes are not an HTTP/1.1 answer (or one past our limits)."""


class Dropped(ConnectionError):
    """The connection ended before any byte of the answer: a kept-alive connection the server
    closed meanwhile (the request may be sent again on a new one)."""


class Overdue(TimeoutError):
    """The overall deadline of the request passed."""


@dataclass(frozen=True)
class Head:
    status: int
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    will_close: bool  # the server ends the connection after this answer
    length: int | None  # Content-Length, None when chunked or delimited by the close
    chunked: bool


class Connection:
    """A socket to ``host:port`` (TLS with ``tls``), opened on the first send."""

    def __init__(self, host: str, port: int | None, *, timeout: float, tls: ssl.SSLContext | None) -> None:
        self.host, self.timeout, self.tls = host, timeout, tls
        self.port = port or (443 if tls else 80)
        self.sock: socket.socket | None = None
        self.answered = 0  # answers read whole on the current socket: > 0 means it is kept alive
        self._buf = bytearray()

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == (443 if self.tls else 80) else f"{name}:{self.port}"

    def send(self, data: bytes) -> None:
        if self.sock is None:
            self._open()
        assert self.sock is not None
        self.sock.sendall(data)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        self._buf.clear()
        self.answered = 0
        if sock is not None:
            sock.close()

    def _open(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            # Heads and bodies go in few writes of their own: Nagle would hold a small one back
            # until the server acknowledged the previous one.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._buf.clear()
        self.answered = 0

    def _fill(self, deadline: float) -> bool:
        """Reads what has arrived into the buffer; False at the end of the connection."""
        if time.monotonic() > deadline:
            raise Overdue("the deadline passed")
        if self.sock is None:
            return False
        data = self.sock.recv(READ)
        if not data:
            return False
        self._buf += data
        return True

    # -- an answer ------------------------------------------------------------------------------

    def head(self, method: str, deadline: float) -> Head:
        """The next answer's status and headers (interim 1xx answers skipped)."""
        while True:
            head = self._read_head(method, deadline)
            if not 100 <= head.status < 200:
                return head

    def _read_head(self, method: str, deadline: float) -> Head:
        start = 0
        while True:
            end = self._buf.find(b"\r\n\r\n", start)
            if end >= 0 and end <= MAX_HEAD:
                break
            if end > MAX_HEAD or len(self._buf) > MAX_HEAD:
                raise ProtocolError(f"an answer head of more than {MAX_HEAD} bytes")
            start = max(0, len(self._buf) - 3)
            had = len(self._buf)
            if not self._fill(deadline):
                if had == 0:
                    raise Dropped("the connection ended before an answer")
                raise ProtocolError("the connection ended inside an answer head")
        raw = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        status_line, *lines = raw.split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.1", "HTTP/1.0") or not (code.isascii() and code.isdigit()) or rest[3:4] not in ("", " "):
            raise ProtocolError(f"not an HTTP answer: {status_line[:60]!r}")
        headers: dict[str, str] = {}
        last = ""
        for line in lines:
            if line[:1] in (" ", "\t") and last:  # an obsolete folded line continues the previous one
                headers[last] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"not a header line: {line[:60]!r}")
            last = name.lower()
            value = value.strip()
            headers[last] = f"{headers[last]}, {value}" if last in headers else value
        status = int(code)
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        will_close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        chunked = False
        length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            length = 0
        elif "transfer-encoding" in headers:
            codings = [t.strip().lower() for t in headers["transfer-encoding"].split(",")]
            if codings[-1] != "chunked":
                will_close = True  # framed by the close (RFC 9112 §6.3, point 4)
            else:
                chunked = True
        elif "content-length" in headers:
            values = {v.strip() for v in headers["content-length"].split(",")}
            text = values.pop()
            if values or not text.isascii() or not text.isdigit() or len(text) > 18:
                raise ProtocolError(f"not a Content-Length: {headers['content-length'][:40]!r}")
            length = int(text)
        else:
            will_close = True  # the body runs to the end of the connection
        return Head(status, headers, will_close, length, chunked)

    def body(self, head: Head, deadline: float) -> Iterator[bytes]:
        """The answer's body as it arrives. Read to its end, the connection carries the next
        answer (or is closed, if the server said it would close it); a caller that stops early
        must close the connection."""
        if head.chunked:
            yield from self._chunked(deadline)
        elif head.length is not None:
            left = head.length
            while left:
                if not self._buf and not self._fill(deadline):
                    raise ProtocolError(f"the connection ended {left} bytes before the end of the answer")
                part = bytes(self._buf[:left])
                del self._buf[: len(part)]
                left -= len(part)
                yield part
        else:
            while self._buf or self._fill(deadline):
                part = bytes(self._buf)
                self._buf.clear()
                yield part
        if head.will_close:
            self.close()
        else:
            self.answered += 1

    def _line(self, deadline: float) -> bytes:
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 2]
                return line
            if len(self._buf) > MAX_LINE:
                raise ProtocolError(f"a chunk line of more than {MAX_LINE} bytes")
            if not self._fill(deadline):
                raise ProtocolError("the connection ended inside a chunked answer")

    def _chunked(self, deadline: float) -> Iterator[bytes]:
        while True:
            size_text = self._line(deadline).split(b";", 1)[0].strip()
            try:
                left = int(size_text, 16) if size_text and len(size_text) <= 16 and size_text.isalnum() else -1
            except ValueError:
                left = -1
            if left < 0:
                raise ProtocolError(f"not a chunk size: {size_text[:20]!r}")
            if left == 0:
                while self._line(deadline):  # trailer fields, up to the empty line
                    pass
                return
            while left:
                if not self._buf and not self._fill(deadline):
                    raise ProtocolError("the connection ended inside a chunk")
                part = bytes(self._buf[:left])
                del self._buf[: len(part)]
                left -= len(part)
                yield part
            if self._line(deadline):
                raise ProtocolError("a chunk not followed by its line end")
