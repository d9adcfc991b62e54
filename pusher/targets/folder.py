"""A local or mounted drop folder, as carousel generators (OpenCaster and the like) read it.

Every file is written to a temporary name in the same folder, fsynced, renamed over its final
name with ``os.replace`` and the folder fsynced, so that a reader sees either the old file or
the new one, never a partial one, even across a crash or power loss.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pusher.errors import TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name


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

    def _path(self, name: str) -> Path:
        p = (self.root / check_name(name, self.name)).resolve()
        if self.root.resolve() not in p.parents:
            raise TargetError(f"refusing a name outside the folder: {name!r}", target=self.name)
        return p

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
