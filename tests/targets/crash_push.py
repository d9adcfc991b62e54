"""A push process for the crash test: runs the real delivery code and kills itself with SIGKILL
at the Nth instrumented point.

    python crash_push.py --serve      # reads "CONFIG<TAB>KILL_AT<TAB>TRACE[<TAB>POWER]" lines, answers exit codes

One single-threaded process imports the project once and forks a fresh push process per line,
so that fifty pushes do not cost fifty interpreter starts.

Points are before and after every file-system sync and rename (the folder target), every HTTP
request and every upload chunk (the WebDAV target), and every store transaction. ``KILL_AT=0``
kills nowhere; the labels of the points passed are written to TRACE (one per line, flushed
before a kill) so that the test can say where each kill happened.

With POWER, the kill is also a power cut: the process keeps a journal of what it made durable
(fsync of a file or a folder, syncfs) and what it renamed, and right before the kill writes to
POWER what a power cut could take back at that instant, for the test to apply to the headend
(:func:`apply_power_cut`). A file system may make an operation durable at any time after it
(ext4 commits its journal every few seconds) or only when asked, so a cut is one of two worst
cases: *names survive*, where every rename made so far stays but a file whose data was never
synced is left empty (ext4's delayed allocation does that); or *names lost*, where a rename
whose folder was not fsynced since is undone as well (the old file comes back, or the name
goes). Every target's files are created once and never written again, so an fsync of a file
after its rename counts as much as one before.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import signal
import stat
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
from pusher.targets import folder, webdav


class Power:
    """What is durable, as the file system would have it after a power cut."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.synced: set[int] = set()  # inodes whose data reached the disk
        self.renamed: list[tuple[str, int]] = []  # (destination, inode) of every rename
        self.pending: list[tuple[str, bytes | None]] = []  # renames not yet durable: (destination, what it held)

    def fsync(self, fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            where = os.readlink(f"/proc/self/fd/{fd}")
            self.pending = [(dst, old) for dst, old in self.pending if os.path.dirname(dst) != where]
        else:
            self.synced.add(st.st_ino)

    def syncfs(self, root: str) -> None:
        # The whole file system: at least every file under the folder synced.
        for where, _, files in os.walk(root):
            self.synced.update(os.stat(os.path.join(where, f)).st_ino for f in files)
        self.pending.clear()

    def before_rename(self, src: str, dst: str) -> tuple[str, int, bytes | None]:
        dst = os.path.abspath(dst)
        old = open(dst, "rb").read() if os.path.isfile(dst) else None  # noqa: SIM115 - small files
        return dst, os.stat(src).st_ino, old

    def after_rename(self, dst: str, ino: int, old: bytes | None) -> None:
        self.renamed.append((dst, ino))
        self.pending.append((dst, old))

    def dump(self) -> None:
        empty = []
        for dst, ino in self.renamed:
            try:
                if os.stat(dst).st_ino == ino and ino not in self.synced:
                    empty.append(dst)
            except FileNotFoundError:
                pass
        undo = [[dst, None if old is None else base64.b64encode(old).decode()] for dst, old in reversed(self.pending)]
        with open(self.out, "w") as f:
            json.dump({"empty": empty, "undo": undo}, f)


def apply_power_cut(journal: str, root: str, *, names_survive: bool) -> list[str]:
    """Applies what :meth:`Power.dump` wrote to the files under ``root``, in one of the two
    worst cases; what it changed."""
    with open(journal) as f:
        cut = json.load(f)
    root = os.path.abspath(root) + os.sep
    changed = []
    for dst in cut["empty"]:
        if dst.startswith(root):
            open(dst, "wb").close()
            changed.append(f"emptied {dst[len(root) :]}")
    for dst, old in [] if names_survive else cut["undo"]:
        if not dst.startswith(root):
            continue
        if old is None:
            os.unlink(dst)
            changed.append(f"unnamed {dst[len(root) :]}")
        else:
            with open(dst, "wb") as f:
                f.write(base64.b64decode(old))
            changed.append(f"restored {dst[len(root) :]}")
    return changed


class Points:
    def __init__(self, kill_at: int, trace: str, power: Power | None = None) -> None:
        self.n, self.kill_at = 0, kill_at
        self.trace = open(trace, "w", buffering=1)  # noqa: SIM115 - kept open for the process's life
        self.lock = threading.Lock()  # uploads and fsyncs run in several threads
        self.power = power

    def __call__(self, label: str) -> None:
        with self.lock:
            self.n += 1
            self.trace.write(f"{label}\n")
            if self.n == self.kill_at:
                self.trace.flush()
                if self.power is not None:
                    self.power.dump()
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
    outbox.RECORD_BATCH = outbox.RECORD_BATCH_STAGED = 3
    outbox.RECORD_EVERY = float("inf")
    real_fsync, real_replace, real_syncfs = os.fsync, os.replace, folder._SYNCFS
    power = point.power

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if power is not None:
            with point.lock:
                power.fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        with point.lock:
            before = power.before_rename(str(src), str(dst)) if power is not None else None
        real_replace(src, dst)
        if power is not None and before is not None:
            with point.lock:
                power.after_rename(*before)

    def syncfs(path: Path) -> None:
        assert real_syncfs is not None
        real_syncfs(path)
        if power is not None:
            with point.lock:
                power.syncfs(str(path))

    os.fsync = around(point, "fsync", fsync)
    os.replace = around(point, "rename", replace, lambda src, dst: os.path.basename(str(dst)))
    if real_syncfs is not None:
        folder._SYNCFS = around(point, "syncfs", syncfs)
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


def push(config: str, kill_at: int, trace: str, power: str = "") -> int:
    rt = Runtime(load_settings(config), migrate=False)  # the store is migrated already; a push does not migrate
    instrument(Points(kill_at, trace, Power(power) if power else None))
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
        config, kill_at, trace, *power = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                code = push(config, int(kill_at), trace, *power)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve()
