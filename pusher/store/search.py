"""Search over items' titles and text, Chinese substrings included, ranked, with snippets.

Chinese has no spaces to split words at, so both engines index character trigrams:

- SQLite: an external-content FTS5 table ``item_fts`` (``tokenize='trigram'``) kept in step with
  ``item`` by triggers. Words of three characters or more are matched through the index and
  ranked by bm25 (a title hit weighs more than a text hit); shorter words (``财政``) cannot be
  trigram-matched and filter the candidates with ``LIKE`` instead.
- PostgreSQL: ``pg_trgm`` GIN indexes on ``item.title`` and ``item.text``, which serve
  ``ILIKE '%word%'`` for any word length; ranked by how often and where the words occur.

The index is not part of the models (it is invisible to SQLModel): the migration creates it
(with :mod:`pusher.store.search_index`, which needs no store), and
:func:`ensure_index` re-creates the SQLite triggers if a later batch migration of ``item``
rebuilt the table and dropped them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from pusher.errors import TvPusherError
from pusher.states import ItemState
from pusher.store.db import Store
from pusher.store.search_index import FTS, INDEX_OBJECTS, TRIGGERS, create_index, drop_index

__all__ = ["INDEX_OBJECTS", "Hit", "create_index", "drop_index", "ensure_index", "search", "words_of"]

SNIPPET_CHARS = 48


def ensure_index(store: Store) -> None:
    """Re-creates (and rebuilds) the SQLite index if its triggers are gone."""
    if not store.is_sqlite:
        return
    with store.engine.connect() as conn:
        have = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")}
    if FTS in have and all(t in have for t in TRIGGERS):
        return
    with store.write() as db:
        create_index(db.connection())


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    column: str
    state: str
    published: datetime | None
    url: str
    snippet: str
    score: float  # higher is better


def words_of(query: str) -> list[str]:
    """Words split at spaces and punctuation; each is searched as a substring."""
    return [w for w in re.split(r"[\s,，、;；。\"“”'‘’()（）]+", query) if w]


def search(store: Store, query: str, *, column: str | None = None, since: datetime | None = None, limit: int = 20) -> list[Hit]:
    """Items containing every word of ``query`` in their title or text, best first."""
    words = words_of(query)
    if not words:
        raise TvPusherError("nothing to search for: give at least one word")
    filters, params = _filters(column, since)
    if store.is_sqlite:
        ensure_index(store)
        long = [w for w in words if len(w) >= 3]
        if long:
            return _sqlite_fts(store, words, long, filters, params, limit)
    return _scan(store, words, filters, params, limit)


def _filters(column: str | None, since: datetime | None) -> tuple[list[str], dict[str, Any]]:
    filters: list[str] = ["item.duplicate_of IS NULL"]
    params: dict[str, Any] = {}
    if column:
        filters.append('item."column" = :column')
        params["column"] = column
    if since:
        filters.append("item.published >= :since")
        params["since"] = since
    return filters, params


def _like(words: list[str], params: dict[str, Any], op: str = "LIKE") -> list[str]:
    out = []
    for n, w in enumerate(words):
        params[f"w{n}"] = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        out.append(f"(item.title {op} :w{n} ESCAPE '\\' OR item.text {op} :w{n} ESCAPE '\\')")
    return out


def _sqlite_fts(store: Store, words: list[str], long: list[str], filters: list[str], params: dict[str, Any], limit: int) -> list[Hit]:
    params = dict(params, q=" AND ".join('"' + w.replace('"', '""') + '"' for w in long), limit=limit)
    short = _like([w for w in words if len(w) < 3], params)
    where = " AND ".join([f"{FTS} MATCH :q", *filters, *short])
    sql = (
        f'SELECT item.id, item.title, item."column", item.state, item.published, item.url, '
        f"snippet({FTS}, 1, '【', '】', '…', 24) AS snip, bm25({FTS}, 10.0, 1.0) AS rank "
        f"FROM {FTS} JOIN item ON item.id = {FTS}.rowid WHERE {where} ORDER BY rank LIMIT :limit"
    )
    with store.engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    hits = []
    for r in rows:
        snip = r.snip if "【" in (r.snip or "") else _snippet(r.title, words)
        hits.append(Hit(r.id, r.title, r.column, _state(r.state), _dt(r.published), r.url, snip, -float(r.rank)))
    return hits


def _scan(store: Store, words: list[str], filters: list[str], params: dict[str, Any], limit: int) -> list[Hit]:
    """Substring scan (PostgreSQL: served by the trigram indexes; SQLite: words under three
    characters, which trigrams cannot serve), ranked in the database so that only the best
    rows travel: a title occurrence counts ten times a text one, text occurrences up to 20."""
    params = dict(params, limit=limit)
    pg = store.engine.dialect.name == "postgresql"
    where = " AND ".join([*filters, *_like(words, params, "ILIKE" if pg else "LIKE")])
    least = "least" if pg else "min"
    terms = []
    for n, w in enumerate(words):
        params[f"s{n}"], params[f"n{n}"] = w, len(w)
        title = f"(length(item.title) - length(replace(item.title, :s{n}, ''))) / :n{n}"
        body = f"{least}((length(item.text) - length(replace(item.text, :s{n}, ''))) / :n{n}, 20)"
        terms.append(f"10 * {title} + {body}")
    score = " + ".join(terms)
    sql = (
        f'SELECT item.id, item.title, item."column", item.state, item.published, item.url, item.text, {score} AS score '
        f"FROM item WHERE {where} ORDER BY score DESC, item.id DESC LIMIT :limit"
    )
    if pg and any(len(w) >= 3 for w in words):
        with store.engine.begin() as conn:
            # The planner prices a GIN trigram scan by its trigram count and picks a sequential
            # scan for words of four characters or more, ten times slower on 20,000 items. (Words
            # under three characters have no trigram: for them a sequential scan is right.)
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.execute(text(sql), params).all()
    else:
        with store.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
    return [
        Hit(r.id, r.title, r.column, _state(r.state), _dt(r.published), r.url, _snippet(r.text or r.title, words), float(r.score))
        for r in rows
    ]


def _snippet(body: str, words: list[str]) -> str:
    """A window of text around the first hit, the words marked 【like this】."""
    body = re.sub(r"\s+", " ", body)
    at = min((i for i in (body.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - SNIPPET_CHARS // 3)
    part = body[start : start + SNIPPET_CHARS]
    pattern = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    part = re.sub(pattern, lambda m: f"【{m.group()}】", part)
    return ("…" if start else "") + part + ("…" if start + SNIPPET_CHARS < len(body) else "")


def _state(v: str) -> str:
    """The stored enum name (``PUBLISHED``) as the state's value (``published``)."""
    return ItemState[v].value if v in ItemState.__members__ else v


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))
