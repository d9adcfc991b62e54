"""Work claims shared by several nodes: leases on items (render) and on a target's outbox rows.

On PostgreSQL a claim is ``SELECT … FOR UPDATE SKIP LOCKED`` followed by stamping the rows with
the node's name and a lease (``claimed_by``, ``claimed_until``) in the same short transaction:
two nodes never pick the same row, and neither waits for the other. The lease outlives the
transaction, so the work itself (rendering, pushing) runs with no transaction open; if the node
dies its lease runs out and another node takes the work over. On SQLite the same statements run
inside ``BEGIN IMMEDIATE`` (SQLAlchemy drops ``FOR UPDATE`` there), which serialises claimers.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from pusher.states import ItemState
from pusher.store.db import Store
from pusher.store.models import Delivery, DeliveryState, Item
from pusher.timeutil import utcnow

if TYPE_CHECKING:
    # Only its settings are read: the store does not depend on the runtime that holds it.
    from pusher.runtime import Runtime


def node_name(rt: Runtime) -> str:
    return rt.settings.daemon.node_name()


def lease(rt: Runtime) -> timedelta:
    return timedelta(seconds=rt.settings.daemon.lease_seconds)


def claim_items(store: Store, node: str, state: ItemState, limit: int, lease: timedelta) -> list[int]:
    """Leases up to ``limit`` unclaimed items in ``state`` (oldest first) to ``node``."""
    now = utcnow()
    with store.write() as db:
        ids = list(
            db.exec(
                select(Item.id)
                .where(
                    Item.state == state,
                    or_(col(Item.claimed_until).is_(None), col(Item.claimed_until) < now),
                )
                .order_by(col(Item.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.exec(update(Item).where(col(Item.id).in_(ids)).values(claimed_by=node, claimed_until=now + lease))
    return [i for i in ids if i is not None]


def release_item(item: Item, node: str) -> None:
    """Drops ``node``'s claim on a row loaded in the caller's write transaction."""
    if item.claimed_by == node:
        item.claimed_by, item.claimed_until = "", None


def release_items(store: Store, node: str, ids: list[int] | None = None) -> int:
    """Drops ``node``'s claims (on ``ids`` only, if given): work handed back unfinished."""
    with store.write() as db:
        q = update(Item).where(col(Item.claimed_by) == node)
        if ids is not None:
            if not ids:
                return 0
            q = q.where(col(Item.id).in_(ids))
        return int(db.exec(q.values(claimed_by="", claimed_until=None)).rowcount)


def release_dead(store: Store) -> int:
    """Drops the claims of processes of this host that no longer exist (``host:pid`` names), so
    that a restart after a crash does not wait for their leases to run out."""
    host = socket.gethostname()
    with store.read() as db:
        holders = set(db.exec(select(Item.claimed_by).where(Item.claimed_by != "").distinct()))
    dead = [h for h in holders if h.rpartition(":")[0] == host and not holder_alive(h)]
    return sum(release_items(store, h) for h in dead)


def holder_alive(holder: str) -> bool:
    """False only for a ``host:pid`` holder of this host whose process no longer exists: its
    leases are void at once. Anything else may be alive and keeps its lease until it runs out."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_target(db: Session, target: str) -> bool:
    """Row-locks a target's outbox rows for the caller's claim transaction; False if another node
    is claiming them right now (it will deliver, so this node has nothing to do).

    Without it two PostgreSQL nodes could both read "nobody holds this target" under READ
    COMMITTED and both deliver; SQLite's ``BEGIN IMMEDIATE`` already serialises the claim.
    """
    if db.get_bind().dialect.name != "postgresql":
        return True
    mine = or_(col(Delivery.state) == DeliveryState.PENDING, col(Delivery.claimed_by) != "")
    wanted = set(db.exec(select(Delivery.id).where(Delivery.target == target, mine)))
    if not wanted:
        return True
    got = set(db.exec(select(Delivery.id).where(col(Delivery.id).in_(wanted)).with_for_update(skip_locked=True)))
    return got == wanted
