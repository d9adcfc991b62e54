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

A poll's cost follows the portal's list, not the years of items the store holds: only the
listed URLs are looked up, and the re-checks are the few oldest ones (one indexed query with a
LIMIT), so a list that answered 304 costs one request and a handful of small queries.

Pages are fetched with no transaction open, up to ``http.per_host`` at a time on threads (the
per-host politeness of :mod:`feeds.http` still bounds every request, whichever source sends it),
and handed over in list order; :class:`~pusher.stages.poll_store.BatchWriter` stores them a
batch per transaction, one bad item failing alone. A stop (SIGTERM) keeps the items already
handed over and drops the reads still in flight: the list's validators are then not saved, so
the next poll reads those entries again.

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
import sys
from collections import deque
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from feeds.sources.common import conditional_headers, new_validators
from pusher.errors import SourceError
from pusher.interfaces import Gone, HttpClient, ListEntry, Response, Source
from pusher.runtime import Runtime
from pusher.stages.poll_store import KNOWN_COLUMNS, BatchWriter, Fetched, Known, dedupe_key, known_of, prepare, withdraw
from pusher.states import ItemState
from pusher.store.models import Item, SourceRow
from pusher.timeutil import to_utc, utcnow

__all__ = ["MISSING_POLLS_TO_WITHDRAW", "RECHECK_AFTER", "RECHECK_PER_POLL", "PollReport", "dedupe_key", "poll_source"]

log = logging.getLogger("tvpusher.poll")

#: Complete polls in a row an item must be missing from its column's watched window to be withdrawn.
MISSING_POLLS_TO_WITHDRAW = 3
#: How often a known item's detail page is re-read (conditionally) to catch silent edits; the
#: default of ``[[sources]] recheck``.
RECHECK_AFTER = timedelta(hours=6)
#: At most this many re-checks per poll, so that a source's poll stays short.
RECHECK_PER_POLL = 10
_IN_CHUNK = 500


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
    writer = BatchWriter(rt, name, report)
    reads = _Reads(rt, source, http, writer, report, workers=rt.settings.http.per_host if source.reads_detail_pages else 1)
    try:
        try:
            listing = source.list(http, validators)
        except SourceError as exc:
            report.status, report.error = "error", str(exc)
            log.warning("poll failed: %s", exc)
            return report
        report.listed = len(listing.entries)
        now = utcnow()
        listed_urls = {e.url for e in listing.entries}
        known = _load_listed(rt, name, listed_urls)
        due = _Budget(sys.maxsize if recheck is True else RECHECK_PER_POLL + _forced_here(rt, name, forced))
        for entry in listing.entries:
            if rt.stopping.is_set():
                break
            prev = known.get(entry.url)
            if prev is None:
                reads.read(entry, None)
            elif prev.duplicate_of is not None:
                continue  # a duplicate follows its original
            elif prev.validators.get("list") != _list_sig(entry) or (_is_due(prev, now, after, forced) and due.take()):
                reads.read(entry, prev)
        # Silent edits of items the list did not show this time (or when it answered 304); a
        # source without detail pages (a feed read alone) has nothing to re-read for them.
        if source.reads_detail_pages and due.left and not rt.stopping.is_set():
            limit = None if recheck is True else due.left + len(listed_urls)  # listed ones are skipped
            for prev in _load_due(rt, name, now - after, forced, limit):
                if rt.stopping.is_set() or not due.left:
                    break
                if prev.url in listed_urls or not _is_due(prev, now, after, forced):
                    continue
                due.take()
                reads.read(ListEntry(url=prev.url, title=prev.title, published=prev.published), prev)
        reads.finish()
        covered = (listed_urls & known.keys()) | writer.stored
        report.status = "not_modified" if listing.not_modified and not report.changed_anything else "ok"
        if listing.not_modified:
            _still_missing(rt, name, report)
        elif listing.complete:
            _count_missing(rt, name, listed_urls, listing.entries, report)
        if not rt.stopping.is_set() and not reads.unread and not writer.unstored_new:
            # A poll cut short keeps the old ones: the next poll reads the list again, not a 304.
            listed = dict(listing.validators)
    finally:
        reads.close()
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


