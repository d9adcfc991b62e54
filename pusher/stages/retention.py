"""What stays on air: per-column limits (items, age), the channel's byte budget, and the carousel
cycle time the channel's size implies.

A data carousel repeats every file of the channel at a fixed bitrate, so a box that tunes in
waits up to one cycle for a page: the cycle time is the channel's bytes over the bitrate. The
byte budget keeps it bounded. When the channel does not fit, items leave oldest-first; pinned
items and alerts never do (if they alone exceed the budget the channel goes out over budget and
the publish log says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from pusher.config.broadcast import BroadcastSettings

log = logging.getLogger("tvpusher.retention")

T = TypeVar("T")


class Sized(Protocol):
    """A page as retention counts it: its bytes (a stored row, or the publish stage's light one)."""

    @property
    def bytes(self) -> int: ...


class Aging(Protocol):
    """An item as retention sees it (a store row, or the publish stage's light one)."""

    @property
    def id(self) -> int | None: ...
    @property
    def column(self) -> str: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def published(self) -> datetime | None: ...
    @property
    def first_seen(self) -> datetime: ...


P = TypeVar("P", bound=Sized)
It = TypeVar("It", bound=Aging)

MAX_AGE = "retention: older than the column's maximum age"
MAX_ITEMS = "retention: beyond the column's maximum number of items"
BUDGET = "retention: over the channel's byte budget"


def cycle_seconds(nbytes: int, settings: BroadcastSettings) -> float:
    """Seconds for the carousel to send ``nbytes`` once at the configured bitrate."""
    return nbytes * 8 / (settings.bitrate_kbps * 1000)


def _when(item: Aging) -> datetime:
    dt = item.published or item.first_seen
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def oldest_first(items: Sequence[tuple[It, T]]) -> list[tuple[It, T]]:
    """Age order, ties broken by id (the older row first) so that trimming is deterministic."""
    return sorted(items, key=lambda p: (_when(p[0]), p[0].id or 0))


@dataclass(frozen=True)
class Selection(Generic[It, P]):
    kept: list[tuple[It, list[P]]]  # in the order they were given
    dropped: dict[int, str]  # item id → reason


def apply_limits(chosen: Sequence[tuple[It, list[P]]], settings: BroadcastSettings, now: datetime) -> Selection[It, P]:
    """Per-column maximum age, then maximum number of items (the newest stay). Pinned items are
    exempt and do not count against the column's number."""
    dropped: dict[int, str] = {}
    by_col: dict[str, list[tuple[It, list[P]]]] = {}
    for pair in chosen:
        by_col.setdefault(pair[0].column, []).append(pair)
    for column, pairs in by_col.items():
        max_items, max_days = settings.limits(column)
        loose = [p for p in pairs if not p[0].pinned]
        if max_days:
            cutoff = now - timedelta(days=max_days)
            for it, _ in loose:
                if _when(it) < cutoff:
                    dropped[it.id or 0] = MAX_AGE
        if max_items:
            left = [p for p in loose if (p[0].id or 0) not in dropped]
            for it, _ in oldest_first(left)[: max(0, len(left) - max_items)]:
                dropped[it.id or 0] = MAX_ITEMS
    return Selection([p for p in chosen if (p[0].id or 0) not in dropped], dropped)


def ages_out(items: Sequence[Aging], settings: BroadcastSettings) -> datetime | None:
    """The first moment one of these items (on air now) passes its column's maximum age, or
    None: until then :func:`apply_limits` keeps them all, as far as age goes."""
    first: datetime | None = None
    for it in items:
        if it.pinned:
            continue
        max_days = settings.limits(it.column)[1]
        if max_days:
            at = _when(it) + timedelta(days=max_days)
            first = at if first is None or at < first else first
    return first


def trim_to(chosen: Sequence[tuple[It, list[P]]], excess: int, cost: Callable[[It, list[P]], int] | None = None) -> Selection[It, P]:
    """Drops unpinned items, oldest first, until what they cost adds up to ``excess`` bytes
    (``cost``: what leaving an item out saves a cycle, its video too; default its pages)."""
    dropped: dict[int, str] = {}
    freed = 0
    for it, pages in oldest_first([p for p in chosen if not p[0].pinned]):
        if freed >= excess:
            break
        dropped[it.id or 0] = BUDGET
        freed += cost(it, pages) if cost else sum(p.bytes for p in pages)
    if freed < excess:
        log.warning("pinned items and alerts alone exceed the byte budget by %d bytes", excess - freed)
    return Selection([p for p in chosen if (p[0].id or 0) not in dropped], dropped)
