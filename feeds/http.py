"""The HTTP client sources use: bounded in bytes and time, polite, and kept to known hosts.

- **Bytes.** httpx has no body limit and inflates gzip freely (one 64 KB chunk of a gzip bomb
  inflates to 64 MB before anyone can count it), so the raw stream is read and decompressed
  here, in steps no larger than the room left under the cap.
- **Time.** A per-request deadline covers the whole exchange, headers included: a timer shuts
  the socket down when it passes, so a server that drips one byte a second is cut off even
  though no single read times out. Connections are kept alive and reused (a poll reads
  hundreds of pages from one portal: a TCP and TLS handshake each cost more than a small
  page); the socket a request reads or writes is handed to that request's deadline on every
  read and write (:class:`_Backend`), so a reused connection is cut off like a new one. A
  request that fails on a reused connection before any answer (the server closed it while it
  was idle) is sent once more on a new one.
- **Origins.** Redirects are followed by hand, at most ``max_redirects`` of them, and each hop
  is checked against the source's allowed origins: scheme, host *and* port
  (:class:`feeds.urls.Origins`), so another port of the portal's host (an internal service) is
  never reached. Every URL is percent-encoded first (:func:`feeds.urls.normalize_url`), so the
  answer's URL, which pages resolve their links against, is a valid one.
- **Politeness.** At most ``per_host`` requests at a time to one host and ``delay`` seconds
  between two starts, process-wide; the User-Agent names tvpusher. One client may be used by
  several threads at once (the poll reads up to ``per_host`` detail pages at a time).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import socket
import ssl
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from feeds.urls import Origins, normalize_url, origin_of
from pusher.config.http import HttpSettings
from pusher.errors import BodyTooLarge, FetchError
from pusher.interfaces import Response

REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
#: Seconds an idle connection is kept for the next request: below the 5 s of Apache's default
#: KeepAliveTimeout, so that the portal rarely closes one just as it is reused.
KEEPALIVE_EXPIRY = 4.0


class Http:
    """An :class:`pusher.interfaces.HttpClient` for one source (its name is in every error)."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        source: str = "",
        hosts: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.origins = Origins.of(hosts)
        self._count = 0
        self._count_lock = threading.Lock()
        # Room for every request the politeness lets run at once; more would only queue here.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=settings.per_host, keepalive_expiry=KEEPALIVE_EXPIRY)
        self._client = httpx.Client(
            verify=_tls_context(),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            transport=transport if transport is not None else _Transport(limits),
            limits=limits,
        )

    @property
    def requests(self) -> int:
        """Requests sent so far (from every thread using this client)."""
        return self._count

    def allow_host(self, url: str) -> None:
        """Allow the origin of ``url`` too (scheme, host and port)."""
        if self.origins and (o := origin_of(url)):
            self.origins = Origins(self.origins.allowed | {o})

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("GET", url, headers=headers)

    def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("POST", url, headers=headers, data=data)

    def _request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None
    ) -> Response:
        for _hop in range(self.settings.max_redirects + 1):
            url = self._check_host(url)
            status, resp_headers, body = self._once(method, url, headers, data)
            if status in REDIRECTS and "location" in resp_headers:
                try:
                    url = normalize_url(urljoin(url, resp_headers["location"].strip()))
                except ValueError:
                    raise FetchError(f"redirect to {resp_headers['location']!r}, which is no URL", source=self.source, url=url) from None
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                continue
            return Response(status=status, url=url, headers=resp_headers, body=body)
        raise FetchError(f"more than {self.settings.max_redirects} redirects", source=self.source, url=url)

    def _check_host(self, url: str) -> str:
        """The URL to request (percent-encoded), or FetchError when it is none or leaves the
        source's origins."""
        try:
            url = normalize_url(url)
            parts = urlsplit(url)
        except ValueError as exc:  # "http://[x/": urlsplit refuses what httpx would too
            raise FetchError(f"not a URL: {exc}", source=self.source, url=url) from None
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"refusing {parts.scheme or 'relative'} URL", source=self.source, url=url)
        origin = origin_of(url)
        if origin is None:
            raise FetchError("not a URL: no host", source=self.source, url=url)
        if self.origins and not self.origins.allows(url):
            scheme, host, port = origin
            raise FetchError(f"{scheme}://{host}:{port} is not one the source allows (scheme, host and port)", source=self.source, url=url)
        return url

    def _once(
        self, method: str, url: str, headers: Mapping[str, str] | None, data: Mapping[str, str] | None
    ) -> tuple[int, dict[str, str], bytes]:
        host = urlsplit(url).hostname or ""
        timeout = self.settings.timeout
        with _politeness.slot(host, self.settings.per_host, self.settings.delay):
            with self._count_lock:
                self._count += 1
            guard = _Deadline(timeout)
            with guard:
                for attempt in (1, 2):
                    try:
                        return self._exchange(method, url, headers, data, guard)
                    except httpx.TimeoutException:
                        raise FetchError(f"timed out after {timeout:g} s", source=self.source, url=url) from None
                    except httpx.InvalidURL as exc:  # not an HTTPError: "http://host:abc/"
                        raise FetchError(f"not a URL: {exc}", source=self.source, url=url) from None
                    except httpx.HTTPError as exc:
                        if guard.expired:
                            raise FetchError(f"no complete answer within {timeout:g} s", source=self.source, url=url) from None
                        # A kept-alive connection the portal closed while it was idle fails
                        # before any answer: the request deserves a new connection.
                        stale = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
                        if not (stale and attempt == 1 and not guard.connected and not guard.answered):
                            raise FetchError(f"{type(exc).__name__}: {exc}", source=self.source, url=url) from None
            raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(
        self, method: str, url: str, headers: Mapping[str, str] | None, data: Mapping[str, str] | None, guard: _Deadline
    ) -> tuple[int, dict[str, str], bytes]:
        with self._client.stream(method, url, headers=dict(headers or {}), data=data, extensions={"trace": guard.trace}) as r:
            guard.answered = True
            resp_headers = {k.lower(): v for k, v in r.headers.items()}
            body = self._read(r.iter_raw(CHUNK), resp_headers, url, guard)
            return r.status_code, resp_headers, body

    def _read(self, raw: Iterator[bytes], headers: Mapping[str, str], url: str, guard: _Deadline) -> bytes:
        cap = self.settings.max_bytes
        encoding = headers.get("content-encoding", "").strip().lower()
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and encoding in ("", "identity"):
            raise BodyTooLarge(f"body of {int(declared)} bytes exceeds the cap of {cap}", source=self.source, url=url)
        inflate = _inflater(encoding)
        if inflate is False:
            raise FetchError(f"unsupported content-encoding {encoding!r}", source=self.source, url=url)
        out = bytearray()
        for chunk in raw:
            if guard.expired:
                raise FetchError(f"no complete answer within {self.settings.timeout:g} s", source=self.source, url=url)
            try:
                pieces = _inflate(inflate, chunk, cap - len(out)) if inflate else (chunk,)
                for piece in pieces:
                    out += piece
                    if len(out) > cap:
                        raise BodyTooLarge(f"body exceeds the cap of {cap} bytes (after decompression)", source=self.source, url=url)
            except zlib.error as exc:
                raise FetchError(f"cannot decode {encoding} body: {exc}", source=self.source, url=url) from None
        return bytes(out)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for the process: loading the CA bundle costs ~70 ms, more
    than an idle poll's whole conditional request."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _inflater(encoding: str) -> Any:
    """A zlib decompressor for the content-encoding, None for identity, False if unsupported."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    return False


def _inflate(d: Any, data: bytes, room: int) -> Iterator[bytes]:
    """Decompress ``data`` in pieces of at most ``room + 1`` bytes: enough to see the cap passed."""
    while data:
        piece = d.decompress(data, max(room, 0) + 1)
        room -= len(piece)
        yield piece
        data = d.unconsumed_tail
        if room < 0:
            return


class _Deflate:
    """'deflate' is zlib-wrapped by the RFC and raw in the wild: try the first, fall back."""

    def __init__(self) -> None:
        self._d: Any = None

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._d is None:
            self._d = zlib.decompressobj()
            try:
                return bytes(self._d.decompress(data, max_length))
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self._d.decompress(data, max_length))

    @property
    def unconsumed_tail(self) -> bytes:
        return bytes(self._d.unconsumed_tail) if self._d is not None else b""


class _Deadline:
    """Shuts the request's socket down when the deadline passes, wherever the request is blocked.

    The socket is the one the request last read or wrote (:class:`_Stream` hands it over, new or
    kept-alive) or, through a transport that is not ours (a proxy from the environment), the
    one it connected.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = 0.0
        self.expired = False
        self.done = False
        self.connected = False  # the request opened a new connection (else it reused one)
        self.answered = False  # the answer's headers arrived
        self._sock: socket.socket | None = None
        self._stream: _Stream | None = None
        self._lock = threading.Lock()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
            self.connected = True
            self.attach(info["return_value"].get_extra_info("socket"))

    def attach(self, sock: socket.socket | None, stream: _Stream | None = None) -> None:
        with self._lock:
            self._sock, self._stream = sock, stream
            if self.expired:
                self._shutdown()

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        # A kept-alive connection this request let go of may already carry the next request.
        if self._sock is not None and (self._stream is None or self._stream.owner is self):
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self.at = time.monotonic() + self.seconds
        _current.deadline = self
        _watchdog.watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.deadline = None
        with self._lock:
            self.done = True


