"""One channel's Runtime, its PostgreSQL schema made first when it has one (``channel.database_schema``).

Used by the daemon for each channel it serves and by the commands for the channel they act on.
On PostgreSQL the schema is created and migrated under an advisory lock, so that two nodes
starting at once on a new deployment do not both run the migrations of one schema (the second
finds it done); within a process, one channel is opened at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator

from pusher.config.settings import Settings
from pusher.daemon.leader import libpq_conninfo
from pusher.runtime import Runtime
from pusher.store.db import Store

MIGRATE_LOCK = "tvpusher-migrate"
# Alembic keeps the migration context in module globals: two channels migrated by two threads
# at once broke each other ("KeyError: 'config'", "no such table: main.item").
_MIGRATING = threading.Lock()


def open_runtime(settings: Settings, *, init: bool = False, pool_size: int | None = None) -> Runtime:
    """``pool_size``: database connections kept open when idle (a daemon of many channels keeps few)."""
    store = Store(settings.channel.database_url, pool_size=pool_size)
    try:
        with _MIGRATING:
            if store.is_sqlite:
                return Runtime(settings, store, init=init)
            with _migration_lock(store, settings.channel.database_schema):
                return Runtime(settings, store, init=init)
    except BaseException:
        store.dispose()
        raise


@contextlib.contextmanager
def _migration_lock(store: Store, schema: str) -> Iterator[None]:
    import psycopg

    from pusher.errors import StoreError

    try:
        conn = psycopg.connect(libpq_conninfo(store), autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"cannot open the database {store.safe_url}: {exc}".splitlines()[0]) from None
    with conn:
        db = conn.execute("SELECT current_database()").fetchone()
        digest = hashlib.sha256(f"{MIGRATE_LOCK}:{db[0] if db else ''}:{schema}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            if schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
