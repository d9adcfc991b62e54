"""A small static HTTP server on loopback, for the demo portal, previews and tests.

Serves a directory with Last-Modified (so conditional GETs answer 304), quietly, on a thread.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, handler: type[SimpleHTTPRequestHandler] = _Quiet) -> None:
        self.root = root
        self.httpd = ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StaticServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"static:{self.root.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> StaticServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
