"""The outbox: deliveries of channel versions to targets, durable across outages and restarts.

Per target, in order, one process at a time (a lease on the target's delivery rows, taken over
when its holder died): the newest pending delivery supersedes older ones; the assets the target
lacks (the store remembers what each target holds) are sent first, each verified by the
target's ``put``; a listing of the headend then confirms every referenced asset is there; the
manifest goes last and atomically. Assets no manifest references any more are deleted after the
target's grace period, because boxes still hold the previous manifest.

A failure leaves the row pending with exponential backoff and jitter, carried over to the
delivery that supersedes it, so a headend that is down is retried ever more calmly and delays
only itself: targets are served in parallel. An alert is tried at once whatever the backoff,
then retried on a short, capped one of its own (:func:`alert_backoff`). Re-running a delivery
after a crash is safe: what arrived is skipped, the manifest is replaced atomically.

A target with no delivery of the newest channel version (one added to a running installation,
or enabled again) gets it in full at its next delivery. Only names of the asset form
(``assets/<sha256>.<ext>``) are adopted from a listing, and so only those are ever deleted:
whatever else a headend holds is not ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from pusher.errors import TargetError, TvPusherError
from pusher.interfaces import Target
from pusher.names import ASSET_DIR, is_asset_name, parse_asset_name
from pusher.registry import TARGETS
from pusher.runtime import Runtime
from pusher.store import claims
from pusher.store.claims import holder_alive, lock_target
from pusher.store.models import ChannelVersion, Delivery, DeliveryState, TargetAsset
from pusher.targets.base import Staging, common
from pusher.timeutil import utcnow

log = logging.getLogger("tvpusher.deliver")

BACKOFF_BASE = 5.0  # seconds
BACKOFF_MAX = 600.0
# An alert skipped the backoff altogether and was retried every worker interval (issue 15: 20
# warnings in 20 s against a failing headend): it goes first, then waits, but never long.
ALERT_BACKOFF_BASE = 2.0
ALERT_BACKOFF_MAX = 30.0
_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()
RECORD_BATCH, RECORD_EVERY = 64, 2.0  # what arrived is written to the store this often (assets, seconds)
# A staging target (a folder) syncs each recorded batch at once: larger batches, fewer syncs.
RECORD_BATCH_STAGED = 256


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential with jitter in its upper half, so that the retries of many nodes spread out."""
    cap = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return cap / 2 + (rng or random).random() * cap / 2


def alert_backoff(attempts: int, rng: random.Random | None = None) -> float:
    """The same shape, short and capped: an alert's retries wait seconds, not minutes."""
    cap = min(ALERT_BACKOFF_MAX, ALERT_BACKOFF_BASE * 2 ** max(0, min(attempts, 32) - 1))
    return cap / 2 + (rng or random).random() * cap / 2


@dataclass
class DeliveryReport:
    target: str
    version: int = 0
    status: str = "idle"  # idle | waiting (backoff) | busy (another process) | done | failed
    files: int = 0
    bytes: int = 0
    skipped: int = 0  # assets the target held already
    deleted: int = 0  # assets past their grace period
    error: str = ""


@dataclass(frozen=True)
class TargetStatus:
    """One target's line in ``pusher status``."""

    name: str
    kind: str
    enabled: bool
    delivered_version: int | None
    delivered_at: datetime | None
    pending_version: int | None  # waiting to go, if any
    versions_behind: int  # newest channel version minus the delivered one
    to_send: int  # assets of the pending version the target lacks
    to_send_bytes: int
    held: int  # assets the target holds, as the store knows
    awaiting_deletion: int  # unreferenced, in their grace period
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    busy_with: str = ""  # the process delivering now


def deliver(rt: Runtime, target: str | None = None, *, now_only_due: bool = True) -> list[DeliveryReport]:
    """Delivers the newest channel version to one or every enabled target, in parallel (a slow
    or dead headend does not hold the others up). ``now_only_due=False`` ignores backoff."""
    names = [target] if target else [t.name for t in rt.settings.targets if t.enabled]
    if len(names) <= 1:
        return [deliver_one(rt, n, only_due=now_only_due) for n in names]
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="deliver") as pool:
        return list(pool.map(lambda n: deliver_one(rt, n, only_due=now_only_due), names))


