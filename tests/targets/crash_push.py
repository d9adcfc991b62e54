"""A push process for the crash test: runs the real delivery code and kills itself with SIGKILL
at the Nth instrumented point.

    python crash_push.py --serve      # reads "CONFIG<TAB>KILL_AT<TAB>TRACE" lines, answers exit codes

One single-threaded process imports the project once and forks a fresh push process per line,
so that fifty pushes do not cost fifty interpreter starts.

Points are before and after every file-system sync and rename (the folder target), every HTTP
request and every upload chunk (the WebDAV target), and every store transaction. ``KILL_AT=0``
kills nowhere; the labels of the points passed are written to TRACE (one per line, flushed
before a kill) so that the test can say where each kill happened.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy.dialects.sqlite  # noqa: F401 - likewise (SQLAlchemy loads it lazily)

import pusher.store.migrations  # noqa: F401 - imported once here, not in every forked push
from pusher.config.settings import load_settings, parse_settings
from pusher.runtime import Runtime
from pusher.stages import outbox
from pusher.stages.outbox import deliver
from pusher.store.db import Store
from pusher.targets import webdav


class Points:
    def __init__(self, kill_at: int, trace: str) -> None:
        self.n, self.kill_at = 0, kill_at
        self.trace = open(trace, "w", buffering=1)  # noqa: SIM115 - kept open for the process's life
        self.lock = threading.Lock()  # uploads run in several threads

    def __call__(self, label: str) -> None:
        with self.lock:
            self.n += 1
            self.trace.write(f"{label}\n")
            if self.n == self.kill_at:
                self.trace.flush()
                os.kill(os.getpid(), signal.SIGKILL)


def around(point: Points, label: str, fn: Callable[..., Any], describe: Callable[..., str] = lambda *a, **k: "") -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        what = describe(*args, **kwargs)
        point(f"before {label} {what}")
        result = fn(*args, **kwargs)
        point(f"after {label} {what}")
        return result

    return wrapper


def instrument(point: Points) -> None:
    # Deterministic and frequent records of what arrived: the same number of points every run.
    outbox.RECORD_BATCH, outbox.RECORD_EVERY = 3, float("inf")
    os.fsync = around(point, "fsync", os.fsync)
    os.replace = around(point, "rename", os.replace, lambda src, dst: os.path.basename(str(dst)))
    webdav.CHUNK = 4096  # several chunks per page: kills land mid-upload
    orig_chunks = webdav._chunks

    def chunks(data: bytes, deadline: float, target: str, name: str) -> Iterator[bytes]:
        for n, part in enumerate(orig_chunks(data, deadline, target, name)):
            point(f"upload {name} chunk {n}")
            yield part

    webdav._chunks = chunks
    webdav.WebDavTarget._request = around(point, "http", webdav.WebDavTarget._request, lambda self, method, name, **k: f"{method} {name}")
    orig_write = Store.write

    @contextmanager
    def write(self: Store) -> Iterator[Any]:
        point("before db commit")
        with orig_write(self) as session:
            yield session
        point("after db commit")

    Store.write = write  # type: ignore[method-assign]


def push(config: str, kill_at: int, trace: str) -> int:
    rt = Runtime(load_settings(config), migrate=False)  # the store is migrated already; a push does not migrate
    instrument(Points(kill_at, trace))
    reports = deliver(rt, now_only_due=False)
    rt.close()
    print(" ".join(f"{r.target}:{r.status}:{r.version}:{r.error}" for r in reports), file=sys.stderr)
    return 0 if all(r.status == "done" for r in reports) else 1


def warm_up() -> None:
    """Runs an idle delivery on a scratch store, so that the forked pushes inherit configured
    mappers and compiled statements instead of each paying for them."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = parse_settings(
            {"channel": {"workdir": tmp}, "targets": [{"name": "w", "kind": "folder", "options": {"path": "drop"}}]}, Path(tmp)
        )
        rt = Runtime(settings)
        deliver(rt)
        rt.close()


def serve() -> None:
    warm_up()
    for line in sys.stdin:
        config, kill_at, trace = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                code = push(config, int(kill_at), trace)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve()
