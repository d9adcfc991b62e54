"""Dates as government portals write them, read as Asia/Shanghai unless they say otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pusher.timeutil import DEFAULT_TZ, to_utc

# The time may follow the day after a space, a "T" or a dash: gov.cn's firstpublishedtime meta
# is written "2007-08-20-23:59:59".
_CN = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?(?:[\sT\-]*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?")


# A portal date outside these is a typo or garbage, and one near the calendar's end cannot even
# be shown in local time (9999-12-31T23:00Z is in the year 10000 in Shanghai: OverflowError).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_date(text: str | None, tz: str = DEFAULT_TZ) -> datetime | None:
    """Aware UTC datetime from ``2020年08月02日``, ``2016-11-22 09:53``, ``2026-10-04 01:39:11.0``,
    ISO 8601 or RFC 822; ``None`` when the text holds no date (or one before 1900 or after 2200)."""
    dt = _parse(text, tz)
    return dt if dt is not None and EARLIEST <= dt < LATEST else None


def _parse(text: str | None, tz: str) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    # A date at the edge of the calendar (0001-01-01 in Shanghai) has no UTC datetime.
    try:
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except (ValueError, OverflowError):
        pass
    m = _CN.search(text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        try:
            return to_utc(datetime(y, mo, d, h, mi, s), tz)
        except (ValueError, OverflowError):
            return None
    try:
        return to_utc(parsedate_to_datetime(text), tz)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