def deliver_one(rt: Runtime, name: str, *, only_due: bool = True) -> DeliveryReport:
    # Threads of one process share its lease name: they are kept apart here, processes and
    # nodes by the lease in the store.
    with _LOCAL_GUARD:
        local = _LOCAL.setdefault(name, threading.Lock())
    if not local.acquire(blocking=False):
        return DeliveryReport(target=name, status="busy", error="being delivered by this process")
    try:
        report = _deliver_one(rt, name, only_due=only_due)
        # An alert published while this delivery ran must not wait for the next round.
        for _ in range(3):
            if report.status != "done" or not _urgent_waiting(rt, name, report.version):
                break
            report = _deliver_one(rt, name, only_due=False)
        return report
    finally:
        local.release()


def _urgent_waiting(rt: Runtime, name: str, after: int) -> bool:
    with rt.store.read() as db:
        return (
            db.exec(
                select(Delivery).where(
                    Delivery.target == name,
                    Delivery.state == DeliveryState.PENDING,
                    col(Delivery.priority) > 0,
                    col(Delivery.channel_version) > after,
                )
            ).first()
            is not None
        )


def _deliver_one(rt: Runtime, name: str, *, only_due: bool) -> DeliveryReport:
    report = DeliveryReport(target=name)
    me = claims.node_name(rt)
    with rt.store.write() as db:
        # issue 8 (several nodes on PostgreSQL): row-lock the target's outbox rows first.
        if not lock_target(db, name):
            report.status, report.error = "busy", "being claimed by another node"
            return report
        claim = _claim(db, name, me, only_due, report, claims.lease(rt))
        if claim is None:
            return report
        delivery_id, cv = claim
        held = {a.name: a.bytes for a in db.exec(select(TargetAsset).where(TargetAsset.target == name))}
    report.version = cv.version
    wanted: dict[str, int] = dict(json.loads(cv.assets))  # asset name -> bytes
    settings = rt.settings.target(name)
    shared = common(TARGETS.validate_options(settings.kind, settings.options))
    grace = timedelta(hours=shared.grace_hours)
    try:
        target = rt.target(name)
    except TvPusherError as exc:
        _failed(rt, delivery_id, report, exc)
        return report
    try:
        if not held:  # first delivery, or the store forgot: ask the headend what it has
            held = _adopt(rt, name, target.list_assets(), wanted)
        _send(rt, target, name, delivery_id, me, [a for a in sorted(wanted) if held.get(a) != wanted[a]], report)
        # Trust, but verify: the headend may have lost files since we last looked.
        there = target.list_assets() if shared.precheck else wanted
        missing = [a for a in sorted(wanted) if there.get(a) != wanted[a]]
        if missing:
            log.warning("%s lacks %d assets it was known to hold; sending them again", name, len(missing))
            _send(rt, target, name, delivery_id, me, missing, report)
        report.skipped = len(wanted) - report.files
        lost = _hold_on(rt, name, delivery_id, me, cv.version)
        if lost:
            # Another process delivers now (our lease ran out, or it shares our node name): our
            # older manifest must not land over its newer one. What we sent is recorded.
            report.status, report.error = "busy", lost
            log.warning("delivery of version %d to %s stopped before its manifest: %s", cv.version, name, lost)
            return report
        manifest = cv.manifest.encode("utf-8")
        _publish_exports(rt, target, manifest, report)
        target.publish_manifest(manifest)
        report.files += 1
        report.bytes += len(manifest)
        _finish(rt, delivery_id, report, wanted)
        report.deleted = _collect(rt, target, name, grace)
    except (TvPusherError, OSError) as exc:
        _failed(rt, delivery_id, report, exc)
        return report
    except Exception as exc:
        # A bug, or an answer no check foresaw: the traceback goes to the log, the delivery is
        # retried with backoff, and its claim is released (issue 15: it stayed claimed).
        log.error("delivery of version %d to %s: unexpected %s", cv.version, name, type(exc).__name__, exc_info=True)
        _failed(rt, delivery_id, report, TargetError(f"unexpected {type(exc).__name__}: {exc}", target=name))
        return report
    except BaseException:
        _release(rt, delivery_id, me)
        raise
    finally:
        target.close()
    report.status = "done"
    log.info("delivered version %d to %s: %d files, %d bytes, %d deleted", cv.version, name, report.files, report.bytes, report.deleted)
    return report


