"""A small static HTTP server on loopback, for the demo portal, previews and tests.

Serves a directory quietly, on a thread, with Last-Modified and an ETag so that conditional GETs
answer 304. The ETag comes from the file's nanosecond mtime and size: an edit within the same
second as the previous answer (Last-Modified has one-second resolution) is still seen.
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote


class NulSafeHandler(SimpleHTTPRequestHandler):
    """A path with a NUL in it (``/%00``) is a bad request: the standard handler let ``open()``
    raise ValueError, which dropped the connection and printed a traceback per request."""

    def send_head(self) -> Any:
        if "\x00" in unquote(self.path.split("?", 1)[0].split("#", 1)[0]):
            self.send_error(400, "Bad path")
            return None
        return super().send_head()


class ConditionalHandler(NulSafeHandler):
    """Files with an ETag and Last-Modified; a conditional GET of an unchanged file answers 304
    (a set-top box polling an unchanged channel.xml costs headers, not the manifest)."""

    _etag: str | None = None

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        if os.path.isfile(path):
            st = os.stat(path)
            etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        if self._etag:
            self.send_header("ETag", self._etag)
            self._etag = None
        super().end_headers()


class _Quiet(ConditionalHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """A browser that closes a tab mid-response is no error: no traceback for a dropped client."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError, …
            return
        super().handle_error(request, client_address)


class StaticServer:
    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, handler: type[SimpleHTTPRequestHandler] = _Quiet) -> None:
        self.root = root
        self.httpd = QuietServer((host, port), functools.partial(handler, directory=str(root)))
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
