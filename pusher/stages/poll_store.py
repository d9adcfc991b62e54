"""The poll's writes: what its detail reads found, stored a batch at a time.

One transaction per item cost more than reading the page (issue 19: 45 % of a cold poll went to
storing items — two SELECTs, an ORM object, a flush and a commit each). Now up to
:data:`BATCH_ITEMS` items (or what :data:`BATCH_SECONDS` gathered) go in one transaction: the
URLs already known and the live items sharing a 索引号 are looked up once per batch, new items
go in by one multi-row INSERT, a 304 is one UPDATE of three columns.

One bad item still costs only itself. When a batch fails, its items are written again one
transaction each; the one that fails again is reported with its reason (the poll's item
errors and the log) and the others are stored. A new item that could not be stored keeps the
list's validators from being saved, so the next poll reads it again instead of trusting a
304. A database that is gone, locked or unreachable is no item's fault: that error ends the
poll, as it did before, and what was not committed is read again by the next poll.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from feeds.classify import classify
from pusher.config.settings import Settings
from pusher.errors import StoreError
from pusher.interfaces import Document, ListEntry
from pusher.runtime import Runtime
from pusher.states import ItemState, set_state
from pusher.store.codec import attachments_to_json, blocks_to_json, content_hash
from pusher.store.models import Item
from pusher.store.transitions import note_inserted
from pusher.timeutil import to_utc, utcnow

if TYPE_CHECKING:
    from pusher.stages.poll import PollReport

log = logging.getLogger("tvpusher.poll")

#: Items written in one transaction at most: about 30 ms of SQLite's write lock, short beside
#: the render stage's own writes that wait for it.
BATCH_ITEMS = 100
#: A batch older than this is written with the next item, so that a slow portal's items still
#: reach the store (and the next round) within seconds.
BATCH_SECONDS = 2.0
#: The store is down, not the item: retrying item by item would only fail each the same way.
STORE_DOWN = (StoreError, OperationalError, InterfaceError)
_IN_CHUNK = 500  # bound parameters per IN (…): SQLite allows 32,766, PostgreSQL 65,535
_ITEM = Item.__table__  # type: ignore[attr-defined]  # Core statements: no ORM object per row


@dataclass(frozen=True)
class Known:
    """What change detection needs of a stored item (bodies stay in the database)."""

    id: int
    url: str
    state: ItemState
    duplicate_of: int | None
    validators: dict[str, str]
    checked_at: datetime | None
    title: str
    published: datetime | None
    missing_polls: int


#: The columns :class:`Known` is read from, in its field order.
KNOWN_COLUMNS = (
    col(Item.id),
    col(Item.url),
    col(Item.state),
    col(Item.duplicate_of),
    col(Item.validators),
    col(Item.checked_at),
    col(Item.title),
    col(Item.published),
    col(Item.missing_polls),
)


def known_of(row: Any) -> Known:
    id, url, state, dup, vals, checked, title, pub, missing = row
    return Known(id, url, state, dup, json.loads(vals or "{}"), checked, title, pub, missing)


@dataclass(frozen=True)
class Prepared:
    """A document's store columns, computed where it was read (on a reader thread)."""

    fields: dict[str, Any]
    digest: str
    dedupe: str


@dataclass
class Fetched:
    """What one detail read found; exactly one of ``doc``, ``not_modified``, ``gone``, ``error``."""

    entry: ListEntry
    prev: Known | None
    validators: dict[str, str] = field(default_factory=dict)
    doc: Document | None = None
    prepared: Prepared | None = None
    not_modified: bool = False  # the conditional re-read answered 304
    gone: str = ""  # "HTTP 404": withdrawn from the portal
    error: str = ""

    @property
    def url(self) -> str:
        return self.doc.url if self.doc is not None else self.entry.url