# -- steps of a delivery -------------------------------------------------------------------------


def _publish_exports(rt: Runtime, target: Target, manifest: bytes, report: DeliveryReport) -> None:
    """EPG and RSS also under stable names beside channel.xml, for consumers that cannot read
    the manifest (the playlist stays in assets/: its entries are relative to that folder)."""
    from feeds.exports import KINDS, manifest_exports

    for kind, href in manifest_exports(manifest).items():
        exporter = KINDS.get(kind)
        if exporter is None or kind == "playlist" or not href.startswith(ASSET_DIR):
            continue
        sha, ext = parse_asset_name(href)
        data = rt.assets.read(sha, ext)
        target.publish_manifest(data, name=exporter.filename)
        report.files += 1
        report.bytes += len(data)


def _claim(db: Session, name: str, me: str, only_due: bool, report: DeliveryReport, lease: timedelta) -> tuple[int, ChannelVersion] | None:
    """Picks the newest pending delivery and leases the target, or says why not."""
    now = utcnow()
    for d in db.exec(select(Delivery).where(Delivery.target == name, Delivery.claimed_by != "")):
        if d.claimed_by != me and d.claimed_until is not None and _aware(d.claimed_until) > now and holder_alive(d.claimed_by):
            report.status, report.error = "busy", f"being delivered by {d.claimed_by}"
            return None
        d.claimed_by, d.claimed_until = "", None  # a dead or expired holder
    pending = list(
        db.exec(
            select(Delivery)
            .where(Delivery.target == name, Delivery.state == DeliveryState.PENDING)
            .order_by(col(Delivery.channel_version).desc())
        )
    )
    if not pending:
        late = _queue_current(db, name, now)
        if late is None:
            return None
        pending = [late]
    newest = pending[0]
    for d in pending[1:]:
        d.state = DeliveryState.SUPERSEDED
    if newest.attempts == 0:
        _inherit_backoff(db, newest)
    report.version = newest.channel_version
    if only_due and _aware(newest.next_attempt_at) > now:
        report.status = "waiting"
        return None
    cv = db.get(ChannelVersion, newest.channel_version)
    if cv is None:
        newest.state, newest.last_error = DeliveryState.SUPERSEDED, "channel version missing from the store"
        return None
    newest.claimed_by, newest.claimed_until = me, now + lease
    assert newest.id is not None
    return newest.id, cv


def _queue_current(db: Session, name: str, now: datetime) -> Delivery | None:
    """The delivery of the newest channel version to a target that has none (publish queued
    one per target enabled at the time: a target added later got nothing until the channel
    changed, and ``push`` said it was up to date). None when it has one, in any state."""
    newest = db.exec(select(func.max(ChannelVersion.version))).one()
    if newest is None:
        return None
    if db.exec(select(Delivery.id).where(Delivery.target == name, Delivery.channel_version == newest)).first() is not None:
        return None
    # An alert's version stays an alert's for the late target too.
    priority = db.exec(select(func.max(Delivery.priority)).where(Delivery.channel_version == newest)).one() or 0
    # A target without rows has nothing for lock_target to lock: two PostgreSQL nodes may both
    # get here, and the one whose insert does nothing leaves the delivery to the other.
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    row = Delivery(target=name, channel_version=newest, next_attempt_at=now, created_at=now, priority=priority).model_dump(exclude={"id"})
    stmt = insert(Delivery).values(row).on_conflict_do_nothing(index_elements=["target", "channel_version"])
    done = cast(CursorResult[Any], db.execute(stmt))
    if not done.rowcount:
        return None
    log.info("%s has no delivery of channel version %d: queued in full", name, newest)
    return db.exec(select(Delivery).where(Delivery.target == name, Delivery.channel_version == newest)).one()


