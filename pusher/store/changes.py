"""The channel's change counter: one row (``channel_change``, ``n``) that every write which can
alter what airs bumps, in the writing transaction itself, by database triggers.

It lets an idle publish round skip planning (issue 19: planning 15,000 items took seconds to
learn that nothing changed): when the counter, the newest channel version and the inputs that
no row holds (settings, the local date, the time an item ages out or an alert ends) are as they
were after the last plan, the same plan would come out again.

Why triggers and not a bump in the code: a write that forgot to bump would keep a retraction off
the air. A trigger sees every write whichever module, command or node made it, ORM flush or bulk
statement. What bumps it:

- ``item``: an insert, a delete, an update of any column but :data:`ITEM_UNWATCHED` (claims,
  poll bookkeeping, the reason text shown to operators: none of them changes what airs);
- ``page``: an item's pages (``item:<id>``) written or deleted. Menu, home and alert pages are
  not watched: they are a cache of what the plan computes from the rows above (the publish
  stage checks that their files are still in the asset cache before it skips);
- ``alert``: any write; ``audit``: any insert (review decisions, retractions, alerts);
- ``channel_version``: an update of a version already made (its time decides when the XMLTV
  schedule needs a new one). A new version is not a change: the stage compares the newest
  version's number itself.

A batch migration that rebuilds ``item`` on SQLite drops its triggers, and a column added later
must be watched too: :func:`watching` says whether the triggers in place are the ones this code
makes (the SQLite trigger names carry a hash of the watched columns), :func:`install` makes them.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from pusher.names import ITEM_OWNER_PREFIX
from pusher.store.models import Item

TABLE = "channel_change"
PREFIX = "channel_change_"
#: Item columns whose change never alters what airs.
ITEM_UNWATCHED = ("claimed_by", "claimed_until", "checked_at", "validators", "missing_polls", "updated_at", "state_reason")
_BUMP = f"UPDATE {TABLE} SET n = n + 1 WHERE id = 1"
_ITEM_PAGE = f"substr({{row}}.owner, 1, {len(ITEM_OWNER_PREFIX)}) = '{ITEM_OWNER_PREFIX}'"


def _watched() -> list[str]:
    return [c.name for c in Item.__table__.columns if c.name not in ITEM_UNWATCHED]  # type: ignore[attr-defined]


def _sqlite_triggers() -> dict[str, str]:
    cols = _watched()
    tag = hashlib.sha256(",".join(cols).encode()).hexdigest()[:8]
    changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in cols)
    new_page, old_page = _ITEM_PAGE.format(row="NEW"), _ITEM_PAGE.format(row="OLD")
    defs = {
        "item_ai": "AFTER INSERT ON item",
        "item_ad": "AFTER DELETE ON item",
        f"item_au_{tag}": f"AFTER UPDATE ON item WHEN {changed}",
        "page_ai": f"AFTER INSERT ON page WHEN {new_page}",
        "page_ad": f"AFTER DELETE ON page WHEN {old_page}",
        "page_au": f"AFTER UPDATE ON page WHEN {old_page} OR {new_page}",
        "alert_ai": "AFTER INSERT ON alert",
        "alert_ad": "AFTER DELETE ON alert",
        "alert_au": "AFTER UPDATE ON alert",
        "audit_ai": "AFTER INSERT ON audit",
        "channel_version_au": "AFTER UPDATE ON channel_version",
    }
    return {PREFIX + name: f"CREATE TRIGGER {PREFIX}{name} {when} BEGIN {_BUMP}; END" for name, when in defs.items()}


# PostgreSQL compares whole rows (as jsonb, less the unwatched columns), so a column added later
# is watched without a new trigger.
_PG_FUNCTIONS = {
    f"{PREFIX}bump": f"CREATE OR REPLACE FUNCTION {PREFIX}bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {_BUMP}; RETURN NULL; END $$",
}
_UNWATCHED_PG = "ARRAY[" + ", ".join(f"'{c}'" for c in ITEM_UNWATCHED) + "]"
_PG_TRIGGERS = {
    f"{PREFIX}item_insdel": "AFTER INSERT OR DELETE ON item FOR EACH STATEMENT",
    f"{PREFIX}item_upd": f"AFTER UPDATE ON item FOR EACH ROW WHEN ((to_jsonb(OLD) - {_UNWATCHED_PG}::text[]) "
    f"IS DISTINCT FROM (to_jsonb(NEW) - {_UNWATCHED_PG}::text[]))",
    f"{PREFIX}page_ins": f"AFTER INSERT ON page FOR EACH ROW WHEN ({_ITEM_PAGE.format(row='NEW')})",
    f"{PREFIX}page_del": f"AFTER DELETE ON page FOR EACH ROW WHEN ({_ITEM_PAGE.format(row='OLD')})",
    f"{PREFIX}page_upd": f"AFTER UPDATE ON page FOR EACH ROW WHEN ({_ITEM_PAGE.format(row='OLD')} OR {_ITEM_PAGE.format(row='NEW')})",
    f"{PREFIX}alert": "AFTER INSERT OR UPDATE OR DELETE ON alert FOR EACH STATEMENT",
    f"{PREFIX}audit": "AFTER INSERT ON audit FOR EACH STATEMENT",
    f"{PREFIX}channel_version": "AFTER UPDATE ON channel_version FOR EACH STATEMENT",
}
_PG_TABLES = ("item", "page", "alert", "audit", "channel_version")


def expected(dialect: str) -> frozenset[str]:
    """The names of the triggers this code makes for ``dialect``."""
    return frozenset(_sqlite_triggers() if dialect == "sqlite" else _PG_TRIGGERS)


def present(conn: Connection | Session) -> frozenset[str]:
    """The names of the change-counter triggers in the database now."""
    like = PREFIX.replace("_", r"\_") + "%"
    if _dialect(conn) == "sqlite":
        q = text(r"SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE :like ESCAPE '\'")
    else:
        tables = ", ".join(f"'{t}'::regclass" for t in _PG_TABLES)
        q = text(rf"SELECT tgname FROM pg_trigger WHERE tgrelid IN ({tables}) AND tgname LIKE :like ESCAPE '\'")
    return frozenset(str(r[0]) for r in conn.execute(q, {"like": like}))


def watching(conn: Connection | Session) -> bool:
    """Whether every write that can alter what airs bumps the counter (the triggers in place are
    exactly the ones this code makes)."""
    return present(conn) == expected(_dialect(conn))


def install(conn: Connection | Session) -> None:
    """(Re)makes the counter's row and triggers: the migration, and a publish that found them
    missing or stale (a batch migration rebuilt ``item``; a column was added)."""
    if conn.execute(text(f"SELECT count(*) FROM {TABLE} WHERE id = 1")).scalar() == 0:
        conn.execute(text(f"INSERT INTO {TABLE} (id, n) VALUES (1, 0)"))
    drop(conn, functions=False)
    if _dialect(conn) == "sqlite":
        for ddl in _sqlite_triggers().values():
            conn.execute(text(ddl))
    else:
        for ddl in _PG_FUNCTIONS.values():
            conn.execute(text(ddl))
        for name, when in _PG_TRIGGERS.items():
            conn.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {PREFIX}bump()"))
    # Whatever was written while the triggers were missing is a change.
    conn.execute(text(_BUMP))


def drop(conn: Connection | Session, *, functions: bool = True) -> None:
    """Drops the triggers (and, on PostgreSQL, with ``functions`` their function)."""
    sqlite = _dialect(conn) == "sqlite"
    for name in present(conn):
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}" if sqlite else f"DROP TRIGGER IF EXISTS {name} ON {_pg_table(name)}"))
    if not sqlite and functions:
        for name in _PG_FUNCTIONS:
            conn.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))


def _pg_table(trigger: str) -> str:
    rest = trigger.removeprefix(PREFIX)
    return next(t for t in _PG_TABLES if rest.startswith(t))


def count(db: Session) -> int:
    """The counter now (as this transaction sees it)."""
    return int(db.execute(text(f"SELECT n FROM {TABLE} WHERE id = 1")).scalar() or 0)


def lock(db: Session) -> int:
    """The counter, row-locked for the rest of the caller's write transaction, so that no other
    transaction bumps it until this one commits (SQLite's ``BEGIN IMMEDIATE`` already does)."""
    if _dialect(db) == "sqlite":
        return count(db)
    return int(db.execute(text(f"SELECT n FROM {TABLE} WHERE id = 1 FOR UPDATE")).scalar() or 0)


def _dialect(conn: Connection | Session) -> str:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return bind.dialect.name
