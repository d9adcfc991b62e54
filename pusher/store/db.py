"""The store: one SQLModel database, SQLite by default, PostgreSQL for several nodes.

SQLite is opened in WAL mode with a busy timeout; ``write()`` transactions start with
``BEGIN IMMEDIATE`` so that the daemon and a CLI command never deadlock upgrading a read lock.
Every stage uses short transactions: read work, close, do network or CPU work, write results.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from pusher.errors import StoreError
from pusher.store.models import Audit, AuditAction
from pusher.store.transitions import install_transition_events

BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # libpq waits for ever by default: bound the connect, and let keepalives find a dead peer.
    pg_args = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
    return create_engine(url, pool_pre_ping=True, connect_args=pg_args if url.startswith("postgresql") else {})


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is DEFERRED.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("tvp_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    def __init__(self, url: str) -> None:
        install_transition_events()
        self.url = url
        self.engine = make_engine(url)
        self._write_engine = self.engine.execution_options(tvp_write=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        from pusher.store.migrations import upgrade

        try:
            upgrade(self.engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open or migrate the database {self.safe_url}: {exc.orig}") from exc

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed on exit (rolled back on error)."""
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def audit(self, session: Session, action: AuditAction, *, item_id: int | None = None, reason: str = "", detail: str = "") -> None:
        session.add(Audit(actor=actor(), action=AuditAction(action).value, item_id=item_id, reason=reason, detail=detail))

    def dispose(self) -> None:
        self.engine.dispose()


def actor() -> str:
    """The operator behind a CLI action: the OS user, as the review issue asks."""
    try:
        return os.environ.get("PUSHER_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