def _inherit_backoff(db: Session, newest: Delivery) -> None:
    """A new publication does not reset the backoff of a headend that keeps failing; an alert's
    is due at once all the same (its failures then wait :func:`alert_backoff`)."""
    prev = db.exec(
        select(Delivery)
        .where(
            Delivery.target == newest.target, Delivery.channel_version < newest.channel_version, Delivery.state == DeliveryState.SUPERSEDED
        )
        .order_by(col(Delivery.channel_version).desc())
    ).first()
    if prev is not None and prev.attempts > 0 and prev.last_error:
        newest.attempts, newest.last_error = prev.attempts, prev.last_error
        if newest.priority <= 0:
            newest.next_attempt_at = max(_aware(newest.next_attempt_at), _aware(prev.next_attempt_at))


def _adopt(rt: Runtime, name: str, listing: dict[str, int], wanted: dict[str, int]) -> dict[str, int]:
    """Records what the headend already holds of ours, so it is neither sent again nor left
    forever. A name not of the asset form is not ours (issue 15: ``assets/passwd`` was adopted
    and later deleted, ``assets/\\..\\win.png`` stopped the collection every round)."""
    now = utcnow()
    listing = ours(listing)
    with rt.store.write() as db:
        _upsert(db, [_held(name, a, n, now, unreferenced_since=None if a in wanted else now) for a, n in listing.items()])
    return dict(listing)


