"""What an operator does to one item: approve or reject what the gate held, retract what is on
air, check that an item is on air before a push. Each decision is audited with the OS user,
the time and the reason; each state change goes through :func:`pusher.states.set_state`.
"""

from __future__ import annotations

from pusher.errors import TvPusherError, UsageError
from pusher.runtime import Runtime
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store.models import AuditAction, Item


def _reason(reason: str, missing: str = "a reason is required (--reason)") -> str:
    if not reason.strip():
        raise UsageError(missing)
    return reason.strip()


def _decide(rt: Runtime, item_id: int, new: ItemState, action: AuditAction, reason: str, *, as_is: bool = False) -> Item:
    why = _reason(reason)
    with rt.store.write() as db:
        item = db.get(Item, item_id)
        if item is None:
            raise TvPusherError(f"no item {item_id}")
        if item.state != ItemState.HELD:
            raise TvPusherError(f"item {item_id} is {item.state.value}, not held: nothing to decide")
        if as_is:
            item.screened_body, item.screened_title = item.body, item.title
        set_state(item, new, f"review: {action.removeprefix('review.')} by operator")
        db.add(item)
        rt.store.audit(db, action, item_id=item_id, reason=why, detail=f"version {item.version}")
    return item


def approve(rt: Runtime, item_id: int, reason: str, *, mask: bool = True) -> Item:
    """Lets a held item on air: masked (the gate's text, default) or as the portal published it."""
    action = AuditAction.APPROVE_MASKED if mask else AuditAction.APPROVE_AS_IS
    return _decide(rt, item_id, ItemState.SCREENED, action, reason, as_is=not mask)


def reject(rt: Runtime, item_id: int, reason: str) -> Item:
    """Keeps a held item off the air until the portal changes it."""
    return _decide(rt, item_id, ItemState.REJECTED, AuditAction.REJECT, reason)


def retract(rt: Runtime, item_id: int, reason: str) -> Item:
    """Takes an item off the air for good (it stays withdrawn until an operator puts it back;
    portal edits do not). The channel is published again by the caller's round."""
    why = _reason(reason, "a retraction needs --reason (it is kept in the audit log)")
    with rt.store.write() as db:
        item = db.get(Item, item_id)
        if item is None:
            raise TvPusherError(f"no item {item_id}")
        if item.state == ItemState.WITHDRAWN:
            raise TvPusherError(f"item {item_id} is withdrawn already")
        was = set_state(item, ItemState.WITHDRAWN, f"retracted: {why}")
        db.add(item)
        rt.store.audit(db, AuditAction.RETRACT, item_id=item_id, reason=why, detail=f"was {was.value}, version {item.version}")
    return item


def ensure_on_air(rt: Runtime, item_id: int, target: str | None = None) -> Item:
    """``push --item``: the item must be on air; the push is audited against it."""
    with rt.store.write() as db:
        row = db.get(Item, item_id)
        if row is None:
            raise TvPusherError(f"no item {item_id}")
        if row.state not in ON_AIR:
            why = f" ({row.state_reason})" if row.state_reason else ""
            raise TvPusherError(f"item {item_id} is {row.state.value}{why}, not on air: nothing to push")
        rt.store.audit(db, AuditAction.PUSH, item_id=item_id, detail=f"version {row.version}, target {target or 'all'}")
    return row


def retry(rt: Runtime, item_ids: list[int] | None = None) -> list[int]:
    """``pusher retry``: failed items (those given, or all of them for ``None``) go back to be
    drawn now; the caller's round renders and publishes them. Unknown or not-failed ids fail."""
    from pusher.stages.render import requeue_failed

    if item_ids:
        with rt.store.read() as db:
            for i in item_ids:
                row = db.get(Item, i)
                if row is None:
                    raise TvPusherError(f"no item {i}")
                if row.state != ItemState.FAILED:
                    raise TvPusherError(f"item {i} is {row.state.value}, not failed: nothing to retry")
    return requeue_failed(rt, item_ids or [], reason="retry: by operator")
