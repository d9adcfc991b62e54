"""Item states and the only transitions allowed between them.

::

    NEW ──screen──▶ SCREENED ──render──▶ RENDERED ──channel──▶ PUBLISHED
     │                ▲   │                 │                     │
     ├──▶ HELD ───────┘   └──▶ (changed) NEW ◀────────────────────┤
     ├──▶ REJECTED (blocked, or an operator's reject)              ├──▶ WITHDRAWN (gone from portal / retracted)
     └──▶ FAILED (render error; retried when the item changes)     └──▶ EXPIRED (retention)
    RENDERED, PUBLISHED ──▶ FAILED (publish: its data fails the channel schema; left out alone)

Any state may go back to NEW when the portal's content changes (a new version is screened
again from scratch). An expired item that leaves the portal, or that an operator retracts, is
WITHDRAWN like any other.

:func:`set_state` is the one place an item's state changes: it checks this table, so the table
and the code cannot drift apart (``tests/test_states.py`` walks every transition the code makes).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

from pusher.errors import TvPusherError


class ItemState(enum.StrEnum):
    NEW = "new"
    SCREENED = "screened"
    HELD = "held"
    REJECTED = "rejected"
    RENDERED = "rendered"
    FAILED = "failed"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


S = ItemState
TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    S.NEW: frozenset({S.SCREENED, S.HELD, S.REJECTED, S.WITHDRAWN}),
    S.SCREENED: frozenset({S.RENDERED, S.FAILED, S.HELD, S.WITHDRAWN}),
    S.HELD: frozenset({S.SCREENED, S.REJECTED, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.WITHDRAWN}),
    S.RENDERED: frozenset({S.PUBLISHED, S.SCREENED, S.WITHDRAWN, S.EXPIRED, S.FAILED}),
    S.FAILED: frozenset({S.SCREENED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.RENDERED, S.SCREENED, S.WITHDRAWN, S.EXPIRED, S.FAILED}),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset({S.PUBLISHED, S.RENDERED, S.WITHDRAWN}),
}
# A changed item restarts from NEW whatever its state; so does a withdrawn one that reappears.
for _state in ItemState:
    TRANSITIONS[_state] = TRANSITIONS[_state] | {S.NEW}

#: States whose items belong in the channel.
ON_AIR = frozenset({S.RENDERED, S.PUBLISHED})


class TransitionError(TvPusherError):
    pass


def check_transition(old: ItemState, new: ItemState) -> None:
    if new != old and new not in TRANSITIONS[old]:
        raise TransitionError(f"item cannot go from {old.value} to {new.value}")


class Stateful(Protocol):
    """What :func:`set_state` needs of an item (the store's ``Item`` row)."""

    state: ItemState
    state_reason: str
    updated_at: datetime


#: Called with (old, new) on every change; tests record the transitions the code makes.
_observers: list[Callable[[ItemState, ItemState], None]] = []


def set_state(item: Stateful, new: ItemState, reason: str = "", *, now: datetime | None = None) -> ItemState:
    """Move ``item`` to ``new`` with ``reason`` (shown by review and status), checking the table;
    returns the state it had. Staying in the same state only updates the reason."""
    old = ItemState(item.state)
    check_transition(old, new)
    item.state, item.state_reason, item.updated_at = new, reason, now or datetime.now(UTC)
    for observe in _observers:
        observe(old, new)
    return old


@contextmanager
def observed() -> Iterator[set[tuple[ItemState, ItemState]]]:
    """The set of (old, new) transitions :func:`set_state` makes inside the block."""
    seen: set[tuple[ItemState, ItemState]] = set()

    def record(old: ItemState, new: ItemState) -> None:
        seen.add((old, new))

    _observers.append(record)
    try:
        yield seen
    finally:
        _observers.remove(record)
