"""Poll one source: new, changed, withdrawn and duplicate items into the store.

How each change is found:

- **new** — a list entry whose URL the store does not know; its detail page is read.
- **changed** — a known entry whose list line (title, date) changed, or whose detail page is
  due for a re-check (every ``RECHECK_AFTER``, at most ``RECHECK_PER_POLL`` per poll, oldest
  check first — also when the list answered 304, since an edited article does not always
  change its list line). Re-checks are conditional GETs with the validators stored on the
  item; a 304 costs one small request. A different content hash (normalised text, tables,
  metadata) makes a new version that goes back to NEW and through the gate again.
- **withdrawn** — the detail page answers 404/410, or the item is missing from its column's
  watched window for ``MISSING_POLLS_TO_WITHDRAW`` complete polls in a row.
- **duplicate** — a new URL whose 索引号 (else title + date) matches a live item: kept,
  marked as a duplicate, never aired. If the original is withdrawn a duplicate takes its place.

Pages are fetched with no transaction open; each item is written in its own short transaction,
so one bad page costs only that item.

A list's HTTP validators (ETag, Last-Modified) are worth keeping only beside the items they
cover: a store that had them without the items would answer every poll with 304 and never read
the items again (issue 15: after a database was lost under the daemon only 2 of 33 items came
back). So they are written in one transaction that first checks every item of the list is in
this store, and with them the number of the source's items; a poll that finds fewer reads the
lists in full.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from feeds.classify import classify
from feeds.sources.common import conditional_headers, new_validators
from pusher.errors import SourceError
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Response, Source
from pusher.runtime import Runtime
from pusher.states import ItemState, set_state
from pusher.store.codec import attachments_to_json, blocks_to_json, content_hash
from pusher.store.models import Item, SourceRow
from pusher.timeutil import to_utc, utcnow

log = logging.getLogger("tvpusher.poll")

#: Complete polls in a row an item must be missing from its column's watched window to be withdrawn.
MISSING_POLLS_TO_WITHDRAW = 3
#: How often a known item's detail page is re-read (conditionally) to catch silent edits; the
#: default of ``[[sources]] recheck``.
RECHECK_AFTER = timedelta(hours=6)
#: At most this many re-checks per poll, so that a source's poll stays short.
RECHECK_PER_POLL = 10


@dataclass
class PollReport:
    source: str
    status: str = "ok"  # ok | not_modified | error
    error: str = ""
    listed: int = 0
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    duplicates: int = 0
    rechecked: int = 0  # known detail pages re-read (conditionally)
    unchanged: int = 0  # of those, how many answered 304 or hashed the same
    item_errors: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.changed or self.withdrawn)


@dataclass(frozen=True)
class _Known:
    id: int
    state: ItemState
    duplicate_of: int | None
    validators: dict[str, str]
    checked_at: datetime | None
    title: str
    published: datetime | None
    missing_polls: int


def poll_source(rt: Runtime, name: str, *, recheck: bool | Collection[int] = ()) -> PollReport:
    """``recheck``: True re-reads every known detail page now, a collection of item ids those
    items (``pusher poll --recheck``); otherwise pages are re-read every ``[[sources]] recheck``."""
    s = rt.settings.source(name)
    after = timedelta(0) if recheck is True else timedelta(seconds=s.recheck) if s.recheck is not None else RECHECK_AFTER
    forced = set() if isinstance(recheck, bool) else set(recheck)
    report = PollReport(source=name)
    source = rt.source(name)
    with rt.store.read() as db:  # a reader: idle polls of many sources must not queue for the write lock
        row = db.get(SourceRow, name)
        validators = _trusted_validators(db, name, row)
    http = rt.http(s)
    listed = validators  # the list's new validators are kept only when the poll saw every entry through
    covered: set[str] = set()  # the items those validators cover
    stored: set[str] = set()  # URLs of the items this poll wrote
    try:
        try:
            listing = source.list(http, validators)
        except SourceError as exc:
            report.status, report.error = "error", str(exc)
            log.warning("poll failed: %s", exc)
            return report
        report.listed = len(listing.entries)
        now = utcnow()
        # An unchanged list needs only the items due for a re-check or counted missing.
        known = _load_known(rt, name, now - after if listing.not_modified and not forced else None)
        due = _Budget(len(known) if recheck is True else RECHECK_PER_POLL)
        due.left += sum(1 for k in known.values() if k.id in forced)  # asked for by id: beyond the budget
        unread = False  # a new entry whose page failed: only a re-read list shows it again
        for entry in listing.entries:
            if rt.stopping.is_set():
                break
            prev = known.get(entry.url)
            if prev is None:
                errors = len(report.item_errors)
                _fetch_one(rt, source, http, entry, None, report, stored)
                unread = unread or len(report.item_errors) > errors
            elif prev.duplicate_of is not None:
                continue  # a duplicate follows its original
            elif prev.validators.get("list") != _list_sig(entry) or (_is_due(prev, now, after, forced) and due.take()):
                _fetch_one(rt, source, http, entry, prev, report, stored)
        listed_urls = {e.url for e in listing.entries}
        covered = (listed_urls & known.keys()) | stored
        # Silent edits of items the list did not show this time (or when it answered 304); a
        # source without detail pages (a feed read alone) has nothing to re-read for them.
        if not source.reads_detail_pages:
            due.left = 0
        for url, prev in sorted(known.items(), key=lambda kv: kv[1].checked_at or datetime.min.replace(tzinfo=now.tzinfo)):
            if rt.stopping.is_set() or not due.left:
                break
            skip = url in listed_urls or prev.duplicate_of is not None or prev.state == ItemState.WITHDRAWN
            if skip or not _is_due(prev, now, after, forced):
                continue
            due.take()
            _fetch_one(rt, source, http, ListEntry(url=url, title=prev.title, published=prev.published), prev, report, stored)
        report.status = "not_modified" if listing.not_modified and not report.changed_anything else "ok"
        if listing.not_modified:
            if any(k.missing_polls for k in known.values()):
                _still_missing(rt, name, report)
        elif listing.complete:
            _count_missing(rt, name, listed_urls, listing.entries, report)
        if not rt.stopping.is_set() and not unread:
            # A poll cut short keeps the old ones: the next poll reads the list again, not a 304.
            listed = dict(listing.validators)
    finally:
        report.requests = http.requests
        http.close()
        _record(rt, name, s.kind, report, listed, covered)
    return report


#: The key beside the list URLs in ``SourceRow.validators`` that counts the source's items when
#: they were saved (not a URL, so no list is ever fetched under it).
ITEMS_KEY = "#items"


def _trusted_validators(db: Any, name: str, row: SourceRow | None) -> dict[str, Any]:
    """The source's list validators, or none if the store lacks items they covered."""
    validators: dict[str, Any] = json.loads(row.validators or "{}") if row else {}
    covers = validators.pop(ITEMS_KEY, None)
    if not validators:
        return {}
    have = int(db.exec(select(func.count()).select_from(Item).where(Item.source == name)).one())
    if have < (covers if isinstance(covers, int) else 1):
        log.warning("the store holds %d items of %s where its list validators covered %s: reading the lists in full",
                    have, name, covers if covers is not None else "some", extra={"source": name})  # fmt: skip
        return {}
    return validators


