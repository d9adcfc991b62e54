"""Poll one source: new, changed and withdrawn items into the store.

The listing and detail pages are fetched with no transaction open; each item is then written
in its own short transaction, so one bad page costs only that item.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace

from sqlmodel import select

from feeds.classify import classify
from pusher.codec import attachments_to_json, blocks_to_json, content_hash
from pusher.errors import SourceError
from pusher.interfaces import Document, Gone, ListEntry
from pusher.models import Item, SourceRow
from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.timeutil import utcnow

log = logging.getLogger("tvpusher.poll")

#: Polls in a row an item must be missing from its column's first pages before it is withdrawn.
MISSING_POLLS_TO_WITHDRAW = 3


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
    item_errors: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.changed or self.withdrawn)


def poll_source(rt: Runtime, name: str) -> PollReport:
    s = rt.settings.source(name)
    report = PollReport(source=name)
    source = rt.source(name)
    with rt.store.write() as db:
        row = db.get(SourceRow, name) or SourceRow(name=name, kind=s.kind)
        db.add(row)
        validators = json.loads(row.validators or "{}")
        known = {i.url: (i.id, i.title, i.published, i.state) for i in db.exec(select(Item).where(Item.source == name))}
    http = rt.http(s)
    try:
        try:
            listing = source.list(http, validators)
        except SourceError as exc:
            report.status, report.error = "error", str(exc)
            log.warning("poll failed: %s", exc)
            return report
        report.listed = len(listing.entries)
        if listing.not_modified:
            report.status = "not_modified"
            return report
        validators = dict(listing.validators)
        listed_urls = {e.url for e in listing.entries}
        for entry in listing.entries:
            if rt.stopping.is_set():
                break
            prev = known.get(entry.url)
            if (
                prev
                and prev[1] == entry.title
                and (entry.published is None or prev[2] == entry.published)
                and prev[3] != ItemState.WITHDRAWN
            ):
                continue
            _fetch_one(rt, source, http, entry, report)
        if listing.complete:
            _count_missing(rt, name, listed_urls, listing.entries, report)
    finally:
        report.requests = http.requests
        http.close()
        _record(rt, name, s.kind, report, validators)
    return report


def _fetch_one(rt: Runtime, source, http, entry: ListEntry, report: PollReport) -> None:  # type: ignore[no-untyped-def]
    try:
        got = source.detail(http, entry)
    except SourceError as exc:
        report.item_errors.append(str(exc))
        log.warning("item failed: %s", exc)
        return
    if isinstance(got, Gone):
        _withdraw_url(rt, source.name, entry.url, f"HTTP {got.status}", report)
        return
    if entry.published and not got.published:
        got = replace(got, published=entry.published)
    _upsert(rt, source.name, got, report)


def _upsert(rt: Runtime, source: str, doc: Document, report: PollReport) -> None:
    s = rt.settings.source(source)
    digest = content_hash(doc)
    dedupe = doc.index_no or f"{doc.title}|{doc.published.date() if doc.published else ''}"
    column = classify(doc, s, rt.settings.columns)
    fields = dict(
        title=doc.title, column=column, portal_column=doc.column, index_no=doc.index_no, publisher=doc.publisher,
        doc_no=doc.doc_no, topic=doc.topic, validity=doc.validity, published=doc.published,
        text=doc.text, body=blocks_to_json(doc.blocks), attachments=attachments_to_json(doc.attachments),
        dedupe_key=dedupe, content_hash=digest,
    )  # fmt: skip
    with rt.store.write() as db:
        item = db.exec(select(Item).where(Item.source == source, Item.url == doc.url)).first()
        if item is None:
            twin = db.exec(
                select(Item).where(Item.dedupe_key == dedupe, Item.duplicate_of.is_(None), Item.state != ItemState.WITHDRAWN)  # type: ignore[union-attr]
            ).first()
            item = Item(source=source, url=doc.url, **fields)  # type: ignore[arg-type]
            if twin is not None:
                item.duplicate_of, item.state, item.state_reason = twin.id, ItemState.WITHDRAWN, f"duplicate of item {twin.id}"
                report.duplicates += 1
            else:
                report.new += 1
            db.add(item)
            return
        item.missing_polls = 0
        if item.content_hash == digest and item.state != ItemState.WITHDRAWN:
            return
        for k, v in fields.items():
            setattr(item, k, v)
        item.version += 1
        item.state, item.state_reason = ItemState.NEW, "changed on the portal"
        item.updated_at = utcnow()
        report.changed += 1


def _withdraw_url(rt: Runtime, source: str, url: str, why: str, report: PollReport) -> None:
    with rt.store.write() as db:
        item = db.exec(select(Item).where(Item.source == source, Item.url == url)).first()
        if item and item.state != ItemState.WITHDRAWN:
            item.state, item.state_reason, item.updated_at = ItemState.WITHDRAWN, f"gone from the portal ({why})", utcnow()
            report.withdrawn += 1


def _count_missing(rt: Runtime, source: str, listed: set[str], entries: tuple[ListEntry, ...], report: PollReport) -> None:
    # Only items that should still be in the watched window count: older ones simply scrolled off.
    dates = [e.published for e in entries if e.published]
    oldest = min(dates) if dates else None
    with rt.store.write() as db:
        rows = db.exec(select(Item).where(Item.source == source, Item.state != ItemState.WITHDRAWN, Item.duplicate_of.is_(None))).all()  # type: ignore[union-attr]
        for item in rows:
            if item.url in listed:
                item.missing_polls = 0
                continue
            if oldest is None or item.published is None or item.published < oldest:
                continue
            item.missing_polls += 1
            if item.missing_polls >= MISSING_POLLS_TO_WITHDRAW:
                item.state, item.state_reason, item.updated_at = ItemState.WITHDRAWN, "gone from the portal's list", utcnow()
                report.withdrawn += 1


def _record(rt: Runtime, name: str, kind: str, report: PollReport, validators: dict) -> None:  # type: ignore[type-arg]
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
            row.validators = json.dumps(validators, ensure_ascii=False)
        db.add(row)
