"""A local or mounted drop folder, as carousel generators (OpenCaster and the like) read it.

Every file is written to a temporary name in the same folder, made durable, renamed over its
final name with ``os.replace`` and the folder fsynced, so that a reader sees either the old file
or the new one, never a partial one, even across a crash or power loss.

Issue 19: an fsync per file and per rename held a year's push (30,000 pages of ~13 KB) to
3.7 MB/s. The outbox now *stages* a batch of pages (:meth:`FolderTarget.stage`: written under
their temporary names, nothing synced) and *commits* it (:meth:`FolderTarget.commit`) before it
records them as delivered and before any manifest: the batch's data is made durable first (the
files fsynced together from a few threads, which the file system commits in few journal
transactions, or one ``syncfs``), only then are the files renamed under their names, and each
folder is fsynced once. So the order on disk is the one an fsync per file gave — data, then
name, then manifest — and a name under ``assets/`` never points at data that a power cut could
take back. ``put`` is a stage and a commit of one file, as durable as before.

A write killed half-way leaves its temporary file behind (``.<leaf>.<pid>.<host>.tmp``); each
new target object removes those whose writer is gone: a dead process of this host, or any
writer's file older than :data:`STALE_TMP` (another host's process cannot be asked; one file is
written in seconds). Before issue 15 they piled up in the headend for ever.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pusher.errors import TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name

log = logging.getLogger("tvpusher.targets")

STALE_TMP = 3600.0  # seconds
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
# .<leaf>.<pid>.<host>.tmp, and the .<leaf>.<pid>.tmp written before the host was in the name.
_TMP = re.compile(r"^\.(?P<leaf>.+?)\.(?P<pid>\d+)(?:\.(?P<host>[A-Za-z0-9_-]+))?\.tmp$")


SYNC_THREADS = 16  # fsyncs in flight at once: ext4 commits concurrent ones in one transaction


class FolderOptions(TargetOptions):
    path: Path
    # How a delivery's files are made durable before their names and the manifest point at
    # them: "batch" fsyncs the files of a batch together and each folder once; "filesystem"
    # one syncfs(2) of the folder's file system per batch (faster still, but it also flushes
    # whatever else is being written there); "file" an fsync per file and per rename (before
    # issue 19: about 4× slower).
    sync: Literal["batch", "filesystem", "file"] = "batch"


class FolderTarget:
    def __init__(self, name: str, options: FolderOptions) -> None:
        self.name = name
        # One writer: staging is a few system calls per file, the syncs are batched anyway.
        self.concurrency = 1
        self.root = Path(options.path)
        self.sync = options.sync if options.sync != "filesystem" or _SYNCFS is not None else "batch"
        try:
            (self.root / "assets").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot create {self.root}: {exc.strerror}", target=name) from None
        self.swept = _sweep(self.root) + _sweep(self.root / "assets")
        self._staged: list[tuple[str, str]] = []  # (temporary, final) written, not yet durable
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._real = self.root.resolve()
        self._folders: dict[str, str] = {}  # "" and "assets", resolved, checked and created once

    def _path(self, name: str) -> Path:
        p = (self.root / check_name(name, self.name)).resolve()
        if self._real not in p.parents:
            raise TargetError(f"refusing a name outside the folder: {name!r}", target=self.name)
        return p

    def _new_path(self, name: str) -> str:
        """Where a file is written: its folder resolved, checked and created once per target
        object (two resolves and a mkdir a file cost more than its write, issue 19). The file
        itself is replaced by a rename, which never follows a link at its name."""
        folder, _, leaf = check_name(name, self.name).rpartition("/")
        real = self._folders.get(folder)
        if real is None:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            resolved = (self.root / folder).resolve()
            if resolved != self._real and self._real not in resolved.parents:
                raise TargetError(f"refusing a name outside the folder: {name!r}", target=self.name)
            real = self._folders[folder] = str(resolved)
        return os.path.join(real, leaf)

    def put(self, name: str, data: bytes) -> None:
        self.stage(name, data)
        self.commit()

    def stage(self, name: str, data: bytes) -> None:
        """Writes ``data`` under a temporary name and checks it reads back; it is under its
        name, durably, once :meth:`commit` returns (never before its data is on disk)."""
        if self.sync == "file":
            self._put_now(name, data)
            return
        tmp, path = self._write(name, data, durable=False)
        with self._lock:
            self._staged.append((tmp, path))

    def _write(self, name: str, data: bytes, *, durable: bool) -> tuple[str, str]:
        path = self._new_path(name)
        folder, leaf = os.path.split(path)
        tmp = os.path.join(folder, f".{leaf}.{os.getpid()}.{_HOST}.tmp")
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if durable:
                    os.fsync(fd)
                same = os.pread(fd, len(data) + 1, 0) == data  # read back through the same descriptor
            finally:
                os.close(fd)
        except OSError as exc:
            _unlink(tmp)
            raise TargetError(f"cannot write {name}: {exc.strerror or exc}", target=self.name) from None
        if not same:
            _unlink(tmp)
            raise VerifyError(f"{name} reads back different from what was written", target=self.name)
        return tmp, path

    def _put_now(self, name: str, data: bytes) -> None:
        """One file synced and renamed at once, the folder fsynced (the manifest; every file
        with ``sync = "file"``)."""
        tmp, path = self._write(name, data, durable=True)
        try:
            os.replace(tmp, path)
            _fsync_dir(os.path.dirname(path))
        except OSError as exc:
            _unlink(tmp)
            raise TargetError(f"cannot write {name}: {exc.strerror or exc}", target=self.name) from None

    def commit(self) -> None:
        """Makes every staged file durable, then puts it under its name: data first, names after
        (fsynced per folder), so that no name is ever ahead of its data on disk."""
        with self._lock:
            staged, self._staged = self._staged, []
        if not staged:
            return
        try:
            if self.sync == "filesystem" and _SYNCFS is not None:
                _SYNCFS(self.root)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix=f"fsync-{self.name}")
                list(self._pool.map(_fsync_file, [tmp for tmp, _ in staged]))
            for tmp, path in staged:
                os.replace(tmp, path)
            for folder in sorted({os.path.dirname(path) for _, path in staged}):
                _fsync_dir(folder)
        except OSError as exc:
            for tmp, _ in staged:
                _unlink(tmp)
            raise TargetError(f"cannot make {len(staged)} files durable: {exc.strerror or exc}", target=self.name) from None

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None:
        self.commit()  # whatever the manifest may reference is on disk before it
        self._put_now(name, data)

    def list_assets(self) -> dict[str, int]:
        self.commit()  # a listing shows what was put, as it did when every put was committed
        d = self.root / "assets"
        if not d.is_dir():
            return {}
        return {f"assets/{p.name}": p.stat().st_size for p in d.iterdir() if p.is_file() and not p.name.startswith(".")}

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"cannot read {name}: {exc.strerror}", target=self.name) from None

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot delete {name}: {exc.strerror}", target=self.name) from None

    def close(self) -> None:
        # Staged files never committed were never recorded as delivered: they go, like a
        # killed writer's would.
        with self._lock:
            staged, self._staged = self._staged, []
        for tmp, _ in staged:
            _unlink(tmp)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _sweep(folder: Path) -> int:
    """Removes the temporary files of writers that are gone; how many."""
    now, removed = time.time(), 0
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".") and e.name.endswith(".tmp")]
    except OSError:
        return 0  # an unreadable folder fails the delivery where it matters, with its reason
    for e in entries:
        m = _TMP.fullmatch(e.name)
        if m is None:
            continue
        try:
            if m["host"] == _HOST and _alive(int(m["pid"])) and now - e.stat().st_mtime < STALE_TMP:
                continue  # a write in progress on this host
            if m["host"] != _HOST and now - e.stat().st_mtime < STALE_TMP:
                continue  # another host's (or an old-style) file: only its age can tell
            os.unlink(e.path)
            removed += 1
        except FileNotFoundError:
            pass  # its writer renamed it meanwhile
        except OSError as exc:
            log.warning("cannot remove the leftover %s: %s", e.path, exc.strerror)
    if removed:
        log.info("removed %d leftover temporary files from %s", removed, folder)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_dir(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libc_syncfs() -> object:
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
    except OSError:
        return None


_LIBC_SYNCFS = _libc_syncfs()


def _syncfs(path: Path) -> None:
    """syncfs(2) of the file system holding ``path``: every dirty page and inode on it. Linux
    reports write-back errors through it since 5.8."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC_SYNCFS(fd) != 0:  # type: ignore[operator]
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


_SYNCFS = _syncfs if _LIBC_SYNCFS is not None else None
