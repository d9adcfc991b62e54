"""The store: one SQLModel database, SQLite by default, PostgreSQL for several nodes.

SQLite is opened in WAL mode with a busy timeout; ``write()`` transactions start with
``BEGIN IMMEDIATE`` so that the daemon and a CLI command never deadlock upgrading a read lock.
Every stage uses short transactions: read work, close, do network or CPU work, write results.

A SQLite file deleted or replaced under a running process is not followed: the connections
already open would go on writing to the unlinked file while a new one created an empty
database beside it, so two stores would take turns (issue 15: a version of 0 items went out over
one of 33). The file's identity (``st_dev``, ``st_ino``) is remembered at the first connection
and checked by every new connection and before every transaction; once it differs, every
transaction raises :class:`StoreError` with the reason. Likewise a store is never created
empty where one existed: :func:`guard_existing` keeps a marker in the workdir of every
database it has held, and refuses to start a missing one unless asked (``pusher init``).
"""

from __future__ import annotations

import getpass
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlmodel import Session, create_engine

from pusher.errors import ConfigError, StoreError
from pusher.store.models import Audit, AuditAction
from pusher.store.transitions import install_transition_events
from pusher.timeutil import utcnow

BUSY_TIMEOUT_MS = 15_000


#: The workdir's record of the stores it has held (see :func:`guard_existing`).
MARKER = ".tvpusher-stores.json"


def parse_url(url: str) -> URL:
    """The database URL, or a one-line :class:`ConfigError` naming what is wrong with it."""
    try:
        parsed = make_url(url)
        _ = parsed.port  # SQLAlchemy parses the port only when asked
    except (ArgumentError, ValueError) as exc:
        # Never echo the URL: it may hold a password (the part after '@' too).
        why = str(exc).split("\n", 1)[0]
        if "invalid literal for int()" in why:
            why = f"the port {why.rpartition(':')[2].strip()} is not a number"
        raise ConfigError(f"not a valid database URL ({why})", key="channel.database") from None
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" and not path.startswith("file::memory:") else None


def make_engine(url: str, on_connect: Any = None, pool_size: int | None = None) -> Engine:
    parse_url(url)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_setup(engine, on_connect)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # libpq waits for ever by default: bound the connect, and let keepalives find a dead peer.
    pg_args = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
    # pool_size: connections kept open when idle; a process serving many channels keeps few each
    # (20 channels x 5 on two nodes were past PostgreSQL's 100 connections).
    pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 8}
    return create_engine(url, pool_pre_ping=True, connect_args=pg_args if url.startswith("postgresql") else {}, **pool)