def _send(rt: Runtime, target: Target, name: str, delivery_id: int, me: str, assets: list[str], report: DeliveryReport) -> None:
    """Puts the assets, ``target.concurrency`` at a time. What arrived is recorded in batches
    (a crash loses at most a batch of records: those assets are sent again, idempotently), and
    the first failure stops the rest. A :class:`~pusher.targets.base.Staging` target gets its
    assets staged and each batch committed right before it is recorded: the store never says a
    headend holds a file that a crash could still take away."""
    staging = target if isinstance(target, Staging) else None
    put = staging.stage if staging is not None else target.put

    def one(asset: str) -> int:
        try:
            sha, ext = parse_asset_name(asset)
        except ValueError as exc:
            raise TargetError(str(exc), target=name) from None
        try:
            data = rt.assets.read(sha, ext)
        except FileNotFoundError:
            raise TargetError(f"{asset} is missing from the local asset store {rt.assets.root}", target=name) from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise TargetError(f"{asset} is corrupt in the local asset store", target=name)
        put(asset, data)
        return len(data)

    arrived: list[dict[str, Any]] = []
    flushed = time.monotonic()
    batch = RECORD_BATCH_STAGED if staging is not None else RECORD_BATCH

    def record(asset: str, size: int, *, force: bool = False) -> None:
        nonlocal flushed
        if size >= 0:
            arrived.append(_held(name, asset, size, utcnow()))
        if arrived and (force or len(arrived) >= batch or time.monotonic() - flushed > RECORD_EVERY):
            done = list(arrived)
            arrived.clear()
            if staging is not None:
                staging.commit()  # raises: nothing of this batch is recorded, it is sent again
            report.files += len(done)
            report.bytes += sum(a["bytes"] for a in done)
            with rt.store.write() as db:
                _upsert(db, done)
                d = db.get(Delivery, delivery_id)
                if d is not None and d.claimed_by == me:
                    d.claimed_until = utcnow() + claims.lease(rt)
            flushed = time.monotonic()

    workers = max(1, min(target.concurrency, len(assets)))
    if workers == 1:
        try:
            for asset in assets:
                record(asset, one(asset))
        finally:
            record("", -1, force=True)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"put-{name}")
    futures = {pool.submit(one, a): a for a in assets}
    try:
        for f in as_completed(futures):
            record(futures.pop(f), f.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for f, asset in futures.items():  # finished while another failed: still worth remembering
            if f.done() and not f.cancelled() and f.exception() is None:
                record(asset, f.result())
        record("", -1, force=True)


def _hold_on(rt: Runtime, name: str, delivery_id: int, me: str, version: int) -> str:
    """Renews our lease on the target right before the manifest; why not ("" if it is ours):
    a newer version reached the target, or another process holds it now."""
    now = utcnow()
    with rt.store.write() as db:
        newer = db.exec(
            select(Delivery.channel_version).where(
                Delivery.target == name, Delivery.state == DeliveryState.DONE, col(Delivery.channel_version) > version
            )
        ).first()
        if newer is not None:
            return f"version {newer} reached {name} meanwhile"
        mine = db.get(Delivery, delivery_id)
        for d in db.exec(select(Delivery).where(Delivery.target == name, Delivery.claimed_by != "")):
            # This process delivers a target one row at a time: another row under our name is
            # another process that shares it.
            other = d.id != delivery_id or d.claimed_by != me
            if other and d.claimed_until is not None and _aware(d.claimed_until) > now:
                return f"{name} is being delivered by {d.claimed_by} now"
        if mine is None:
            return "the delivery is gone from the store"
        mine.claimed_by, mine.claimed_until = me, now + claims.lease(rt)
    return ""


def _finish(rt: Runtime, delivery_id: int, report: DeliveryReport, wanted: dict[str, int]) -> None:
    now = utcnow()
    with rt.store.write() as db:
        d = db.get(Delivery, delivery_id)
        if d is not None:
            # A delivery superseded while in flight still reached the headend: say so.
            d.state, d.done_at = DeliveryState.DONE, now
            d.bytes_sent, d.files_sent = d.bytes_sent + report.bytes, d.files_sent + report.files
            d.attempts, d.last_error = d.attempts + 1, ""
            d.claimed_by, d.claimed_until = "", None
            # Only the rows whose mark changes are written: loading every row as an object cost
            # seconds at a year's 30,000 pages (issue 19).
            rows = db.exec(select(TargetAsset.name, TargetAsset.unreferenced_since).where(TargetAsset.target == d.target))
            marks = [{"t": d.target, "n": a, "u": None if a in wanted else now} for a, since in rows if (a in wanted) != (since is None)]
            if marks:
                table = TargetAsset.__table__  # type: ignore[attr-defined]
                stmt = (
                    table.update()
                    .where(table.c.target == bindparam("t"), table.c.name == bindparam("n"))
                    .values(unreferenced_since=bindparam("u"))
                )
                db.connection().execute(stmt, marks)


def _collect(rt: Runtime, target: Target, name: str, grace: timedelta) -> int:
    """Deletes the assets unreferenced for longer than the grace period. Runs after the manifest,
    and a failure here does not fail the delivery: the next one tries again."""
    cutoff = utcnow() - grace
    with rt.store.read() as db:
        old = [
            a.name
            for a in db.exec(select(TargetAsset).where(TargetAsset.target == name, col(TargetAsset.unreferenced_since).is_not(None)))
            if a.unreferenced_since is not None and _aware(a.unreferenced_since) <= cutoff
        ]
    foreign = [a for a in old if not is_asset_name(a)]
    if foreign:
        # Adopted before only our names were: forget them, and leave the files alone.
        with rt.store.write() as db:
            for asset in foreign:
                if (row := db.get(TargetAsset, (name, asset))) is not None:
                    db.delete(row)
        log.info("%s: forgot %d names that are not ours (the files stay)", name, len(foreign))
        old = [a for a in old if is_asset_name(a)]
    deleted = 0
    for asset in old:
        try:
            target.delete(asset)
        except TargetError as exc:
            log.warning("could not delete %s from %s (will retry): %s", asset, name, exc)
            break
        with rt.store.write() as db:
            row = db.get(TargetAsset, (name, asset))
            if row is not None and row.unreferenced_since is not None:
                db.delete(row)
        deleted += 1
    return deleted


def _failed(rt: Runtime, delivery_id: int, report: DeliveryReport, exc: BaseException) -> None:
    report.status, report.error = "failed", str(exc)
    with rt.store.write() as db:
        d = db.get(Delivery, delivery_id)
        if d is not None:
            d.attempts += 1
            d.last_error = str(exc)
            wait = alert_backoff(d.attempts) if d.priority > 0 else backoff(d.attempts)
            d.next_attempt_at = utcnow() + timedelta(seconds=wait)
            d.claimed_by, d.claimed_until = "", None
            d.bytes_sent, d.files_sent = d.bytes_sent + report.bytes, d.files_sent + report.files
    log.warning("delivery of version %d to %s failed: %s", report.version, report.target, exc)


def _release(rt: Runtime, delivery_id: int, me: str) -> None:
    """Gives up the claim of a delivery interrupted (Ctrl-C, SystemExit): others may go on."""
    try:
        with rt.store.write() as db:
            d = db.get(Delivery, delivery_id)
            if d is not None and d.claimed_by == me:
                d.claimed_by, d.claimed_until = "", None
    except Exception:  # the interruption is what matters; a dead holder's claim is void anyway
        log.debug("could not release the claim of delivery %d", delivery_id, exc_info=True)


# -- status and repair ---------------------------------------------------------------------------


def target_status(rt: Runtime) -> list[TargetStatus]:
    """Per target: delivered and pending versions, backlog, next attempt, last error."""
    out = []
    now = utcnow()
    with rt.store.read() as db:
        newest = db.exec(select(ChannelVersion.version).order_by(col(ChannelVersion.version).desc())).first()
        for t in rt.settings.targets:
            # The newest rows only: the outbox keeps a row per version, for years.
            newest_first = select(Delivery).where(Delivery.target == t.name).order_by(col(Delivery.channel_version).desc())
            done = db.exec(newest_first.where(Delivery.state == DeliveryState.DONE)).first()
            pending = db.exec(newest_first.where(Delivery.state == DeliveryState.PENDING)).first()
            rows = list(db.exec(newest_first.where(Delivery.claimed_by != "")))
            held = {a.name: a for a in db.exec(select(TargetAsset).where(TargetAsset.target == t.name))}
            to_send: dict[str, int] = {}
            if pending is not None and (cv := db.get(ChannelVersion, pending.channel_version)) is not None:
                to_send = {a: n for a, n in json.loads(cv.assets) if a not in held or held[a].bytes != n}
            busy = next((d.claimed_by for d in rows if d.claimed_by and d.claimed_until and _aware(d.claimed_until) > now), "")
            out.append(
                TargetStatus(
                    name=t.name, kind=t.kind, enabled=t.enabled,
                    delivered_version=done.channel_version if done else None, delivered_at=done.done_at if done else None,
                    pending_version=pending.channel_version if pending else None,
                    versions_behind=(newest or 0) - (done.channel_version if done else 0),
                    to_send=len(to_send), to_send_bytes=sum(to_send.values()),
                    held=len(held), awaiting_deletion=sum(1 for a in held.values() if a.unreferenced_since is not None),
                    attempts=pending.attempts if pending else 0,
                    next_attempt_at=pending.next_attempt_at if pending else None,
                    last_error=pending.last_error if pending else "",
                    busy_with=busy,
                )
            )  # fmt: skip
    return out


@dataclass
class VerifyReport:
    target: str
    version: int | None = None  # the channel version the headend should show
    checked: int = 0  # referenced assets looked at
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)  # wrong size, or wrong sha256 with deep
    manifest_ok: bool = False
    forgotten: int = 0  # store rows for files the headend no longer has
    adopted: int = 0  # files on the headend the store did not know
    repaired: DeliveryReport | None = None

    @property
    def ok(self) -> bool:
        return self.manifest_ok and not self.missing and not self.corrupt


