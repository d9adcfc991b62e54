"""Hostile headends (issue 15): memory of the WebDAV client against answers of gigabytes, and
how often an alert is retried against a headend that is down.

1. A loopback server streams ``--gigabytes`` of PROPFIND answer, of ``channel.xml`` and of an
   asset's read-back (generated as sent). A fresh client process lists, reads and puts against
   it; its peak RSS (``ru_maxrss``) and time are printed per request.
2. A WebDAV target on a closed port, an alert version queued, ``deliver`` called every
   ``--interval`` seconds for ``--seconds`` as the daemon's worker does: attempts made.

    python bench/hostile_targets_bench.py [--gigabytes 2] [--seconds 20] [--interval 1] [--root TREE]

``--root`` runs the client from another checkout (e.g. ``git archive`` of an older commit) to
compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = (
    b"<D:response><D:href>/assets/x.png</D:href><D:propstat><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop></D:propstat></D:response>"
    * 400
)
DATA = b"\x89PNG page" * 5000
NAME = f"assets/{hashlib.sha256(DATA).hexdigest()}.png"

CLIENT = """
import json, resource, sys, time
from pusher.registry import TARGETS
url, what, name, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = TARGETS.get("webdav").factory("dav", TARGETS.validate_options("webdav", {"url": url, "deadline": 600}))
start, error = time.monotonic(), ""
try:
    if what == "propfind":
        t.list_assets()
    elif what == "get":
        t.read("channel.xml")
    else:
        t.put(name, b"\\x89PNG page" * 5000)
except Exception as exc:
    error = f"{type(exc).__name__}: {str(exc)[:90]}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"maxrss_mb": peak, "seconds": time.monotonic() - start, "error": error}))
"""


def serve(total: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _stream(self, status: int) -> None:
            self.send_response(status)
            self.end_headers()  # no Content-Length: the client cannot refuse it up front
            sent = 0
            try:
                while sent < total:
                    self.wfile.write(CHUNK)
                    sent += len(CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_PROPFIND(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._stream(207)

        def do_GET(self) -> None:
            self._stream(200)

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_DELETE(self) -> None:
            self.send_response(204)
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def memory(gigabytes: float, root: Path) -> None:
    srv = serve(int(gigabytes * 1024**3))
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    env = {**os.environ, "PYTHONPATH": str(root)}
    for what in ("propfind", "get", "put"):
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, url, what, NAME, str(len(DATA))], capture_output=True, text=True, env=env, cwd=root
        )
        r = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {"error": out.stderr[-200:]}
        peak, took = r.get("maxrss_mb", 0), r.get("seconds", 0)
        print(f"{what:9s} answer {gigabytes:g} GB: peak RSS {peak:.0f} MB, {took:.1f} s, {r['error'] or 'no error'}")
    srv.shutdown()


def alerts(seconds: float, interval: float) -> None:
    import logging

    sys.path.insert(0, str(ROOT / "tests" / "targets"))
    from sqlmodel import update
    from targetkit import Channel, free_port, make_runtime, page_bytes

    from pusher.stages.outbox import deliver
    from pusher.store.models import Delivery

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        rt = make_runtime(
            Path(tmp), [{"name": "dav", "kind": "webdav", "options": {"url": f"http://127.0.0.1:{free_port()}/", "timeout": 1}}]
        )
        ch = Channel(rt)
        ch.set("alert", page_bytes("alert"))
        ch.publish()
        with rt.store.write() as db:
            db.exec(update(Delivery).values(priority=2))
        attempts, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            attempts += sum(1 for r in deliver(rt) if r.status == "failed")
            time.sleep(interval)
        rt.close()
    print(f"alert against a dead headend: {attempts} attempts in {seconds:g} s (worker every {interval:g} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gigabytes", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout the client runs from")
    a = ap.parse_args()
    memory(a.gigabytes, a.root.resolve())
    alerts(a.seconds, a.interval)


if __name__ == "__main__":
    main()
