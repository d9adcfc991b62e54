"""Item state changes logged once each, after their transaction commits, whichever stage or
command made them: a listener on every session (installed by :class:`~pusher.store.db.Store`).

Here, not in :mod:`pusher.logs`, because it reads the store's models: logging stays below the
store and needs none of it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session

from pusher.store.models import Item

_transitions = logging.getLogger("tvpusher.item")
_KEY = "tvp_transitions"
_installed = False


def note_inserted(session: Session, item_id: int, source: str, state: Any, version: int, reason: str) -> None:
    """An item row written with a Core INSERT (the poll's batches), which the ORM events do not
    see: logged with the others once the transaction commits."""
    session.info.setdefault(_KEY, []).append((item_id, source, None, state, version, reason))


def install_transition_events() -> None:
    """Logs every committed change of an item's state, whichever stage or command made it."""
    global _installed
    if _installed:
        return

    def after_flush(session: Session, _ctx: Any) -> None:
        found = session.info.setdefault(_KEY, [])
        for obj in session.new:
            if isinstance(obj, Item):
                found.append((obj.id, obj.source, None, obj.state, obj.version, obj.state_reason))
        for obj in session.dirty:
            if isinstance(obj, Item):
                hist = inspect(obj).attrs.state.history
                if hist.added and hist.deleted and hist.added[0] != hist.deleted[0]:
                    found.append((obj.id, obj.source, hist.deleted[0], hist.added[0], obj.version, obj.state_reason))

    def after_commit(session: Session) -> None:
        for item_id, source, old, new, version, reason in session.info.pop(_KEY, []):
            old_s = getattr(old, "value", old)
            new_s = getattr(new, "value", new)
            _transitions.info("item %s (source %s) %s → %s", item_id, source, old_s or "∅", new_s,
                              extra={"event": "transition", "item": item_id, "source": source, "from": old_s, "state": new_s,
                                     "version": version, "reason": reason})  # fmt: skip

    def after_rollback(session: Session) -> None:
        session.info.pop(_KEY, None)

    event.listen(Session, "after_flush", after_flush)
    event.listen(Session, "after_commit", after_commit)
    event.listen(Session, "after_soft_rollback", lambda s, _prev: after_rollback(s))
    _installed = True
