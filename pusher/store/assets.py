"""The local asset cache: rendered page images, stored under their sha256.

It is a cache: a page missing from it is drawn again from the store by ``restore`` (a
:class:`pusher.store.redraw.Redrawer` the runtime installs) when it is read, so deleting the
folder costs drawing time, not the channel. What could not be had again is in ``lost``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from pusher.names import asset_name


class AssetStore:
    def __init__(self, root: Path, restore: Callable[[str, str], bool] | None = None) -> None:
        self.root = root
        self.restore = restore
        self.lost: set[str] = set()  # names read while missing that could not be had again
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def name_of(sha256: str, ext: str = "png") -> str:
        """The asset's name in a headend, relative to the manifest."""
        return asset_name(sha256, ext)

    def path(self, sha256: str, ext: str = "png") -> Path:
        return self.root / f"{sha256}.{ext}"

    def put(self, data: bytes, ext: str = "png") -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha, ext)
        self.lost.discard(self.name_of(sha, ext))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)  # the folder itself may have been deleted
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)  # a full disk leaves no partial file behind
                raise
        return sha

    def put_file(self, path: Path, ext: str) -> tuple[str, int]:
        """Moves a finished file into the cache under its sha256 (read in chunks, not whole)."""
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        sha = h.hexdigest()
        size = path.stat().st_size
        self.lost.discard(self.name_of(sha, ext))
        self.root.mkdir(parents=True, exist_ok=True)
        if self.path(sha, ext).exists():
            path.unlink()
        else:
            os.replace(path, self.path(sha, ext))
        return sha, size

    def read(self, sha256: str, ext: str = "png") -> bytes:
        """The file's bytes; a missing one is drawn again first if it can be (FileNotFoundError if not)."""
        try:
            return self.path(sha256, ext).read_bytes()
        except FileNotFoundError:
            if self.restore is None:
                raise
        with self._lock:  # one drawing per lost page, however many threads upload
            if not self.path(sha256, ext).exists() and not self.restore(sha256, ext):
                self.lost.add(self.name_of(sha256, ext))
                raise FileNotFoundError(f"{self.name_of(sha256, ext)} is missing from the local asset store {self.root}"
                                        " and cannot be drawn again")  # fmt: skip
        return self.path(sha256, ext).read_bytes()

    def has(self, sha256: str, ext: str = "png") -> bool:
        return self.path(sha256, ext).exists()