def _load_listed(rt: Runtime, source: str, urls: Collection[str]) -> dict[str, Known]:
    """The listed URLs' items by URL (only the columns change detection needs)."""
    out: dict[str, Known] = {}
    ordered = sorted(urls)
    with rt.store.read() as db:
        for start in range(0, len(ordered), _IN_CHUNK):
            q = sa_select(*KNOWN_COLUMNS).where(col(Item.source) == source, col(Item.url).in_(ordered[start : start + _IN_CHUNK]))
            out.update((k.url, k) for k in map(known_of, db.execute(q)))
    return out


def _load_due(rt: Runtime, source: str, due_before: datetime, forced: Collection[int], limit: int | None) -> list[Known]:
    """Live items due for a re-check, at most ``limit``: the ones asked for by id, then the ones
    never checked, then the oldest check first. Three range queries rather than one with an OR,
    so that each walks ``ix_item_source_checked`` and stops at its LIMIT (an idle poll of a
    year's source reads a few index entries, not every row)."""
    live = (col(Item.source) == source, col(Item.state) != ItemState.WITHDRAWN, col(Item.duplicate_of).is_(None))
    picks = [
        sa_select(*KNOWN_COLUMNS).where(*live, col(Item.id).in_(sorted(forced))).order_by(col(Item.id)) if forced else None,
        sa_select(*KNOWN_COLUMNS).where(*live, col(Item.checked_at).is_(None)).order_by(col(Item.id)),
        sa_select(*KNOWN_COLUMNS).where(*live, col(Item.checked_at) <= due_before).order_by(col(Item.checked_at), col(Item.id)),
    ]
    out: dict[int, Known] = {}
    with rt.store.read() as db:
        for q in picks:
            if q is None or (limit is not None and len(out) >= limit):
                continue
            for k in map(known_of, db.execute(q if limit is None else q.limit(limit - len(out)))):
                out.setdefault(k.id, k)
    return list(out.values())


def _forced_here(rt: Runtime, source: str, forced: Collection[int]) -> int:
    """How many of the item ids asked for belong to this source: re-read beyond the budget."""
    if not forced:
        return 0
    with rt.store.read() as db:
        q = select(func.count()).select_from(Item).where(Item.source == source, col(Item.id).in_(sorted(forced)))
        return int(db.exec(q).one())


def _list_sig(entry: ListEntry) -> str:
    return f"{entry.title}|{entry.published.isoformat() if entry.published else ''}"


def _is_due(prev: Known, now: datetime, after: timedelta = RECHECK_AFTER, forced: Collection[int] = ()) -> bool:
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


class _Reads:
    """The detail reads of one poll, on up to ``workers`` threads, taken back in the order they
    were asked for: the writer sees the list's order, and a stop keeps exactly the items taken
    before it (the ones after it are read again by the next poll)."""

    def __init__(self, rt: Runtime, source: Source, http: HttpClient, writer: BatchWriter, report: PollReport, *, workers: int) -> None:
        self.rt, self.source, self.http, self.writer, self.report = rt, source, http, writer, report
        self.unread = False  # a new entry whose page failed: only a re-read list shows it again
        self.halted = False
        self._depth = 2 * workers  # reads in flight or done, waiting to be taken
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"tvpusher-poll-{source.name}") if workers > 1 else None
        self._window: deque[Future[Fetched]] = deque()

    def read(self, entry: ListEntry, prev: Known | None) -> None:
        if self.halted:
            return
        if self._pool is None:
            self._take(_read_one(self.rt, self.source, self.http, entry, prev))
            return
        self._window.append(self._pool.submit(_read_one, self.rt, self.source, self.http, entry, prev))
        while len(self._window) >= self._depth and not self.halted:
            self._take(self._window.popleft().result())

    def finish(self) -> None:
        """Take every read still out, then write what the writer holds."""
        while self._window and not self.halted:
            self._take(self._window.popleft().result())
        self.close()
        self.writer.flush()

    def close(self) -> None:
        for f in self._window:
            f.cancel()
        self._window.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _take(self, got: Fetched) -> None:
        if self.rt.stopping.is_set():
            self.halted = True  # SIGTERM: the item in hand was the last
            return
        if got.prev is not None:
            self.report.rechecked += 1
        if got.error:
            self.report.item_errors.append(got.error)
            self.unread = self.unread or got.prev is None
            return
        if got.doc is not None:
            self.rt.images.fetch(self.http, got.doc)
        self.writer.add(got)


