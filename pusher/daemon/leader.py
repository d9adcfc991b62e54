"""Which node runs the scheduler's poll and publish jobs: exactly one at a time.

PostgreSQL: a session-level advisory lock taken on a dedicated connection (never a pooled one,
which would hand the lock to whoever borrows it next). The server releases it when that session
ends, so when the leader dies, its connection closes and the next follower to try takes over.
TCP keepalives bound how long a leader on a vanished host keeps the lock. The key is derived
from the database and schema, so that channels sharing a server do not elect each other; the
channels of one process on one database hold their locks on one shared session.

SQLite (one machine): an exclusive ``flock`` on a file beside the database, released by the
kernel when the process dies, so that two daemons started on one SQLite file do not both poll.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
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


def libpq_conninfo(store: Store, *, search_path: bool = True) -> str:
    """The store's PostgreSQL URL as libpq keywords. Not SQLAlchemy's rendering of it: that
    writes a space of ``options`` as ``+``, which libpq keeps, so ``-csearch_path=a -cx=y`` came
    out as one search_path and every channel's schema elected one leader for all of them.
    ``search_path=False``: without the URL's ``options`` (a session for any schema)."""
    from psycopg.conninfo import make_conninfo

    u = store.engine.url
    query = {k: v if isinstance(v, str) else v[-1] for k, v in u.query.items() if search_path or k != "options"}
    parts = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username, "password": u.password, **query}
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


class _Session:
    """One dedicated connection holding the advisory locks of every channel of a process on one
    database: twenty channels no longer take twenty connections per node. ``generation`` counts
    reconnections; a lock taken in an earlier generation died with its session."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.lock = threading.Lock()
        self.conn: Any = None
        self.generation = 0
        # Keys this process holds on the session: an advisory lock is reentrant within its
        # session, so a second holder in the process must be refused here, not by the server.
        self.held: set[int] = set()

    def connection(self) -> Any:
        """The session's connection (made now if it has none); call with ``lock`` held."""
        import psycopg

        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10,
                                        keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)  # fmt: skip
            self.generation += 1
            self.held.clear()
        return self.conn

    def drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # already broken
                self.conn.close()
        self.conn = None
        self.held.clear()


_SESSIONS: dict[str, _Session] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(conninfo: str) -> _Session:
    with _SESSIONS_LOCK:
        return _SESSIONS.setdefault(conninfo, _Session(conninfo))


class PgLeadership:
    def __init__(self, store: Store) -> None:
        # The key names the database and schema the store's tables are in; the session that
        # holds it needs no search path, so every schema of one database shares it.
        self.conninfo = libpq_conninfo(store, search_path=False)
        self._store_conninfo = libpq_conninfo(store)
        self._session = _session(self.conninfo)
        self._generation = -1
        self._held = False
        self.key: int | None = None

    @property
    def _conn(self) -> Any:
        """The session's connection (tests end it to play a leader whose host died)."""
        return self._session.conn

    def _key(self) -> int:
        if self.key is None:
            import psycopg

            with psycopg.connect(self._store_conninfo, autocommit=True, connect_timeout=10) as conn:
                row = conn.execute("SELECT current_database(), current_schema()").fetchone()
            assert row is not None
            digest = hashlib.sha256(f"{LOCK_NAME}:{row[0]}:{row[1]}".encode()).digest()
            self.key = int.from_bytes(digest[:8], "big", signed=True)
        return self.key

    def acquire(self) -> bool:
        if self._held and self.held():
            return True
        try:
            key = self._key()
            with self._session.lock:
                conn = self._session.connection()
                if key in self._session.held:
                    return False  # another leadership of this process holds it
                got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                self._held, self._generation = bool(got and got[0]), self._session.generation
                if self._held:
                    self._session.held.add(key)
        except Exception as exc:  # psycopg.Error, OSError: the database is away; try again later
            log.warning("cannot reach the database to elect a leader: %s", exc)
            self._drop()
        return self._held

    def held(self) -> bool:
        if not self._held:
            return False
        with self._session.lock:
            conn = self._session.conn
            if conn is None or conn.closed or self._session.generation != self._generation:
                self._held = False  # the session that held the lock is gone, and the lock with it
                return False
            try:
                # The lock lives as long as this session; a session that still answers still holds it.
                conn.execute("SELECT 1").fetchone()
            except Exception as exc:
                log.error("lost the leader's database session: %s", exc)
                self._session.drop()
                self._held = False
        return self._held

    def _drop(self) -> None:
        self._held = False
        with self._session.lock:
            self._session.drop()

    def release(self) -> None:
        if self._held and self.key is not None:
            with self._session.lock, contextlib.suppress(Exception):  # a dead session released it anyway
                if self._session.conn is not None and self._session.generation == self._generation:
                    self._session.held.discard(self.key)
                    self._session.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._held = False


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
