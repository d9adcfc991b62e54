"""The figures an operator asks for: items by state, sources, targets, backlog, channel.

``pusher status`` prints them; the health endpoint and metrics read the same function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from .models import ChannelVersion, Delivery, Item, SourceRow
from .runtime import Runtime
from .states import ItemState


def _iso(dt: datetime | None, tz: str) -> str | None:
    from .timeutil import local

    return local(dt, tz).isoformat(timespec="seconds") if dt else None


def collect_status(rt: Runtime) -> dict[str, Any]:
    tz = rt.settings.channel.timezone
    with rt.store.read() as db:
        counts = {s.value: 0 for s in ItemState}
        for state, n in db.exec(select(Item.state, func.count()).group_by(Item.state)):
            counts[ItemState(state).value] = n
        rows = {r.name: r for r in db.exec(select(SourceRow))}
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
        targets = []
        for t in rt.settings.targets:
            last = db.exec(
                select(Delivery).where(Delivery.target == t.name, Delivery.state == "done").order_by(col(Delivery.channel_version).desc())
            ).first()
            pending = list(
                db.exec(
                    select(Delivery)
                    .where(Delivery.target == t.name, Delivery.state == "pending")
                    .order_by(col(Delivery.channel_version).desc())
                )
            )
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
                    "last_error": pending[0].last_error if pending else "",
                }
            )
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
                "last_error": r.last_error if r else "",
                "polls": r.polls if r else 0,
                "errors": r.errors if r else 0,
            }
        )
    return {
        "channel": {
            "name": rt.settings.channel.name,
            "profile": rt.settings.channel.profile,
            "version": cv.version if cv else None,
            "generated_at": _iso(cv.created_at, tz) if cv else None,
            "items": cv.items if cv else 0,
            "pages": cv.pages if cv else 0,
            "bytes": cv.bytes if cv else 0,
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
    }
