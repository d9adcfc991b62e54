"""Item states and the only transitions allowed between them.

::

    NEW ──screen──▶ SCREENED ──render──▶ RENDERED ──channel──▶ PUBLISHED
     │                ▲   │                 │                     │
     ├──▶ HELD ───────┘   └──▶ (changed) NEW ◀────────────────────┤
     ├──▶ REJECTED (blocked, or an operator's reject)              ├──▶ WITHDRAWN (gone from portal / retracted)
     └──▶ FAILED (render error; retried when the item changes)     └──▶ EXPIRED (retention)

Any state may go back to NEW when the portal's content changes (a new version is screened
again from scratch).
"""

from __future__ import annotations

import enum

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
    S.RENDERED: frozenset({S.PUBLISHED, S.SCREENED, S.WITHDRAWN, S.EXPIRED}),
    S.FAILED: frozenset({S.SCREENED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.RENDERED, S.SCREENED, S.WITHDRAWN, S.EXPIRED}),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset({S.PUBLISHED, S.RENDERED}),
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