def _sqlite_setup(engine: Engine, on_connect: Any = None) -> None:
    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # Before SQLite opens (and so creates) the file: a deleted database must not come back empty.
        if on_connect is not None:
            on_connect()

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
        if on_connect is not None:
            on_connect()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("tvp_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_file_problem(path: Path) -> str:
    """Why the SQLite file cannot be a whole database ("" if its header says it can): read from
    the header, because SQLite itself may only answer "database is locked" or "malformed"."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return "the file is missing"
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror})"
    if size == 0:
        return ""  # a new database: SQLite writes its header with the first table
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return f"not a SQLite database (truncated or corrupt: {size} bytes, no SQLite header)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The header's page count is valid when its change counter matches "version-valid-for".
    if head[24:28] == head[92:96] and pages and size < pages * page_size:
        return f"truncated or corrupt: {size} bytes where its header says {pages * page_size}"
    return ""


class Store:
    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        install_transition_events()
        self.url = url
        self.path = sqlite_path(url)
        self._identity: tuple[int, int] | None = None
        self._lost = ""  # why this process no longer uses the database (sticky)
        self._identity_lock = threading.Lock()
        self.engine = make_engine(url, self._check_file if self.path is not None else None, pool_size)
        self._write_engine = self.engine.execution_options(tvp_write=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def lost(self) -> str:
        """Why the database this process opened is gone ("" while it is in place)."""
        if not self._lost and self.path is not None and self._identity is not None:
            with suppress(StoreError):
                self._check_file()
        return self._lost

    def _check_file(self) -> None:
        """Raises if the SQLite file is no longer the one this process opened first."""
        if self._lost:
            raise StoreError(self._lost)
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self._identity is None:
                return  # not created yet: the first connection creates it
            self._lose("was deleted")
        ident = (st.st_dev, st.st_ino)
        with self._identity_lock:
            if self._identity is None:
                self._identity = ident
                return
        if ident != self._identity:
            self._lose("was replaced by another file")

    def _lose(self, what: str) -> None:
        self._lost = (f"the database file {self.path} {what} while tvpusher was using it: nothing more is written; "
                      "restore the file (or run `pusher init` for an empty store) and restart")  # fmt: skip
        raise StoreError(self._lost)

    def migrate(self) -> None:
        from pusher.store.migrations import upgrade

        self._check_sqlite_file()
        try:
            upgrade(self.engine)
        except DatabaseError as exc:
            self._check_sqlite_file()
            raise StoreError(f"cannot open or migrate the database {self.safe_url}: {exc.orig}") from exc

    def _check_sqlite_file(self) -> None:
        if self.path is not None and (why := sqlite_file_problem(self.path)) and self.path.exists():
            raise StoreError(f"the database {self.path} is {why}; restore it from a backup")

    def exists(self) -> bool:
        """Whether the database holds a tvpusher schema (it was migrated at least once)."""
        if self.path is not None and (not self.path.exists() or self.path.stat().st_size == 0):
            return False
        self._check_sqlite_file()
        try:
            with self.engine.connect() as conn:
                return inspect(conn).has_table("alembic_version")
        except DatabaseError as exc:
            self._check_sqlite_file()
            raise StoreError(f"cannot open the database {self.safe_url}: {exc.orig}") from exc

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        if self.path is not None:
            self._check_file()
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed on exit (rolled back on error)."""
        if self.path is not None:
            self._check_file()
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session
            if self.path is not None:
                self._check_file()  # replaced while the transaction ran: roll it back

    def audit(self, session: Session, action: AuditAction, *, item_id: int | None = None, reason: str = "", detail: str = "") -> None:
        session.add(Audit(actor=actor(), action=AuditAction(action).value, item_id=item_id, reason=reason, detail=detail))

    def dispose(self) -> None:
        self.engine.dispose()


def guard_existing(store: Store, workdir: Path, *, init: bool = False) -> None:
    """Refuses to start an empty store where this workdir has held one (the database was lost,
    or ``channel.database`` points at the wrong place): that would put an empty channel on air
    and forget every item. "First run" means the workdir's marker does not name this database;
    ``init`` (``pusher init``) starts an empty one on purpose. Records the database afterwards."""
    marker = workdir / MARKER
    try:
        known: dict[str, str] = json.loads(marker.read_text("utf-8")).get("stores", {})
    except FileNotFoundError:
        known = {}
    except (OSError, ValueError, AttributeError) as exc:
        raise StoreError(f"cannot read {marker}: {exc}") from None
    key = _marker_key(store, workdir)
    if key in known and not init and not store.exists():
        where = store.path if store.path is not None else store.safe_url
        raise StoreError(f"the database {where} is missing or empty, but this workdir has held it since {known[key]}: "
                         "restore it from a backup, or run `pusher init` to start an empty store")  # fmt: skip


def _marker_key(store: Store, workdir: Path) -> str:
    """A SQLite file inside the workdir by its relative name: a workdir moved or copied whole
    (a backup restored elsewhere) still knows its database."""
    if store.path is None:
        return store.safe_url
    path, root = store.path.resolve(), workdir.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def record_existing(store: Store, workdir: Path) -> None:
    """Notes in the workdir's marker that it holds this database (see :func:`guard_existing`)."""
    marker = workdir / MARKER
    try:
        data = json.loads(marker.read_text("utf-8"))
    except (OSError, ValueError):
        data = {}
    stores = data.setdefault("stores", {}) if isinstance(data, dict) else {}
    key = _marker_key(store, workdir)
    if key in stores:
        return
    stores[key] = utcnow().isoformat(timespec="seconds")
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"stores": stores}, ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, marker)


def actor() -> str:
    """The operator behind a CLI action: the OS user, as the review issue asks."""
    try:
        return os.environ.get("PUSHER_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
