"""A scriptable web server on 127.0.0.1 for the hostile-portal tests, and a runtime over it.

A route is a path (with its query, as the client sent it, percent-encoding included) mapped to
``(status, headers, body)``; a path without a route answers 404. Every request is recorded, so a
test can say that the "internal" service was never reached at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pusher.config.settings import parse_settings
from pusher.demo import write_config
from pusher.runtime import Runtime

Answer = tuple[int, dict[str, str], bytes]


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.hits: list[tuple[str, str]] = []  # (method, path)
        site = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                site.hits.append((method, self.path))
                if method == "POST":
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = site.routes.get(self.path, (404, {"Content-Type": "text/html"}, b"<title>404</title>"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def html(self, path: str, text: str, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, {"Content-Type": "text/html; charset=utf-8", **headers}, text.encode("utf-8"))

    def raw(self, path: str, body: bytes, content_type: str, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, {"Content-Type": content_type, **headers}, body)

    def redirect(self, path: str, to: str) -> None:
        self.routes[path] = (302, {"Location": to}, b"")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving() -> Iterator[Site]:
    s = Site()
    try:
        yield s
    finally:
        s.close()


def article(title: str, body: str, extra: str = "") -> str:
    return (
        f"<html><head><title>{title}</title>{extra}</head><body><h1>{title}</h1>"
        f"<div id='zoom'><p>{body}</p></div><p>发布日期：2026-11-20</p></body></html>"
    )


def config(tmp_path: Path, sources: list[dict[str, Any]], **broadcast: Any) -> dict[str, Any]:
    return {
        "channel": {"name": "测试频道", "workdir": str(tmp_path / "work")},
        "http": {"timeout": 2.0, "delay": 0.0, "per_host": 2, "max_redirects": 3},
        "broadcast": broadcast,
        "columns": [{"id": "tzgg", "name": "通知公告"}],
        "sources": [{"column": "tzgg", **s} for s in sources],
        "targets": [{"name": "headend", "kind": "folder", "options": {"path": str(tmp_path / "headend")}}],
    }


def runtime(tmp_path: Path, sources: list[dict[str, Any]], **broadcast: Any) -> Runtime:
    return Runtime(parse_settings(config(tmp_path, sources, **broadcast), tmp_path))


def write_toml(path: Path, cfg: dict[str, Any]) -> Path:
    """The same configuration as a file, for the CLI."""
    return write_config(cfg, path)
