"""A scriptable portal on 127.0.0.1 for the source tests: real HTTP, real sockets.

Routes map a path to a :class:`Page` (status, headers, body; ETag and Last-Modified so that
conditional GETs answer 304) or to a function of the request handler that writes the answer
itself (drips, redirects, bombs). Every request is logged with its method, path, headers and
form body, and concurrent requests are counted.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Page:
    body: bytes
    status: int = 200
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag + Last-Modified and honour conditional requests

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]
    at: float = 0.0  # time.monotonic() on arrival


class Portal:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Page | Handler] = {}
        self.post_routes: dict[str, Page | Handler] = {}
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        portal = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                portal._serve(self, "GET")

            def do_POST(self) -> None:
                portal._serve(self, "POST")

        self.httpd = ThreadingHTTPServer((host, 0), _H)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    def start(self) -> Portal:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Portal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def paths(self, method: str = "GET") -> list[str]:
        return [h.path for h in self.hits if h.method == method]

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        form: dict[str, list[str]] = {}
        if method == "POST":
            n = int(h.headers.get("content-length") or 0)
            form = parse_qs(h.rfile.read(n).decode("utf-8", "replace"), keep_blank_values=True)
        with self._lock:
            self.hits.append(Hit(method, parts.path, {k.lower(): v for k, v in h.headers.items()}, form, time.monotonic()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        # A request stops counting when its headers leave, not when the handler returns: the
        # client may have the whole answer, free its slot and start the next request before this
        # thread runs its `finally` on a loaded machine, and the count would then read one too many.
        done = False
        end_headers = h.end_headers

        def leave() -> None:
            nonlocal done
            if not done:
                done = True
                with self._lock:
                    self.in_flight -= 1

        def end_headers_and_leave() -> None:
            leave()
            end_headers()

        h.end_headers = end_headers_and_leave  # type: ignore[method-assign]
        try:
            routes = self.post_routes if method == "POST" else self.routes
            route = routes.get(parts.path)
            if route is None and method == "POST":
                route = self.routes.get(parts.path)
            if route is None:
                route = Page("<html><head><title>404 页面不存在</title></head><body><h1>404</h1></body></html>".encode(), status=404)
            if callable(route):
                h.form = form  # type: ignore[attr-defined]  # the body is already read
                route(h)
            else:
                self._page(h, route)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            leave()

    @staticmethod
    def _page(h: BaseHTTPRequestHandler, page: Page) -> None:
        if page.validators and page.status == 200 and h.headers.get("if-none-match") == page.etag:
            h.send_response(304)
            h.send_header("ETag", page.etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(page.status)
        h.send_header("Content-Type", page.content_type)
        h.send_header("Content-Length", str(len(page.body)))
        if page.validators and page.status == 200:
            h.send_header("ETag", page.etag)
            h.send_header("Last-Modified", "Tue, 24 Nov 2026 08:00:00 GMT")
        for k, v in page.headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(page.body)
