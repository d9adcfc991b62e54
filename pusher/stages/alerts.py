"""Emergency and service alerts: a ticker line and an alert page in the manifest, on air at once.

``raise_alert`` records the alert (and an audit row); ``broadcast`` then builds a channel version
that carries it and delivers it to every target at once, ignoring the backoff of a headend that
was down, with the delivery's priority set from the alert's level. An alert leaves the air by
itself: the publish round drops it once its ``until`` has passed (and records that it expired),
or when an operator clears it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from feeds.extract import clean
from pusher.errors import ConfigError, TvPusherError
from pusher.interfaces import Block, Document, PageContext
from pusher.runtime import Runtime
from pusher.stages.outbox import DeliveryReport
from pusher.store.db import actor
from pusher.store.models import Alert, AuditAction, ChannelVersion, Page
from pusher.timeutil import local, utcnow

LEVELS = ("info", "warning", "urgent")
#: Delivery priority by level (the outbox row's ``priority``).
PRIORITY = {"info": 0, "warning": 1, "urgent": 2}
#: What the alert page says it is, by level.
HEADING = {"info": "公告", "warning": "预警信息", "urgent": "紧急通知"}
DEFAULT_HOURS = 24

_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


def parse_until(value: str, tz: str, now: datetime | None = None) -> datetime:
    """``--until``: a duration (``90m``, ``6h``, ``2d``), a local time today (``18:30``, tomorrow
    if already past) or a local date and time (``2026-11-28 08:00``); returns aware UTC."""
    now = now or utcnow()
    v = value.strip()
    if m := _DURATION.match(v):
        n, unit = int(m.group(1)), m.group(2)
        return now + timedelta(minutes=n) * {"m": 1, "h": 60, "d": 1440}[unit]
    zone = ZoneInfo(tz)
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", v):
            hh, mm = map(int, v.split(":"))
            today = local(now, tz).date()
            at = datetime.combine(today, time(hh, mm), zone)
            if at <= now:
                at = datetime.combine(today + timedelta(days=1), time(hh, mm), zone)
            return at.astimezone(UTC)
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise ConfigError(f"--until {value!r}: give a duration (6h), a time (18:30) or a date and time (2026-11-28 08:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.astimezone(UTC)


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def raise_alert(rt: Runtime, text: str, *, level: str = "warning", until: datetime | None = None, column: str | None = None) -> Alert:
    # As for portal text: control characters would make the manifest unwritable while the alert lasts.
    text = clean(text)
    if not text:
        raise ConfigError("an alert needs a text")
    if level not in LEVELS:
        raise ConfigError(f"alert level {level!r} is not one of {', '.join(LEVELS)}")
    if column:
        rt.settings.column(column)
    now = utcnow()
    until = until or now + timedelta(hours=DEFAULT_HOURS)
    if until <= now:
        raise ConfigError(f"--until {local(until, rt.settings.channel.timezone):%Y-%m-%d %H:%M} is already past")
    with rt.store.write() as db:
        alert = Alert(text=text, level=level, column=column or "", created_at=now, until=until, actor=actor())
        db.add(alert)
        db.flush()
        rt.store.audit(
            db, AuditAction.ALERT_RAISE, reason=text, detail=f"alert {alert.id}, {level}, until {until.isoformat()}, column {column or '—'}"
        )
    return alert


def clear_alerts(rt: Runtime, alert_id: int | None = None) -> list[int]:
    """Ends every alert on air (or one); returns the ids ended."""
    now = utcnow()
    ended = []
    with rt.store.write() as db:
        for a in db.exec(select(Alert).where(col(Alert.ended_at).is_(None))):
            if alert_id is not None and a.id != alert_id:
                continue
            a.ended_at, a.ended = now, "cleared"
            ended.append(a.id or 0)
            rt.store.audit(db, AuditAction.ALERT_CLEAR, reason=a.text, detail=f"alert {a.id}")
    if alert_id is not None and not ended:
        raise TvPusherError(f"no alert {alert_id} on air")
    return ended


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

    owner = f"alert:{alert.id}"
    profile = rt.renderer.profile.name
    with rt.store.read() as db:
        cached = list(db.exec(select(Page).where(Page.owner == owner, Page.profile == profile).order_by(col(Page.seq))))
    if cached and all(rt.assets.has(p.sha256) for p in cached):
        return cached
    tz = rt.settings.channel.timezone
    column = rt.settings.column(alert.column).name if alert.column else ""
    ctx = PageContext(rt.settings.channel.name, column, local(alert.created_at, tz).date())
    render_alert = getattr(rt.renderer, "render_alert", None)
    if render_alert is not None:  # a renderer with a dedicated alert layout
        images = list(render_alert(alert.text, alert.level, ctx))
    else:
        until = f"（有效至 {local(alert.until, tz):%m月%d日 %H:%M}）" if alert.until else ""
        doc = Document(
            url="", title=HEADING.get(alert.level, "公告"), blocks=(Block("p", alert.text + until),), publisher=rt.settings.channel.name
        )
        images = list(rt.renderer.render_item(doc, ctx))
    rows = store_pages(rt, owner, 1, images)
    with rt.store.write() as db:
        db.exec(Page.__table__.delete().where(Page.owner == owner, Page.profile == profile))  # type: ignore[attr-defined]
        for r in rows:
            db.add(r)
    return rows


@dataclass
class Broadcast:
    alert: Alert | None
    version: ChannelVersion | None
    deliveries: list[DeliveryReport]


def broadcast(rt: Runtime, alert: Alert | None = None) -> Broadcast:
    """Publish the channel with the alerts now on air and deliver it to every target at once:
    the new version supersedes whatever was waiting, and a headend's backoff is not waited out."""
    from pusher.stages import deliver, publish

    priority = PRIORITY.get(alert.level, 0) if alert is not None else 0
    cv = publish(rt, priority=priority)
    reports = deliver(rt, now_only_due=False)
    return Broadcast(alert, cv, reports)
