"""Content-named assets (page images, exports, playout video) under their sha256.

:class:`AssetStore` is what the stages call. Two implementations:

- :class:`FolderAssets`: a local folder (``channel.workdir/assets``), the only store of a
  single node on SQLite. Several nodes using it must share that folder on one filesystem.
- :class:`CachedAssets`: the same folder as a cache in front of a :class:`BlobStore` every node
  reaches (the database's ``blob`` table, chosen when ``channel.database`` is PostgreSQL), so
  nodes on separate machines share nothing but the database (issue 19). ``put`` writes both
  before it returns: a page row committed after it names a blob every node can read.

Either way the folder is a cache: a page missing from it (and from the shared store) is drawn
again from the item store by ``restore`` (a :class:`pusher.store.redraw.Redrawer` the runtime
installs) when it is read, so deleting the folder costs drawing time, not the channel. What
could not be had again is in ``lost``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from pusher.names import ASSET_DIR, asset_name
from pusher.store.blobs import BlobStore

log = logging.getLogger("tvpusher.assets")


@runtime_checkable
class AssetStore(Protocol):
    root: Path  # the local folder: a cache, or the store itself (FolderAssets)
    restore: Callable[[str, str], bool] | None
    lost: set[str]

    def name_of(self, sha256: str, ext: str = "png") -> str:
        """The asset's name in a headend, relative to the manifest."""
        ...

    def path(self, sha256: str, ext: str = "png") -> Path:
        """Where the local folder keeps the asset (it may not be there: see :meth:`file`)."""
        ...

    def file(self, sha256: str, ext: str = "png") -> Path:
        """A local file holding the asset, brought in (or drawn again) first if it is not there:
        for callers that hand a path to others (the loop muxer, a copy). FileNotFoundError if lost."""
        ...

    def put(self, data: bytes, ext: str = "png") -> str:
        """Stores the bytes; returns their sha256."""
        ...

    def put_many(self, datas: Sequence[bytes], ext: str = "png") -> list[str]:
        """:meth:`put` of several (an item's or a batch's pages: one database write, not one each)."""
        ...

    def put_file(self, path: Path, ext: str) -> tuple[str, int]:
        """Moves a finished file into the store under its sha256 (read in chunks, not whole)."""
        ...

    def read(self, sha256: str, ext: str = "png") -> bytes:
        """The asset's bytes; a missing one is brought in or drawn again first (FileNotFoundError if not)."""
        ...

    def has(self, sha256: str, ext: str = "png") -> bool: ...


class FolderAssets:
    """Assets in a local folder."""

    def __init__(self, root: Path, restore: Callable[[str, str], bool] | None = None) -> None:
        self.root = root
        self.restore = restore
        self.lost: set[str] = set()  # names read while missing that could not be had again
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def name_of(sha256: str, ext: str = "png") -> str:
        return asset_name(sha256, ext)

    def path(self, sha256: str, ext: str = "png") -> Path:
        return self.root / f"{sha256}.{ext}"

    def put(self, data: bytes, ext: str = "png") -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha, ext)
        self.lost.discard(self.name_of(sha, ext))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)  # the folder itself may have been deleted
            # Per thread too: two threads putting the same bytes (a page twice in a loop, encoded by
            # two workers) shared one temporary, and the second rename found it gone.
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)  # a full disk leaves no partial file behind
                raise
        return sha

    def put_many(self, datas: Sequence[bytes], ext: str = "png") -> list[str]:
        return [self.put(d, ext) for d in datas]

    def put_file(self, path: Path, ext: str) -> tuple[str, int]:
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
        try:
            return self.path(sha256, ext).read_bytes()
        except FileNotFoundError:
            pass
        return self.file(sha256, ext).read_bytes()

    def file(self, sha256: str, ext: str = "png") -> Path:
        path = self.path(sha256, ext)
        if path.exists() or self._bring(sha256, ext):
            return path
        if self.restore is None:
            raise FileNotFoundError(f"{self.name_of(sha256, ext)} is missing from the local asset store {self.root}")
        with self._lock:  # one drawing per lost page, however many threads upload
            if not path.exists() and not self.restore(sha256, ext):
                self.lost.add(self.name_of(sha256, ext))
                raise FileNotFoundError(f"{self.name_of(sha256, ext)} is missing from the local asset store {self.root}"
                                        " and cannot be drawn again")  # fmt: skip
        return path

    def _bring(self, sha256: str, ext: str) -> bool:
        """Brings a missing asset into the folder from elsewhere; a lone folder has nowhere to look."""
        return False

    def has(self, sha256: str, ext: str = "png") -> bool:
        return self.path(sha256, ext).exists()


class CachedAssets(FolderAssets):
    """A local folder in front of a :class:`BlobStore` shared by every node."""

    def __init__(self, root: Path, blobs: BlobStore, restore: Callable[[str, str], bool] | None = None) -> None:
        super().__init__(root, restore)
        self.blobs = blobs
        # Names known to be in the shared store. Blobs are immutable and never removed, so a yes
        # is kept: publish asks has() of every page each round, and must not ask the database.
        self._shared: set[str] = set()
        self._listed = False

    def _known(self, name: str) -> bool:
        if name in self._shared:
            return True
        if not self._listed:  # a node started anew learns what is shared in one listing, not a query a page
            self._listed = True
            self._shared.update(self.blobs.names(ASSET_DIR))
            if name in self._shared:
                return True
        if self.blobs.has(name):
            self._shared.add(name)
            return True
        return False

    def put(self, data: bytes, ext: str = "png") -> str:
        sha = super().put(data, ext)
        name = self.name_of(sha, ext)
        if name not in self._shared:  # no look-up first: storing a name that is there does nothing
            self.blobs.put(name, data)
            self._shared.add(name)
        return sha

    def put_many(self, datas: Sequence[bytes], ext: str = "png") -> list[str]:
        shas = [FolderAssets.put(self, d, ext) for d in datas]
        new = {self.name_of(sha, ext): d for sha, d in zip(shas, datas, strict=True)}
        new = {name: d for name, d in new.items() if name not in self._shared}
        if new:
            self.blobs.put_many(list(new.items()))
            self._shared.update(new)
        return shas

    def put_file(self, path: Path, ext: str) -> tuple[str, int]:
        sha, size = super().put_file(path, ext)
        name = self.name_of(sha, ext)
        if name not in self._shared:
            self.blobs.put_file(name, self.path(sha, ext))  # streamed from the cached file
            self._shared.add(name)
        return sha, size

    def has(self, sha256: str, ext: str = "png") -> bool:
        return super().has(sha256, ext) or self._known(self.name_of(sha256, ext))

    def _bring(self, sha256: str, ext: str) -> bool:
        name, path = self.name_of(sha256, ext), self.path(sha256, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(tmp_name)
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as f:

                def write(chunk: bytes) -> None:
                    h.update(chunk)
                    f.write(chunk)

                if not self.blobs.get_to(name, write):
                    return False
            if h.hexdigest() != sha256:
                # Never cached under a name it does not match: it is drawn again, or reported lost.
                log.error("asset %s is corrupt in the shared store (its bytes hash to %s)", name, h.hexdigest())
                return False
            os.replace(tmp, path)
            self._shared.add(name)
            return True
        finally:
            tmp.unlink(missing_ok=True)
