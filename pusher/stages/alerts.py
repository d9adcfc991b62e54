"""Alerts as the publish stage sees them: which are on air now, and their pages.

An alert (raised and cleared by :mod:`pusher.ops.alerts`) is a ticker line and an alert page in
the manifest. It leaves the air by itself: :func:`active_alerts` ends it once its ``until`` has
passed (and records that it expired), which is how the next publish round drops it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from pusher.interfaces import PageContext
from pusher.names import alert_owner
from pusher.runtime import Runtime
from pusher.store.models import Alert, AuditAction, Page
from pusher.timeutil import local, utcnow

LEVELS = ("info", "warning", "urgent")
#: Delivery priority by level (the outbox row's ``priority``).
PRIORITY = {"info": 0, "warning": 1, "urgent": 2}
DEFAULT_HOURS = 24


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def active_alerts(rt: Runtime, now: datetime | None = None) -> list[Alert]:
    """Alerts on air now, most urgent then newest first. Those past their time are ended here,
    which is how an alert expires by itself at the next publish round."""
    now = now or utcnow()
    with rt.store.read() as db:
        rows = list(db.exec(select(Alert).where(col(Alert.ended_at).is_(None))))
    expired = [a for a in rows if a.until is not None and (_aware(a.until) or now) <= now]
    gone = {a.id for a in expired}
    if expired:
        with rt.store.write() as db:
            for a in expired:
                row = db.get(Alert, a.id)
                if row is not None and row.ended_at is None:
                    row.ended_at, row.ended = now, "expired"
                    rt.store.audit(db, AuditAction.ALERT_EXPIRE, reason=row.text, detail=f"alert {row.id}")
    live = [a for a in rows if a.id not in gone]
    return sorted(live, key=lambda a: (-PRIORITY.get(a.level, 0), -(a.id or 0)))


def alert_pages(rt: Runtime, alert: Alert) -> list[Page]:
    """The alert page(s), rendered once and kept (owner ``alert:<id>``)."""
    from pusher.stages.render import store_pages

    owner = alert_owner(alert.id)
    profile = rt.renderer.profile.name
    with rt.store.read() as db:
        cached = list(db.exec(select(Page).where(Page.owner == owner, Page.profile == profile).order_by(col(Page.seq))))
    if cached and all(rt.assets.has(p.sha256) for p in cached):
        return cached
    tz = rt.settings.channel.timezone
    column = rt.settings.column(alert.column).name if alert.column else ""
    ctx = PageContext(rt.settings.channel.name, column, local(alert.created_at, tz).date())
    images = list(rt.renderer.render_alert(alert.text, alert.level, ctx))
    rows = store_pages(rt, owner, 1, images)
    with rt.store.write() as db:
        db.exec(Page.__table__.delete().where(Page.owner == owner, Page.profile == profile))  # type: ignore[attr-defined]
        for r in rows:
            db.add(r)
    return rows
