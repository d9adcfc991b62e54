"""The local asset cache: rendered page images, stored under their sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pusher.names import asset_name


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = root
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
        if not path.exists():
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
        if self.path(sha, ext).exists():
            path.unlink()
        else:
            os.replace(path, self.path(sha, ext))
        return sha, size

    def read(self, sha256: str, ext: str = "png") -> bytes:
        return self.path(sha256, ext).read_bytes()

    def has(self, sha256: str, ext: str = "png") -> bool:
        return self.path(sha256, ext).exists()