class Outcome(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    WITHDRAWN = "withdrawn"
    NOTHING = "nothing"  # a 404 for an item the store does not have, or has withdrawn already


def dedupe_key(doc: Document) -> str:
    """索引号 when the page has one, else the title (whitespace removed) and the publish date."""
    if doc.index_no:
        return doc.index_no.replace(" ", "")
    day = doc.published.date().isoformat() if doc.published else ""
    return f"{''.join(doc.title.split())}|{day}"


def prepare(settings: Settings, source: str, doc: Document) -> Prepared:
    s = settings.source(source)
    body, attachments = blocks_to_json(doc.blocks), attachments_to_json(doc.attachments)
    column = classify(doc, s, settings.columns)
    written = to_utc(datetime(doc.written.year, doc.written.month, doc.written.day), settings.channel.timezone) if doc.written else None
    fields: dict[str, Any] = dict(
        title=doc.title, column=column, portal_column=doc.column, index_no=doc.index_no, publisher=doc.publisher,
        doc_no=doc.doc_no, topic=doc.topic, validity=doc.validity, published=doc.published, written=written,
        text=doc.text, body=body, attachments=attachments,
    )  # fmt: skip
    dedupe = dedupe_key(doc)
    return Prepared(fields | {"dedupe_key": dedupe}, content_hash(doc, body=body, attachments=attachments), dedupe)


class BatchWriter:
    """Stores one poll's reads in order, :data:`BATCH_ITEMS` at a time; counts them in the
    report once their transaction committed."""

    def __init__(self, rt: Runtime, source: str, report: PollReport) -> None:
        self.rt, self.source, self.report = rt, source, report
        self.stored: set[str] = set()  # URLs written or confirmed unchanged
        self.unstored_new = False  # a new entry could not be stored: the list must be read again
        self._batch: list[Fetched] = []
        self._since = 0.0

    def add(self, got: Fetched) -> None:
        if not self._batch:
            self._since = time.monotonic()
        self._batch.append(got)
        if len(self._batch) >= BATCH_ITEMS or time.monotonic() - self._since >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self._write(batch)

    def _write(self, batch: list[Fetched]) -> None:
        try:
            with self.rt.store.write() as db:
                outcomes = _Transaction(db, self.source, batch).apply()
        except STORE_DOWN:
            raise
        except Exception as exc:
            if len(batch) == 1:
                self._failed(batch[0], exc)
                return
            log.info("a batch of %d items failed (%s): writing them one by one", len(batch), _reason(exc), extra={"source": self.source})
            for got in batch:
                self._write([got])
            return
        for got, outcome in zip(batch, outcomes, strict=True):
            self._count(got, outcome)

    def _count(self, got: Fetched, outcome: Outcome) -> None:
        r = self.report
        if outcome is Outcome.NEW:
            r.new += 1
        elif outcome is Outcome.DUPLICATE:
            r.duplicates += 1
        elif outcome is Outcome.CHANGED:
            r.changed += 1
        elif outcome is Outcome.UNCHANGED:
            r.unchanged += 1
        elif outcome is Outcome.WITHDRAWN:
            r.withdrawn += 1
        if not got.gone:
            self.stored.add(got.url)

    def _failed(self, got: Fetched, exc: Exception) -> None:
        self.report.item_errors.append(f"{got.url}: not stored: {_reason(exc)}")
        log.error("item not stored: %s: %s", got.url, _reason(exc), exc_info=exc, extra={"source": self.source})
        if got.prev is None:
            self.unstored_new = True


def _reason(exc: Exception) -> str:
    # SQLAlchemy's message carries the statement and its parameters (a whole article): the
    # driver's own message says what was wrong.
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {orig or exc}"


class _Transaction:
    """One batch in one transaction, item by item in list order, as the items' own transactions
    would have written them: a new item whose 索引号 an earlier item of the batch has is its
    duplicate; a withdrawn one's heir may be an item of the batch."""

    def __init__(self, db: Session, source: str, batch: list[Fetched]) -> None:
        self.db, self.source, self.batch = db, source, batch
        urls = sorted({g.url for g in batch if not g.not_modified})
        self.existing: dict[str, Item] = {}
        for start in range(0, len(urls), _IN_CHUNK):
            q = select(Item).where(Item.source == source, col(Item.url).in_(urls[start : start + _IN_CHUNK]))
            self.existing.update((item.url, item) for item in db.exec(q))
        keys = {g.prepared.dedupe for g in batch if g.prepared is not None and g.url not in self.existing}
        self.twins: dict[str, int | None] = dict.fromkeys(keys)  # 索引号 → the live item holding it (looked up)
        self._twins_of(keys)
        self.pending: list[dict[str, Any]] = []  # new rows not inserted yet
        self.pending_keys: set[str] = set()

    def apply(self) -> list[Outcome]:
        out = [self._one(got) for got in self.batch]
        self._insert_pending()
        return out

    def _one(self, got: Fetched) -> Outcome:
        if got.not_modified:
            assert got.prev is not None
            vals = json.dumps({**got.prev.validators, **got.validators}, ensure_ascii=False)
            self.db.connection().execute(
                update(_ITEM).where(_ITEM.c.id == got.prev.id).values(checked_at=utcnow(), validators=vals, missing_polls=0)
            )
            return Outcome.UNCHANGED
        item = self.existing.get(got.url)
        if got.gone:
            # Its heir may be a duplicate this batch has not inserted yet.
            self._insert_pending()
            self.twins.clear()
            return self._gone(item, got.gone)
        if item is None:
            return self._new(got)
        self.twins.clear()  # an update may change which item holds a 索引号
        return self._update(item, got)

    def _twins_of(self, keys: set[str] | list[str]) -> None:
        keys = sorted(keys)
        for start in range(0, len(keys), _IN_CHUNK):
            q = (
                sa_select(col(Item.id), col(Item.dedupe_key))
                .where(col(Item.dedupe_key).in_(keys[start : start + _IN_CHUNK]), col(Item.duplicate_of).is_(None))
                .where(col(Item.state) != ItemState.WITHDRAWN)
                .order_by(col(Item.id))
            )
            for item_id, key in self.db.execute(q):
                if self.twins.get(key) is None:
                    self.twins[key] = item_id

    def _twin(self, key: str) -> int | None:
        if key in self.pending_keys:
            self._insert_pending()  # the item of this batch that has the key needs its id
        if key not in self.twins:
            self._insert_pending()
            self.twins[key] = None
            self._twins_of([key])
        return self.twins[key]

    def _new(self, got: Fetched) -> Outcome:
        assert got.prepared is not None
        twin = self._twin(got.prepared.dedupe)
        now = utcnow()
        fresh = _Fresh(now)
        if twin is not None:
            set_state(fresh, ItemState.WITHDRAWN, f"duplicate of item {twin}", now=now)
        else:
            self.pending_keys.add(got.prepared.dedupe)
        self.pending.append(
            dict(
                got.prepared.fields,
                source=self.source,
                url=got.url,
                validators=json.dumps(got.validators, ensure_ascii=False),
                checked_at=now,
                content_hash=got.prepared.digest,
                duplicate_of=twin,
                state=fresh.state,
                state_reason=fresh.state_reason,
                version=1,
                missing_polls=0,
                first_seen=now,
                updated_at=fresh.updated_at,
            )
        )
        return Outcome.DUPLICATE if twin is not None else Outcome.NEW

    def _insert_pending(self) -> None:
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        self.pending_keys.clear()
        # A plain executemany, then the ids by URL: RETURNING in parameter order makes SQLAlchemy
        # insert one row per statement on SQLite (no sentinel column), 20 % of a cold poll.
        conn = self.db.connection()
        conn.execute(insert(_ITEM), rows)
        urls = [row["url"] for row in rows]
        ids: dict[str, int] = {}
        for start in range(0, len(urls), _IN_CHUNK):
            q = sa_select(_ITEM.c.url, _ITEM.c.id).where(_ITEM.c.source == self.source, _ITEM.c.url.in_(urls[start : start + _IN_CHUNK]))
            ids.update((url, item_id) for url, item_id in conn.execute(q))
        for row in rows:
            item_id = ids[row["url"]]
            note_inserted(self.db, item_id, self.source, row["state"], 1, row["state_reason"])
            if row["duplicate_of"] is None and self.twins.get(row["dedupe_key"]) is None:
                self.twins[row["dedupe_key"]] = item_id

    def _update(self, item: Item, got: Fetched) -> Outcome:
        assert got.prepared is not None
        now = utcnow()
        item.missing_polls, item.checked_at, item.validators = 0, now, json.dumps(got.validators, ensure_ascii=False)
        retracted = item.state == ItemState.WITHDRAWN and item.state_reason.startswith("retracted")
        if item.content_hash == got.prepared.digest and (item.state != ItemState.WITHDRAWN or retracted):
            return Outcome.UNCHANGED
        for k, v in got.prepared.fields.items():
            setattr(item, k, v)
        item.content_hash = got.prepared.digest
        item.version += 1
        if retracted:
            # An operator's retraction outlives portal edits: only an operator puts it back.
            item.updated_at = now
            return Outcome.CHANGED
        set_state(item, ItemState.NEW, "changed on the portal", now=now)
        item.duplicate_of = None
        return Outcome.CHANGED

    def _gone(self, item: Item | None, why: str) -> Outcome:
        if item is None:
            return Outcome.NOTHING
        item.checked_at = utcnow()
        if item.state == ItemState.WITHDRAWN:
            return Outcome.NOTHING
        withdraw(self.db, item, f"gone from the portal ({why})")
        return Outcome.WITHDRAWN


@dataclass
class _Fresh:
    """The state of a row not inserted yet, so that :func:`set_state` checks its first move."""

    updated_at: datetime
    state: ItemState = ItemState.NEW
    state_reason: str = ""


def withdraw(db: Session, item: Item, reason: str) -> None:
    set_state(item, ItemState.WITHDRAWN, reason)
    # The same notice under another URL takes the withdrawn one's place.
    heir = db.exec(select(Item).where(Item.duplicate_of == item.id).order_by(col(Item.id))).first()
    if heir is not None:
        heir.duplicate_of = None
        set_state(heir, ItemState.NEW, f"replaces withdrawn item {item.id}")
        for other in db.exec(select(Item).where(Item.duplicate_of == item.id, Item.id != heir.id)).all():
            other.duplicate_of = heir.id