def _load_known(rt: Runtime, source: str, due_before: datetime | None) -> dict[str, _Known]:
    """The source's items by URL, only the columns change detection needs (bodies stay in the
    database); with ``due_before``, only live items due for a re-check or missing from the list."""
    cols = (
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
    q = sa_select(*cols).where(col(Item.source) == source)
    if due_before is not None:
        q = q.where(
            col(Item.state) != ItemState.WITHDRAWN,
            col(Item.duplicate_of).is_(None),
            or_(col(Item.checked_at).is_(None), col(Item.checked_at) <= due_before, col(Item.missing_polls) > 0),
        )
    with rt.store.read() as db:
        return {r[1]: _known(*r) for r in db.execute(q)}


def _known(
    id: int,
    url: str,
    state: ItemState,
    dup: int | None,
    vals: str,
    checked: datetime | None,
    title: str,
    pub: datetime | None,
    missing: int,
) -> _Known:
    return _Known(id, state, dup, json.loads(vals or "{}"), checked, title, pub, missing)


def _list_sig(entry: ListEntry) -> str:
    return f"{entry.title}|{entry.published.isoformat() if entry.published else ''}"


def _is_due(prev: _Known, now: datetime, after: timedelta = RECHECK_AFTER, forced: Collection[int] = ()) -> bool:
    return prev.id in forced or prev.checked_at is None or to_utc(prev.checked_at) + after <= now


class _Budget:
    def __init__(self, n: int) -> None:
        self.left = n

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class _DetailHttp:
    """The source's client for one detail read: hands over a prefetched (conditional) answer
    for the item's URL and remembers the answer, so that its validators can be stored."""

    def __init__(self, http: HttpClient, url: str, prefetched: Response | None) -> None:
        self.http, self.url, self.prefetched = http, url, prefetched
        self.answer: Response | None = prefetched

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        if url == self.url and self.prefetched is not None:
            resp, self.prefetched = self.prefetched, None
            return resp
        resp = self.http.get(url, headers=headers)
        if url == self.url:
            self.answer = resp
        return resp

    def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> Response:
        return self.http.post(url, data, headers=headers)


def _fetch_one(
    rt: Runtime, source: Source, http: HttpClient, entry: ListEntry, prev: _Known | None, report: PollReport, stored: set[str]
) -> None:
    prefetched = None
    try:
        if prev is not None:
            report.rechecked += 1
            if source.reads_detail_pages:
                # A withdrawn item must be read in full to come back, never answered 304.
                cond = conditional_headers(prev.validators) if prev.state != ItemState.WITHDRAWN else {}
                prefetched = http.get(entry.url, headers=cond)
                if prefetched.status == 304:
                    report.unchanged += 1
                    _touch(rt, prev.id, {**prev.validators, "list": _list_sig(entry)})
                    stored.add(entry.url)
                    return
        client = _DetailHttp(http, entry.url, prefetched)
        got = source.detail(client, entry)
    except SourceError as exc:
        report.item_errors.append(str(exc))
        log.warning("item failed: %s", exc)
        return
    except Exception as exc:  # an adapter bug this page trips: it must not stall the entries after it
        report.item_errors.append(f"{entry.url}: {type(exc).__name__}: {exc}")
        log.exception("source crashed on %s", entry.url)
        return
    if isinstance(got, Gone):
        _withdraw_url(rt, source.name, entry.url, f"HTTP {got.status}", report)
        return
    if entry.published and not got.published:
        got = replace(got, published=entry.published)
    rt.images.fetch(http, got)
    vals = {
        **(new_validators(client.answer) if client.answer is not None and client.answer.status == 200 else {}),
        "list": _list_sig(entry),
    }
    _upsert(rt, source.name, got, vals, report)
    stored.add(got.url)


def _touch(rt: Runtime, item_id: int, validators: dict[str, str]) -> None:
    with rt.store.write() as db:
        item = db.get(Item, item_id)
        if item is not None:
            item.checked_at, item.validators, item.missing_polls = utcnow(), json.dumps(validators, ensure_ascii=False), 0


def dedupe_key(doc: Document) -> str:
    """索引号 when the page has one, else the title (whitespace removed) and the publish date."""
    if doc.index_no:
        return doc.index_no.replace(" ", "")
    day = doc.published.date().isoformat() if doc.published else ""
    return f"{''.join(doc.title.split())}|{day}"


def _upsert(rt: Runtime, source: str, doc: Document, validators: dict[str, str], report: PollReport) -> None:
    s = rt.settings.source(source)
    digest = content_hash(doc)
    dedupe = dedupe_key(doc)
    column = classify(doc, s, rt.settings.columns)
    written = to_utc(datetime(doc.written.year, doc.written.month, doc.written.day), rt.settings.channel.timezone) if doc.written else None
    fields: dict[str, Any] = dict(
        title=doc.title, column=column, portal_column=doc.column, index_no=doc.index_no, publisher=doc.publisher,
        doc_no=doc.doc_no, topic=doc.topic, validity=doc.validity, published=doc.published, written=written,
        text=doc.text, body=blocks_to_json(doc.blocks), attachments=attachments_to_json(doc.attachments),
        dedupe_key=dedupe, content_hash=digest,
    )  # fmt: skip
    now = utcnow()
    vals = json.dumps(validators, ensure_ascii=False)
    with rt.store.write() as db:
        item = db.exec(select(Item).where(Item.source == source, Item.url == doc.url)).first()
        if item is None:
            twin = db.exec(
                select(Item).where(Item.dedupe_key == dedupe, col(Item.duplicate_of).is_(None), Item.state != ItemState.WITHDRAWN)
            ).first()
            item = Item(source=source, url=doc.url, validators=vals, checked_at=now, **fields)
            if twin is not None:
                item.duplicate_of = twin.id
                set_state(item, ItemState.WITHDRAWN, f"duplicate of item {twin.id}", now=now)
                report.duplicates += 1
            else:
                report.new += 1
            db.add(item)
            return
        item.missing_polls, item.checked_at, item.validators = 0, now, vals
        retracted = item.state == ItemState.WITHDRAWN and item.state_reason.startswith("retracted")
        if item.content_hash == digest and (item.state != ItemState.WITHDRAWN or retracted):
            report.unchanged += 1
            return
        for k, v in fields.items():
            setattr(item, k, v)
        item.version += 1
        if retracted:
            # An operator's retraction outlives portal edits: only an operator puts it back.
            item.updated_at = now
            report.changed += 1
            return
        set_state(item, ItemState.NEW, "changed on the portal", now=now)
        item.duplicate_of = None
        report.changed += 1


def _withdraw_url(rt: Runtime, source: str, url: str, why: str, report: PollReport) -> None:
    with rt.store.write() as db:
        item = db.exec(select(Item).where(Item.source == source, Item.url == url)).first()
        if item is None:
            return
        item.checked_at = utcnow()
        if item.state != ItemState.WITHDRAWN:
            _withdraw(db, item, f"gone from the portal ({why})")
            report.withdrawn += 1


def _withdraw(db: Any, item: Item, reason: str) -> None:
    set_state(item, ItemState.WITHDRAWN, reason)
    # The same notice under another URL takes the withdrawn one's place.
    heir = db.exec(select(Item).where(Item.duplicate_of == item.id).order_by(col(Item.id))).first()
    if heir is not None:
        heir.duplicate_of = None
        set_state(heir, ItemState.NEW, f"replaces withdrawn item {item.id}")
        for other in db.exec(select(Item).where(Item.duplicate_of == item.id, Item.id != heir.id)).all():
            other.duplicate_of = heir.id


def _count_missing(rt: Runtime, source: str, listed: set[str], entries: tuple[ListEntry, ...], report: PollReport) -> None:
    # Only items that should still be in the watched window count: older ones simply scrolled off.
    dates = [e.published for e in entries if e.published]
    oldest = min(dates) if dates else None
    # Only those rows: years of items that scrolled off long ago stay in the database.
    counted = col(Item.missing_polls) > 0
    if oldest is not None:
        counted = or_(counted, col(Item.published) >= to_utc(oldest))
    with rt.store.write() as db:
        rows = db.exec(
            select(Item).where(Item.source == source, Item.state != ItemState.WITHDRAWN, col(Item.duplicate_of).is_(None), counted)
        ).all()
        for item in rows:
            if item.url in listed:
                item.missing_polls = 0
                continue
            if oldest is None or item.published is None or to_utc(item.published) < oldest:
                continue
            item.missing_polls += 1
            if item.missing_polls >= MISSING_POLLS_TO_WITHDRAW:
                _withdraw_missing(db, item)
                report.withdrawn += 1


def _withdraw_missing(db: Any, item: Item) -> None:
    _withdraw(db, item, f"gone from the portal's list for {item.missing_polls} polls")
    # Forget the list line: if the entry comes back, it is read again at once.
    item.validators = json.dumps({**json.loads(item.validators or "{}"), "list": ""}, ensure_ascii=False)


def _still_missing(rt: Runtime, source: str, report: PollReport) -> None:
    """An unchanged list (304) still lacks what it lacked last time: one more poll missing."""
    with rt.store.write() as db:
        rows = db.exec(
            select(Item).where(
                Item.source == source, Item.state != ItemState.WITHDRAWN, col(Item.duplicate_of).is_(None), Item.missing_polls > 0
            )
        ).all()
        for item in rows:
            item.missing_polls += 1
            if item.missing_polls >= MISSING_POLLS_TO_WITHDRAW:
                _withdraw_missing(db, item)
                report.withdrawn += 1


def _record(rt: Runtime, name: str, kind: str, report: PollReport, validators: dict[str, Any], covered: Collection[str] = ()) -> None:
    now = utcnow()
    with rt.store.write() as db:
        row = db.get(SourceRow, name) or SourceRow(name=name, kind=kind)
        row.last_poll_at, row.last_status, row.polls = now, report.status, row.polls + 1
        row.requests += report.requests
        if report.status == "error":
            row.errors += 1
            row.last_error = report.error
            row.failing_since = row.failing_since or now
        else:
            row.last_ok_at, row.last_error, row.failing_since = now, "", None
            row.validators = json.dumps(_covering(db, name, validators, covered), ensure_ascii=False)
        db.add(row)


def _covering(db: Any, name: str, validators: dict[str, Any], covered: Collection[str]) -> dict[str, Any]:
    """The validators to save in the caller's transaction: none unless every item they cover is
    in this store, and with them how many items the source has here."""
    validators = {k: v for k, v in validators.items() if k != ITEMS_KEY}
    if not validators:
        return {}
    urls = sorted(covered)
    found = 0
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        found += int(db.exec(select(func.count()).select_from(Item).where(Item.source == name, col(Item.url).in_(chunk))).one())
    if found < len(urls):
        log.warning("%d of the %d items of %s's lists are not in the store: their validators are not kept",
                    len(urls) - found, len(urls), name, extra={"source": name})  # fmt: skip
        return {}
    have = int(db.exec(select(func.count()).select_from(Item).where(Item.source == name)).one())
    return {**validators, ITEMS_KEY: have}
