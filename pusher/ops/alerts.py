"""Alerts, as an operator raises and clears them: on air at once, ahead of any waiting delivery.

:func:`raise_alert` records the alert (and an audit row); :func:`broadcast` then publishes a
channel version that carries it and delivers it to every target at once, ignoring the backoff of
a headend that was down, with the delivery's priority set from the alert's level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from feeds.extract import clean
from pusher.errors import TvPusherError, UsageError
from pusher.ops.round import PUBLISH_AND_DELIVER, run_round
from pusher.runtime import Runtime
from pusher.stages.alerts import DEFAULT_HOURS, LEVELS, PRIORITY
from pusher.stages.outbox import DeliveryReport
from pusher.store.db import actor
from pusher.store.models import Alert, AuditAction, ChannelVersion
from pusher.timeutil import local, utcnow

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
        raise UsageError(f"--until {value!r}: give a duration (6h), a time (18:30) or a date and time (2026-11-28 08:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.astimezone(UTC)


def raise_alert(rt: Runtime, text: str, *, level: str = "warning", until: datetime | None = None, column: str | None = None) -> Alert:
    # As for portal text: control characters would make the manifest unwritable while the alert lasts.
    text = clean(text)
    if not text:
        raise UsageError("an alert needs a text")
    if level not in LEVELS:
        raise UsageError(f"alert level {level!r} is not one of {', '.join(LEVELS)}")
    if column:
        rt.settings.column(column)
    now = utcnow()
    until = until or now + timedelta(hours=DEFAULT_HOURS)
    if until <= now:
        raise UsageError(f"--until {local(until, rt.settings.channel.timezone):%Y-%m-%d %H:%M} is already past")
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


@dataclass
class Broadcast:
    alert: Alert | None
    version: ChannelVersion | None
    deliveries: list[DeliveryReport]


def broadcast(rt: Runtime, alert: Alert | None = None) -> Broadcast:
    """Publish the channel with the alerts now on air and deliver it to every target at once:
    the new version supersedes whatever was waiting, and a headend's backoff is not waited out."""
    priority = PRIORITY.get(alert.level, 0) if alert is not None else 0
    rep = run_round(rt, steps=PUBLISH_AND_DELIVER, now_only_due=False, priority=priority)
    return Broadcast(alert, rep.version, rep.deliveries)
