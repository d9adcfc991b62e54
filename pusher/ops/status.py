"""The figures an operator asks for: items by state, sources, targets, backlog, channel, nodes.

``pusher status`` prints them; the health endpoint and ``/metrics`` read the same function.
Error texts pass through :func:`pusher.logs.redact`: no password or token ever shows here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select

from pusher.logs import redact, register_secrets
from pusher.runtime import Runtime
from pusher.stages.retention import cycle_seconds
from pusher.states import ItemState
from pusher.store.models import ChannelVersion, Delivery, DeliveryState, Item, Node, SourceRow
from pusher.timeutil import utcnow


def _iso(dt: datetime | None, tz: str) -> str | None:
    from pusher.timeutil import local

    return local(dt, tz).isoformat(timespec="seconds") if dt else None


def _age(dt: datetime | None, now: datetime) -> float | None:
    if dt is None:
        return None
    return max(0.0, (now - (dt if dt.tzinfo else dt.replace(tzinfo=UTC))).total_seconds())


def collect_status(rt: Runtime) -> dict[str, Any]:
    register_secrets(rt.settings)  # the configuration's passwords and tokens never show here
    tz = rt.settings.channel.timezone
    now = utcnow()
    alive_within = rt.settings.daemon.scheduler_stuck_after
    with rt.store.read() as db:
        counts = {s.value: 0 for s in ItemState}
        for state, n in db.exec(select(Item.state, func.count()).group_by(Item.state)):
            counts[ItemState(state).value] = n
        rows = {r.name: r for r in db.exec(select(SourceRow))}
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
        sums = {
            t: (int(b or 0), int(a or 0) - int(d or 0))
            for t, b, a, d in db.exec(
                select(
                    Delivery.target, func.sum(Delivery.bytes_sent), func.sum(Delivery.attempts),
                    func.sum(case((col(Delivery.state) == DeliveryState.DONE, 1), else_=0)),
                ).group_by(Delivery.target)
            )
        }  # fmt: skip
        targets = []
        for t in rt.settings.targets:
            last = db.exec(
                select(Delivery)
                .where(Delivery.target == t.name, Delivery.state == DeliveryState.DONE)
                .order_by(col(Delivery.channel_version).desc())
            ).first()
            pending = list(
                db.exec(
                    select(Delivery)
                    .where(Delivery.target == t.name, Delivery.state == DeliveryState.PENDING)
                    .order_by(col(Delivery.channel_version).desc())
                )
            )
            failing_since = None
            if pending and pending[0].last_error:
                # Failing since the last success (or since the target's first delivery).
                first = db.exec(select(func.min(Delivery.created_at)).where(Delivery.target == t.name)).one()
                failing_since = last.done_at if last and last.done_at else first
            pushed, failures = sums.get(t.name, (0, 0))
            targets.append(
                {
                    "name": t.name,
                    "kind": t.kind,
                    "enabled": t.enabled,
                    "last_delivered_version": last.channel_version if last else None,
                    "last_delivered_at": _iso(last.done_at, tz) if last else None,
                    "backlog": len(pending),
                    "next_attempt_at": _iso(pending[0].next_attempt_at, tz) if pending else None,
                    "attempts": pending[0].attempts if pending else 0,
                    "last_error": redact(pending[0].last_error) if pending else "",
                    "failing_since": _iso(failing_since, tz),
                    "failing_seconds": _age(failing_since, now) or 0,
                    "pushed_bytes": pushed,
                    "failures": max(0, failures),
                }
            )
        nodes = [
            {
                "name": n.name,
                "host": n.host,
                "pid": n.pid,
                "leader": n.leader and n.stopped_at is None,
                "leader_since": _iso(n.leader_since, tz),
                "started_at": _iso(n.started_at, tz),
                "seen_at": _iso(n.seen_at, tz),
                "alive": n.stopped_at is None and (_age(n.seen_at, now) or 0) <= alive_within,
            }
            for n in db.exec(select(Node).order_by(col(Node.name)))
        ]
    sources = []
    for s in rt.settings.sources:
        r = rows.get(s.name)
        sources.append(
            {
                "name": s.name,
                "kind": s.kind,
                "enabled": s.enabled,
                "interval": s.interval,
                "last_poll_at": _iso(r.last_poll_at, tz) if r else None,
                "last_ok_at": _iso(r.last_ok_at, tz) if r else None,
                "last_status": r.last_status if r else "never",
                "last_error": redact(r.last_error) if r else "",
                "polls": r.polls if r else 0,
                "errors": r.errors if r else 0,
                "failing_since": _iso(r.failing_since, tz) if r else None,
                "failing_seconds": (_age(r.failing_since, now) or 0) if r else 0,
            }
        )
    st: dict[str, Any] = {
        "channel": {
            "name": rt.settings.channel.name,
            "profile": rt.settings.channel.profile,
            "version": cv.version if cv else None,
            "generated_at": _iso(cv.created_at, tz) if cv else None,
            "age_seconds": _age(cv.created_at, now) if cv else None,
            "items": cv.items if cv else 0,
            "pages": cv.pages if cv else 0,
            "bytes": cv.bytes if cv else 0,
            # The carousel sends every byte once per cycle: a box waits up to this for a page.
            "cycle_seconds": round(cycle_seconds(cv.bytes if cv else 0, rt.settings.broadcast), 1),
            "bitrate_kbps": rt.settings.broadcast.bitrate_kbps,
            "budget_bytes": rt.settings.broadcast.budget_bytes,
        },
        "items": counts,
        "backlog": {
            "to_screen": counts["new"],
            "held_for_review": counts["held"],
            "to_render": counts["screened"],
            "deliveries": sum(t["backlog"] for t in targets),
        },
        "sources": sources,
        "targets": targets,
        "nodes": nodes,
    }
    # What the outbox knows beyond the delivery rows: assets still to send, held, awaiting deletion.
    from pusher.stages.outbox import target_status

    for row, ts in zip(targets, target_status(rt), strict=True):
        row.update(
            versions_behind=ts.versions_behind, to_send=ts.to_send, to_send_bytes=ts.to_send_bytes, assets_held=ts.held,
            awaiting_deletion=ts.awaiting_deletion, busy_with=ts.busy_with,
        )  # fmt: skip
    from pusher.daemon.health import evaluate

    problems = evaluate(st, rt.settings)
    st["health"] = {"ok": not problems, "problems": problems}
    return st
