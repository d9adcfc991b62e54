"""Which node runs the scheduler's poll and publish jobs: exactly one at a time.

PostgreSQL: a session-level advisory lock taken on a dedicated connection (never a pooled one,
which would hand the lock to whoever borrows it next). The server releases it when that session
ends, so when the leader dies, its connection closes and the next follower to try takes over.
TCP keepalives bound how long a leader on a vanished host keeps the lock. The key is derived
from the database and schema, so that channels sharing a server do not elect each other.

SQLite (one machine): an exclusive ``flock`` on a file beside the database, released by the
kernel when the process dies, so that two daemons started on one SQLite file do not both poll.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from pusher.store.db import Store

log = logging.getLogger("tvpusher.leader")

LOCK_NAME = "tvpusher-scheduler"


class Leadership(Protocol):
    def acquire(self) -> bool:
        """Tries (without waiting) to become the leader; True if this node leads now."""

    def held(self) -> bool:
        """True if this node still leads (checked, not remembered)."""

    def release(self) -> None: ...


def libpq_conninfo(store: Store) -> str:
    """The store's PostgreSQL URL as libpq keywords. Not SQLAlchemy's rendering of it: that
    writes a space of ``options`` as ``+``, which libpq keeps, so ``-csearch_path=a -cx=y`` came
    out as one search_path and every channel's schema elected one leader for all of them."""
    from psycopg.conninfo import make_conninfo

    u = store.engine.url
    query = {k: v if isinstance(v, str) else v[-1] for k, v in u.query.items()}
    parts = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username, "password": u.password, **query}
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


class PgLeadership:
    def __init__(self, store: Store) -> None:
        self.conninfo = libpq_conninfo(store)
        self._conn: Any = None
        self._held = False
        self.key: int | None = None

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10,
                               keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)  # fmt: skip
        row = conn.execute("SELECT current_database(), current_schema()").fetchone()
        assert row is not None
        digest = hashlib.sha256(f"{LOCK_NAME}:{row[0]}:{row[1]}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        return conn

    def acquire(self) -> bool:
        if self._held and self.held():
            return True
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            got = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            self._held = bool(got and got[0])
        except Exception as exc:  # psycopg.Error, OSError: the database is away; try again later
            log.warning("cannot reach the database to elect a leader: %s", exc)
            self._drop()
        return self._held

    def held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            # The lock lives as long as this session; a session that still answers still holds it.
            self._conn.execute("SELECT 1").fetchone()
        except Exception as exc:
            log.error("lost the leader's database session: %s", exc)
            self._drop()
        return self._held

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        if self._held and self._conn is not None:
            with contextlib.suppress(Exception):  # closing the session releases it anyway
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def leadership_for(store: Store, workdir: Path) -> Leadership:
    if store.engine.dialect.name == "postgresql":
        return PgLeadership(store)
    db = store.engine.url.database
    lock = Path(f"{db}.scheduler.lock") if db and db != ":memory:" else workdir / "scheduler.lock"
    return FileLeadership(lock)
