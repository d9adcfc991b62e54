"""A local or mounted drop folder, as carousel generators (OpenCaster and the like) read it.

Every file is written to a temporary name in the same folder, fsynced, renamed over its final
name with ``os.replace`` and the folder fsynced, so that a reader sees either the old file or
the new one, never a partial one, even across a crash or power loss.

A write killed half-way leaves its temporary file behind (``.<leaf>.<pid>.<host>.tmp``); each
new target object removes those whose writer is gone: a dead process of this host, or any
writer's file older than :data:`STALE_TMP` (another host's process cannot be asked; one file is
written in seconds). Before issue 15 they piled up in the headend for ever.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import time
from pathlib import Path

from pusher.errors import TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name

log = logging.getLogger("tvpusher.targets")

STALE_TMP = 3600.0  # seconds
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
# .<leaf>.<pid>.<host>.tmp, and the .<leaf>.<pid>.tmp written before the host was in the name.
_TMP = re.compile(r"^\.(?P<leaf>.+?)\.(?P<pid>\d+)(?:\.(?P<host>[A-Za-z0-9_-]+))?\.tmp$")


class FolderOptions(TargetOptions):
    path: Path


class FolderTarget:
    def __init__(self, name: str, options: FolderOptions) -> None:
        self.name = name
        self.concurrency = 1  # fsync-bound: more writers would not make the disk faster
        self.root = Path(options.path)
        try:
            (self.root / "assets").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot create {self.root}: {exc.strerror}", target=name) from None
        self.swept = _sweep(self.root) + _sweep(self.root / "assets")

    def _path(self, name: str) -> Path:
        p = (self.root / check_name(name, self.name)).resolve()
        if self.root.resolve() not in p.parents:
            raise TargetError(f"refusing a name outside the folder: {name!r}", target=self.name)
        return p

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{_HOST}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise TargetError(f"cannot write {name}: {exc.strerror or exc}", target=self.name) from None
        got = path.read_bytes()
        if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
            raise VerifyError(f"{name} reads back different from what was written", target=self.name)

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None:
        self.put(name, data)

    def list_assets(self) -> dict[str, int]:
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
        pass


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
