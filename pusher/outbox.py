"""The outbox: deliveries of channel versions to targets, durable across outages and restarts.

Per target, in order: the newest pending delivery supersedes older ones; assets the target
lacks are sent first (each verified by the target's ``put``), the manifest last; the delivery is
then marked done. A failure leaves the row pending with exponential backoff and jitter; a target
that is down delays only itself. Re-running a delivery after a crash is safe: assets already
there are skipped, the manifest replaced atomically.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from .errors import TargetError
from .models import ChannelVersion, Delivery, TargetAsset
from .runtime import Runtime
from .timeutil import utcnow

log = logging.getLogger("tvpusher.deliver")

BACKOFF_BASE = 5.0  # seconds
BACKOFF_MAX = 600.0


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential with full jitter in its upper half, so that retries of many nodes spread out."""
    cap = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return cap / 2 + (rng or random).random() * cap / 2


@dataclass
class DeliveryReport:
    target: str
    version: int = 0
    status: str = "idle"  # idle | done | failed
    files: int = 0
    bytes: int = 0
    error: str = ""


def deliver(rt: Runtime, target: str | None = None, *, now_only_due: bool = True) -> list[DeliveryReport]:
    names = [target] if target else [t.name for t in rt.settings.targets if t.enabled]
    return [deliver_one(rt, n, only_due=now_only_due) for n in names]


def deliver_one(rt: Runtime, name: str, *, only_due: bool = True) -> DeliveryReport:
    report = DeliveryReport(target=name)
    now = utcnow()
    with rt.store.write() as db:
        pending = list(
            db.exec(
                select(Delivery).where(Delivery.target == name, Delivery.state == "pending").order_by(col(Delivery.channel_version).desc())
            )
        )
        if not pending:
            return report
        newest, older = pending[0], pending[1:]
        for d in older:
            d.state = "superseded"
        if only_due and newest.next_attempt_at > now:
            return report
        cv = db.get(ChannelVersion, newest.channel_version)
        held = {a.name: a.bytes for a in db.exec(select(TargetAsset).where(TargetAsset.target == name))}
        delivery_id = newest.id
    assert cv is not None
    report.version = cv.version
    wanted: dict[str, int] = dict(json.loads(cv.assets))  # asset name -> bytes
    target = rt.target(name)
    try:
        if not held:
            held = target.list_assets()  # first delivery, or state lost: ask the headend what it has
        for asset, size in sorted(wanted.items()):
            if held.get(asset) == size:
                continue
            sha = asset.removeprefix("assets/").removesuffix(".png")
            data = rt.assets.read(sha)
            target.put(asset, data)
            report.files += 1
            report.bytes += len(data)
            with rt.store.write() as db:
                db.merge(TargetAsset(target=name, name=asset, bytes=len(data), pushed_at=utcnow()))
            held[asset] = size
        manifest = cv.manifest.encode("utf-8")
        target.publish_manifest(manifest)
        report.files += 1
        report.bytes += len(manifest)
    except (TargetError, OSError) as exc:
        report.status, report.error = "failed", str(exc)
        with rt.store.write() as db:
            d = db.get(Delivery, delivery_id)
            if d is not None and d.state == "pending":
                d.attempts += 1
                d.last_error = str(exc)
                d.next_attempt_at = utcnow() + timedelta(seconds=backoff(d.attempts))
        log.warning("delivery of version %d to %s failed: %s", cv.version, name, exc)
        return report
    finally:
        target.close()
    with rt.store.write() as db:
        d = db.get(Delivery, delivery_id)
        if d is not None:
            d.state, d.done_at, d.bytes_sent, d.files_sent = "done", utcnow(), d.bytes_sent + report.bytes, d.files_sent + report.files
            d.attempts += 1
            d.last_error = ""
        for a in db.exec(select(TargetAsset).where(TargetAsset.target == name)):
            a.unreferenced_since = None if a.name in wanted else (a.unreferenced_since or utcnow())
    report.status = "done"
    log.info("delivered version %d to %s: %d files, %d bytes", cv.version, name, report.files, report.bytes)
    return report