class _Current(threading.local):
    """The deadline of the request this thread is sending (httpx's sync client reads and writes
    in the calling thread)."""

    deadline: _Deadline | None = None


_current = _Current()


class _Stream(httpcore.NetworkStream):
    """A connection's stream that hands its socket to the deadline of whichever request uses it."""

    def __init__(self, inner: httpcore.NetworkStream, sock: socket.socket | None) -> None:
        self._inner, self._sock = inner, sock
        self.owner: _Deadline | None = None  # the request reading or writing it now

    def _watched(self) -> None:
        d = _current.deadline
        if d is not None and self.owner is not d:
            self.owner = d
            d.attach(self._sock, self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._watched()
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watched()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        self._watched()
        # The TCP socket stays the one to shut down: it is under the TLS layer.
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._sock)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        d = _current.deadline
        if d is not None:
            d.connected = True
        return _Stream(stream, stream.get_extra_info("socket"))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's own transport over a pool whose streams the deadlines can cut (:class:`_Stream`)."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(verify=_tls_context(), limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )


class _Watchdog:
    """One thread for every request's deadline (a timer thread per request costs more than a
    loopback request)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._thread: threading.Thread | None = None

    def watch(self, d: _Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (d.at, id(d), d))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tvpusher-http-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                at, _, d = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            d.expire()


_watchdog = _Watchdog()


class _Politeness:
    """At most N requests at a time per host, and a pause between two starts, process-wide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sems: dict[tuple[str, int], threading.BoundedSemaphore] = {}
        self._last: dict[str, float] = defaultdict(float)

    def slot(self, host: str, per_host: int, delay: float) -> _Slot:
        with self._lock:
            sem = self._sems.setdefault((host, per_host), threading.BoundedSemaphore(per_host))
        return _Slot(self, host, sem, delay)

    def in_flight(self, host: str) -> int:
        """Requests to ``host`` running now (for tests and metrics)."""
        with self._lock:
            return sum(s._initial_value - s._value for (h, _), s in self._sems.items() if h == host)  # type: ignore[attr-defined]


class _Slot:
    def __init__(self, owner: _Politeness, host: str, sem: threading.BoundedSemaphore, delay: float) -> None:
        self.owner, self.host, self.sem, self.delay = owner, host, sem, delay

    def __enter__(self) -> None:
        self.sem.acquire()
        with self.owner._lock:
            now = time.monotonic()
            start = max(now, self.owner._last[self.host] + self.delay)
            self.owner._last[self.host] = start
        if start > now:
            time.sleep(start - now)

    def __exit__(self, *exc: object) -> None:
        self.sem.release()


_politeness = _Politeness()
