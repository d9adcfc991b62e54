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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection, Row, select, text
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

    def put_many(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """:meth:`put` of several at once (one transaction: a render batch's pages)."""
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
    """Blobs in the store's ``blob`` table (PostgreSQL bytea chunk rows; SQLite BLOBs where forced).

    Plain connections, not ORM sessions: a page is put or read with one statement, and a
    session's own round trips cost more than the statement (measured: 5.8 ms against 2.5 ms a
    page on a loaded PostgreSQL on loopback, see ``bench/shared_assets_bench.py``).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pg = not store.is_sqlite
        self._insert = postgresql.insert if self._pg else sqlite.insert
        # SQLite writers take BEGIN IMMEDIATE (see pusher.store.db), as the store's own do.
        self._writer = store.engine if self._pg else store.engine.execution_options(tvp_write=True)

    def _failed(self, what: str, name: str, exc: DBAPIError) -> StoreError:
        return StoreError(f"blob {name}: cannot {what} it in the database: {str(exc.orig).splitlines()[0]}")

    def size(self, name: str) -> int | None:
        try:
            with self.store.engine.connect() as conn:
                got = conn.execute(select(col(Blob.size)).where(col(Blob.name) == name, col(Blob.seq) == 0)).scalar()
        except DBAPIError as exc:
            raise self._failed("look up", name, exc) from exc
        return None if got is None else int(got)

    def has(self, name: str) -> bool:
        return self.size(name) is not None

    def put(self, name: str, data: bytes) -> None:
        self.put_many([(name, data)])

    def put_many(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        # No look-up first: a name already there is a conflict that does nothing.
        rows = [
            {"name": name, "seq": n, "size": len(data), "data": data[i : i + CHUNK]}
            for name, data in blobs
            for n, i in enumerate(range(0, max(len(data), 1), CHUNK))
        ]
        if rows:
            self._write(blobs[0][0], lambda: iter([rows]))

    def put_file(self, name: str, path: Path) -> None:
        if self.has(name):
            return  # a loop of hundreds of MB is not sent to the database only to be dropped there
        size = path.stat().st_size

        def chunks() -> Iterator[list[dict[str, object]]]:
            with path.open("rb") as f:
                seq = 0
                while (chunk := f.read(CHUNK)) or seq == 0:
                    yield [{"name": name, "seq": seq, "size": size, "data": chunk}]
                    seq += 1

        self._write(name, chunks)

    def _write(self, name: str, batches: Callable[[], Iterator[list[dict[str, object]]]]) -> None:
        """Inserts the rows ``batches`` yields (a few at a time: a loop is read as it is sent)."""
        # The same name stored already, or by another node at once: its rows stand (names are
        # content hashes, or the first writer's stands).
        stmt = self._insert(Blob).on_conflict_do_nothing(index_elements=["name", "seq"])
        try:
            # One transaction: a reader on another node sees every chunk or none.
            with self._writer.begin() as conn:
                if self._pg:
                    # Safe without waiting for the disk: WAL is flushed in order, so the commit of
                    # any row that names this blob (a page, a version), which does wait, makes
                    # the blob durable first. A crash before that loses both together.
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                for rows in batches():
                    conn.execute(stmt, rows)
        except DBAPIError as exc:
            raise self._failed("store", name, exc) from exc

    def names(self, prefix: str) -> list[str]:
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        try:
            with self.store.engine.connect() as conn:
                query = select(col(Blob.name)).where(col(Blob.seq) == 0, col(Blob.name).like(like, escape="\\"))
                return list(conn.execute(query).scalars())
        except DBAPIError as exc:
            raise self._failed("list", prefix, exc) from exc

    def get(self, name: str) -> bytes | None:
        out = io.BytesIO()
        return out.getvalue() if self.get_to(name, out.write) else None

    def get_to(self, name: str, write: Callable[[bytes], object]) -> bool:
        def chunk(conn: Connection, seq: int) -> Row[int, bytes] | None:
            return conn.execute(select(col(Blob.size), col(Blob.data)).where(col(Blob.name) == name, col(Blob.seq) == seq)).first()

        try:
            with self.store.engine.connect() as conn:
                first = chunk(conn, 0)  # a page is one chunk: one query
                if first is None:
                    return False
                write(bytes(first[1]))
                # One chunk per query: memory stays at a chunk whatever the blob's size, on any driver.
                for seq in range(1, -(-int(first[0]) // CHUNK)):
                    row = chunk(conn, seq)
                    if row is None:
                        raise StoreError(f"blob {name}: chunk {seq} is missing from the database")
                    write(bytes(row[1]))
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
