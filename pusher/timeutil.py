"""Time conventions: the store keeps aware UTC datetimes; people see the channel's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_utc(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Aware UTC from an aware datetime, or from a naive one read as local time in ``tz``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)


def local(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Aware local datetime (for display and the manifest) from a stored one."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(ZoneInfo(tz))
