"""Preview a headend folder in a browser: the reference viewer plus the folder, on loopback.

The viewer (``pusher/web/viewer``) is served at ``/``; ``channel.xml`` and ``assets/`` come from the
folder, exactly as a headend's web server would serve them next to the viewer. Assets (pages
and column manifests) are named by their content hash, so they may be cached for good;
``channel.xml`` is revalidated on every poll (``no-cache``) and a poll of an unchanged one is
answered 304 from its ETag or Last-Modified, as nginx does for a static file.

``serve_preview`` runs the server in a thread (for ``pusher demo`` and tests);
``preview_forever`` blocks until interrupted (for ``pusher preview``).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from pusher.errors import ConfigError
from pusher.web.httpserve import ConditionalHandler, QuietServer

log = logging.getLogger(__name__)

VIEWER_DIR = Path(__file__).with_name("viewer")
VIEWER_FILES = {"/": "index.html", "/index.html": "index.html", "/viewer.js": "viewer.js", "/viewer.css": "viewer.css"}


class _Handler(ConditionalHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a page turn should not wait for a TCP handshake
    # Headers and body leave in two writes: with Nagle's algorithm the body of every small
    # answer waited for the client's delayed ACK, 40 ms (a box booting on the 747 parts of a
    # 500-item channel took 11 s).
    disable_nagle_algorithm = True
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".xml": "application/xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        "": "application/octet-stream",
    }

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        name = VIEWER_FILES.get(clean)
        if name is not None:
            return str(VIEWER_DIR / name)
        return super().translate_path(path)

    def list_directory(self, path: Any) -> None:
        # A headend folder is not browsable.
        self.send_error(404, "Not found")
        return None

    _status = 0

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def end_headers(self) -> None:
        clean = self.path.split("?", 1)[0]
        # A missing asset may arrive later (assets first, manifest last): never cache a 404.
        if clean.startswith("/assets/") and self._status == 200:
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        elif self._status in (200, 304):
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("preview %s " + format, self.client_address[0], *args)


class PreviewServer(QuietServer):
    """A threaded HTTP server for one folder; ``url`` is where the viewer is."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = folder
        super().__init__((host, port), partial(_Handler, directory=str(folder)))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> PreviewServer:
        # A short poll interval: close() (and a test's teardown) waits for at most one.
        self._thread = threading.Thread(target=self.serve_forever, args=(0.1,), name="pusher-preview", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(folder: Path, host: str, port: int) -> PreviewServer:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"not a folder: {folder}", key="preview")
    try:
        return PreviewServer(folder.resolve(), host, port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", key="preview") from None


def serve_preview(folder: Path, host: str = "127.0.0.1", port: int = 0) -> tuple[PreviewServer, str]:
    """Serve ``folder`` with the viewer in a background thread; ``server.close()`` stops it.

    ``port=0`` picks a free port; the URL returned says which.
    """
    server = _open(folder, host, port).start()
    return server, server.url


def preview_forever(folder: Path, host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C, or SIGTERM, ends it with ``KeyboardInterrupt``, after closing)."""
    server = _open(folder, host, port)
    try:
        with term_as_interrupt():
            if on_ready is not None:
                on_ready(server.url)
            server.serve_forever()
    finally:
        server.server_close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def term_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a service manager) stops a foreground server as Ctrl-C does. Killed by
    the default action instead, ``pusher preview`` never said "已停止", and ``pusher demo`` left
    its render pool to Python's resource tracker, which reported the semaphores as leaked."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