def verify(rt: Runtime, name: str, *, deep: bool = False, repair: bool = True) -> VerifyReport:
    """Re-reads the headend, brings the store's memory of it in line with what is really there,
    and (with ``repair``) re-delivers the newest version if anything it needs is missing or
    wrong. ``deep`` reads every referenced asset back and checks its sha256."""
    rep = VerifyReport(target=name)
    rt.settings.target(name)
    with rt.store.read() as db:
        # The newest version, delivered to this target or not: a target added after it was
        # published should show it too (issue 15: verify said 正常 of an empty headend).
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
        known = {a.name: a.bytes for a in db.exec(select(TargetAsset).where(TargetAsset.target == name))}
    if cv is None:
        rep.manifest_ok = True
        return rep
    rep.version = cv.version
    wanted: dict[str, int] = dict(json.loads(cv.assets))
    target = rt.target(name)
    try:
        there = ours(target.list_assets())
        for asset, size in sorted(wanted.items()):
            rep.checked += 1
            if asset not in there:
                rep.missing.append(asset)
            elif there[asset] != size:
                rep.corrupt.append(asset)
            elif deep:
                data = target.read(asset)
                if data is None or hashlib.sha256(data).hexdigest() != parse_asset_name(asset)[0]:
                    rep.corrupt.append(asset)
        rep.manifest_ok = target.read("channel.xml") == cv.manifest.encode("utf-8")
        for asset in rep.corrupt:  # a wrong file under a content-hash name would be trusted forever
            target.delete(asset)
    finally:
        target.close()
    bad = set(rep.corrupt)
    now = utcnow()
    with rt.store.write() as db:
        for asset in known:
            if asset not in there or asset in bad or there[asset] != known[asset]:
                row = db.get(TargetAsset, (name, asset))
                if row is not None:
                    db.delete(row)
                    rep.forgotten += 1
        for asset, size in there.items():
            if asset not in known and asset not in bad:
                db.merge(
                    TargetAsset(target=name, name=asset, bytes=size, pushed_at=now, unreferenced_since=None if asset in wanted else now)
                )
                rep.adopted += 1
        if repair and not rep.ok:
            d = db.exec(select(Delivery).where(Delivery.target == name, Delivery.channel_version == cv.version)).first()
            if d is None:
                _queue_current(db, name, now)
            elif d.state != DeliveryState.PENDING:
                d.state, d.done_at, d.next_attempt_at = DeliveryState.PENDING, None, now
    if repair and not rep.ok:
        rep.repaired = deliver_one(rt, name, only_due=False)
    return rep