def _read_one(rt: Runtime, source: Source, http: HttpClient, entry: ListEntry, prev: Known | None) -> Fetched:
    """One entry's detail read (on a reader thread): what the writer is to store."""
    sig = {"list": _list_sig(entry)}
    prefetched = None
    try:
        if prev is not None and source.reads_detail_pages:
            # A withdrawn item must be read in full to come back, never answered 304.
            cond = conditional_headers(prev.validators) if prev.state != ItemState.WITHDRAWN else {}
            prefetched = http.get(entry.url, headers=cond)
            if prefetched.status == 304:
                return Fetched(entry, prev, sig, not_modified=True)
        client = _DetailHttp(http, entry.url, prefetched)
        got = source.detail(client, entry)
        if isinstance(got, Gone):
            return Fetched(entry, prev, gone=f"HTTP {got.status}")
        if entry.published and not got.published:
            got = replace(got, published=entry.published)
        vals = {**(new_validators(client.answer) if client.answer is not None and client.answer.status == 200 else {}), **sig}
        return Fetched(entry, prev, vals, doc=got, prepared=prepare(rt.settings, source.name, got))
    except SourceError as exc:
        log.warning("item failed: %s", exc)
        return Fetched(entry, prev, error=str(exc))
    except Exception as exc:  # an adapter bug this page trips: it must not stall the entries after it
        log.exception("source crashed on %s", entry.url)
        return Fetched(entry, prev, error=f"{entry.url}: {type(exc).__name__}: {exc}")


def _count_missing(rt: Runtime, source: str, listed: set[str], entries: tuple[ListEntry, ...], report: PollReport) -> None:
    # Only items that should still be in the watched window count: older ones simply scrolled off.
    dates = [e.published for e in entries if e.published]
    oldest = min(dates) if dates else None
    # Only those rows, and only their counters: years of items that scrolled off long ago (and
    # every body) stay in the database.
    counted = col(Item.missing_polls) > 0
    if oldest is not None:
        counted = or_(counted, col(Item.published) >= to_utc(oldest))
    q = sa_select(col(Item.id), col(Item.url), col(Item.published), col(Item.missing_polls)).where(
        col(Item.source) == source, col(Item.state) != ItemState.WITHDRAWN, col(Item.duplicate_of).is_(None), counted
    )
    with rt.store.write() as db:
        back: list[int] = []
        bump: list[int] = []
        out: list[int] = []
        for item_id, url, published, missing in db.execute(q).all():
            if url in listed:
                if missing:
                    back.append(item_id)
            elif oldest is not None and published is not None and to_utc(published) >= oldest:
                (out if missing + 1 >= MISSING_POLLS_TO_WITHDRAW else bump).append(item_id)
        _set_missing(db, back, 0)
        _set_missing(db, bump, Item.missing_polls + 1)
        for item_id in out:
            item = db.get(Item, item_id)
            if item is not None:
                item.missing_polls += 1
                _withdraw_missing(db, item)
                report.withdrawn += 1


def _set_missing(db: Any, ids: list[int], value: Any) -> None:
    for start in range(0, len(ids), _IN_CHUNK):
        db.execute(update(Item).where(col(Item.id).in_(ids[start : start + _IN_CHUNK])).values(missing_polls=value))


def _withdraw_missing(db: Any, item: Item) -> None:
    withdraw(db, item, f"gone from the portal's list for {item.missing_polls} polls")
    # Forget the list line: if the entry comes back, it is read again at once.
    item.validators = json.dumps({**json.loads(item.validators or "{}"), "list": ""}, ensure_ascii=False)


def _still_missing(rt: Runtime, source: str, report: PollReport) -> None:
    """An unchanged list (304) still lacks what it lacked last time: one more poll missing."""
    live = (Item.source == source, Item.state != ItemState.WITHDRAWN, col(Item.duplicate_of).is_(None), Item.missing_polls > 0)
    with rt.store.read() as db:  # most idle polls have none: no write lock for them
        if db.exec(select(Item.id).where(*live).limit(1)).first() is None:
            return
    with rt.store.write() as db:
        for item in db.exec(select(Item).where(*live)).all():
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
