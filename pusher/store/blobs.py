"""Shared blobs: the files one node writes and another reads, kept where every node reaches them.

Several nodes used to share ``channel.workdir`` on one filesystem; with a blob store they share
nothing but the database (issue 19). A blob is a name (``assets/<sha256>.png``,
``images/<url hash>``, ``segments/<key>``) and its bytes; the nodes' folders are caches in front
of it (:class:`pusher.store.assets.CachedAssets`, :class:`pusher.store.images.ImageCache`).

:class:`DatabaseBlobs` keeps them in the store's ``blob`` table as chunk rows of at most
:data:`CHUNK` bytes: a playout ``loop.ts`` is hundreds of MB, so files are written and read a
chunk at a time, never whole in memory. A blob's chunks are written in one transaction, so a
reader sees all of it or nothing; a name is written once (``ON CONFLICT DO NOTHING``): two nodes
putting the same content-named asset at once both succeed and one copy is kept.

The interface is what an object store offers too (``head``/``put``/``get`` of an object), so an
S3-compatible backend would be one more class; none is written, because none can be tested here.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from pusher.errors import StoreError
from pusher.store.db import Store
from pusher.store.models import Blob

#: Bytes per chunk row: big enough that a page is one row, small enough that a loop streams.
CHUNK = 1 << 20


@runtime_checkable
class BlobStore(Protocol):
    """Named, immutable blobs every node reaches. Errors of the backend are :class:`StoreError`."""

    def has(self, name: str) -> bool: ...

    def size(self, name: str) -> int | None:
        """The blob's bytes, or None when there is none of that name."""
        ...

    def put(self, name: str, data: bytes) -> None:
        """Stores ``data`` under ``name`` unless a blob of that name exists already."""
        ...

    def put_file(self, name: str, path: Path) -> None:
        """Stores the file's bytes under ``name``, read a chunk at a time."""
        ...

    def get(self, name: str) -> bytes | None: ...

    def names(self, prefix: str) -> list[str]:
        """Every blob whose name starts with ``prefix`` (one listing, not one look-up a name)."""
        ...

    def get_to(self, name: str, write: Callable[[bytes], object]) -> bool:
        """Hands the blob to ``write`` a chunk at a time; False (nothing written) when there is none."""
        ...


class DatabaseBlobs:
    """Blobs in the store's ``blob`` table (PostgreSQL bytea chunk rows; SQLite BLOBs where forced)."""

    def __init__(self, store: Store) -> None:
        # Through the store's sessions: SQLite writers take BEGIN IMMEDIATE, and a database file
        # replaced under the process is noticed here too.
        self.store = store
        self._insert = sqlite.insert if store.is_sqlite else postgresql.insert

    def _failed(self, what: str, name: str, exc: DBAPIError) -> StoreError:
        return StoreError(f"blob {name}: cannot {what} it in the database: {str(exc.orig).splitlines()[0]}")

    def size(self, name: str) -> int | None:
        try:
            with self.store.read() as db:
                got = db.execute(select(col(Blob.size)).where(col(Blob.name) == name, col(Blob.seq) == 0)).scalar()
        except DBAPIError as exc:
            raise self._failed("look up", name, exc) from exc
        return None if got is None else int(got)

    def has(self, name: str) -> bool:
        return self.size(name) is not None

    def put(self, name: str, data: bytes) -> None:
        self._write(name, len(data), (data[i : i + CHUNK] for i in range(0, max(len(data), 1), CHUNK)))

    def put_file(self, name: str, path: Path) -> None:
        size = path.stat().st_size

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
            if size == 0:
                yield b""

        self._write(name, size, chunks())

    def _write(self, name: str, size: int, chunks: Iterator[bytes]) -> None:
        if self.has(name):
            return  # names are written once: content-named, or the first writer's stands
        try:
            # One transaction: a reader on another node sees every chunk or none.
            with self.store.write() as db:
                for seq, chunk in enumerate(chunks):
                    stmt = self._insert(Blob).values(name=name, seq=seq, size=size, data=chunk)
                    # Another node storing the same name at once: its rows stand, ours are dropped.
                    db.execute(stmt.on_conflict_do_nothing(index_elements=["name", "seq"]))
        except DBAPIError as exc:
            raise self._failed("store", name, exc) from exc

    def names(self, prefix: str) -> list[str]:
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        try:
            with self.store.read() as db:
                return list(db.execute(select(col(Blob.name)).where(col(Blob.seq) == 0, col(Blob.name).like(like, escape="\\"))).scalars())
        except DBAPIError as exc:
            raise self._failed("list", prefix, exc) from exc

    def get(self, name: str) -> bytes | None:
        out = io.BytesIO()
        return out.getvalue() if self.get_to(name, out.write) else None

    def get_to(self, name: str, write: Callable[[bytes], object]) -> bool:
        try:
            with self.store.read() as db:
                size = db.execute(select(col(Blob.size)).where(col(Blob.name) == name, col(Blob.seq) == 0)).scalar()
                if size is None:
                    return False
                # One chunk per query: memory stays at a chunk whatever the blob's size, on any driver.
                for seq in range(max(1, -(-int(size) // CHUNK))):
                    data = db.execute(select(col(Blob.data)).where(col(Blob.name) == name, col(Blob.seq) == seq)).scalar()
                    if data is None:
                        raise StoreError(f"blob {name}: chunk {seq} is missing from the database")
                    write(bytes(data))
        except DBAPIError as exc:
            raise self._failed("read", name, exc) from exc
        return True


def fetch_to_file(blobs: BlobStore, name: str, path: Path) -> bool:
    """Brings a blob into a local file whole or not at all (a temporary renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            found = blobs.get_to(name, f.write)
        if found:
            os.replace(tmp, path)
        return found
    finally:
        tmp.unlink(missing_ok=True)