# -- helpers -------------------------------------------------------------------------------------


def ours(listing: dict[str, int]) -> dict[str, int]:
    """The names of a listing that we could have written: ``assets/<sha256>.<ext>``."""
    return {a: n for a, n in listing.items() if is_asset_name(a)}


def _held(target: str, asset: str, size: int, at: datetime, unreferenced_since: datetime | None = None) -> dict[str, Any]:
    """A ``target_asset`` row as a plain mapping (a model object per asset cost more than the
    write of a page to a folder: issue 19)."""
    return {"target": target, "name": asset, "bytes": size, "pushed_at": at, "unreferenced_since": unreferenced_since}


def _upsert(db: Session, rows: list[dict[str, Any]]) -> None:
    """Records many assets in one statement run for every row (``merge`` would read each row
    first, and a VALUES list of a thousand rows was compiled anew for every batch)."""
    if not rows:
        return
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(TargetAsset.__table__)  # type: ignore[attr-defined]
    ex = stmt.excluded
    update = {"bytes": ex.bytes, "pushed_at": ex.pushed_at, "unreferenced_since": ex.unreferenced_since}
    db.connection().execute(stmt.on_conflict_do_update(index_elements=["target", "name"], set_=update), rows)


def _aware(dt: datetime) -> datetime:
    """SQLite hands datetimes back naive; the store keeps UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
