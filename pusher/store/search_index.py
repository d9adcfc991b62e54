"""The search index's schema: what the migration creates and drops, and what the migration check
must not take for unmodelled tables. Apart from :mod:`pusher.store.search` (the queries) so
that the migrations need nothing that needs a :class:`~pusher.store.db.Store`."""

from __future__ import annotations

from sqlalchemy.engine import Connection

FTS = "item_fts"
TRIGGERS = ("item_fts_ai", "item_fts_ad", "item_fts_au")
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS item_fts_ai AFTER INSERT ON item BEGIN "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS item_fts_ad AFTER DELETE ON item BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    # Only a change of the indexed columns touches the index: state changes are frequent.
    f"CREATE TRIGGER IF NOT EXISTS item_fts_au AFTER UPDATE OF title, text ON item BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
)
_PG_INDEXES = {
    "ix_item_title_trgm": "CREATE INDEX IF NOT EXISTS ix_item_title_trgm ON item USING gin (title gin_trgm_ops)",
    "ix_item_text_trgm": "CREATE INDEX IF NOT EXISTS ix_item_text_trgm ON item USING gin (text gin_trgm_ops)",
}
#: Names the migration check must not mistake for unmodelled tables or indexes.
INDEX_OBJECTS = frozenset({FTS, *(f"{FTS}_{s}" for s in ("data", "idx", "docsize", "config", "content")), *_PG_INDEXES})


def create_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title, text, content='item', content_rowid='id', tokenize='trigram')"
        )
        for ddl in _SQLITE_TRIGGERS:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        # In public, so that every schema on its search path finds the operator classes.
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        for ddl in _PG_INDEXES.values():
            conn.exec_driver_sql(ddl)


def drop_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for t in TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {t}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS}")
    elif conn.dialect.name == "postgresql":
        for name in _PG_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
