"""The store on both backends: migrations, the enum, claims with leases, outbox row locks,
scheduler leadership. Each test runs on SQLite and on its own PostgreSQL schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from pusher.daemon.leader import PgLeadership, leadership_for
from pusher.states import ItemState
from pusher.store import claims
from pusher.store.db import Store
from pusher.store.migrations import downgrade, include_object
from pusher.store.models import Delivery, Item
from pusher.timeutil import utcnow

LEASE = timedelta(seconds=60)


def _model_diff(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        # The search index (FTS5 tables, trigram indexes) is deliberately not a model.
        return list(compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), SQLModel.metadata))


def test_migrations_match_the_models_and_go_down_and_up(store: Store) -> None:
    assert _model_diff(store) == []
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.migrate()  # on PostgreSQL this fails if the downgrade left the enum type behind
    assert {"item", "node", "delivery"} <= set(inspect(store.engine).get_table_names())
    assert _model_diff(store) == []


def test_every_item_state_round_trips(store: Store) -> None:
    with store.write() as db:
        for n, state in enumerate(ItemState):
            db.add(Item(source="s", url=f"http://x/{n}", title=f"标题{n}", state=state))
    with store.read() as db:
        got = {i.url: i.state for i in db.exec(select(Item))}
    assert got == {f"http://x/{n}": s for n, s in enumerate(ItemState)}
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            labels = conn.execute(text("SELECT enum_range(NULL::itemstate)::text")).scalar()
        assert labels == "{" + ",".join(s.name for s in ItemState) + "}"


def _items(store: Store, n: int, state: ItemState = ItemState.SCREENED) -> list[int]:
    with store.write() as db:
        rows = [Item(source="s", url=f"http://x/{i}", title=f"t{i}", state=state) for i in range(n)]
        db.add_all(rows)
    with store.read() as db:
        return sorted(i for i in db.exec(select(Item.id)) if i is not None)


def test_claims_are_disjoint_under_concurrency(store: Store) -> None:
    ids = _items(store, 60)
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker(node: str) -> None:
        mine: list[int] = []
        try:
            while batch := claims.claim_items(store, node, ItemState.SCREENED, 3, LEASE):
                mine += batch
        except BaseException as exc:
            errors.append(exc)
        got[node] = mine

    threads = [threading.Thread(target=worker, args=(f"node{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    every = [i for batch in got.values() for i in batch]
    assert sorted(every) == ids, "each item is claimed exactly once"
    with store.read() as db:
        holders = Counter(i.claimed_by for i in db.exec(select(Item)))
    assert holders == Counter({node: len(mine) for node, mine in got.items() if mine})


def test_a_lease_that_ran_out_is_taken_over_and_release_hands_back(store: Store) -> None:
    ids = _items(store, 4)
    assert claims.claim_items(store, "a", ItemState.SCREENED, 2, LEASE) == ids[:2]
    assert claims.claim_items(store, "b", ItemState.SCREENED, 10, LEASE) == ids[2:]
    assert claims.claim_items(store, "c", ItemState.SCREENED, 10, LEASE) == []
    # Node a died: its lease runs out.
    with store.write() as db:
        for row in db.exec(select(Item).where(Item.claimed_by == "a")):
            row.claimed_until = utcnow() - timedelta(seconds=1)
    assert claims.claim_items(store, "c", ItemState.SCREENED, 10, LEASE) == ids[:2]
    assert claims.release_items(store, "b") == 2
    assert claims.claim_items(store, "d", ItemState.SCREENED, 10, LEASE) == ids[2:]
    # Only the state asked for is claimed.
    assert claims.claim_items(store, "e", ItemState.NEW, 10, LEASE) == []


def test_claims_of_a_dead_local_process_are_released_at_once(store: Store) -> None:
    ids = _items(store, 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    gone = f"{socket.gethostname()}:{dead.stdout.strip()}"
    alive = f"{socket.gethostname()}:{os.getpid()}"
    claims.claim_items(store, gone, ItemState.SCREENED, 2, LEASE)
    claims.claim_items(store, alive, ItemState.SCREENED, 1, LEASE)
    assert claims.release_dead(store) == 2
    with store.read() as db:
        assert {i.id: i.claimed_by for i in db.exec(select(Item))} == {ids[0]: "", ids[1]: "", ids[2]: alive}


def test_a_target_being_claimed_elsewhere_is_skipped(store: Store) -> None:
    with store.write() as db:
        db.add(Delivery(target="headend", channel_version=1))
    other = Store(store.url)
    try:
        with store.write() as db:
            assert claims.lock_target(db, "headend")
            if store.engine.dialect.name == "postgresql":
                # While this transaction holds the rows, another node's claim skips them, at once.
                with other.write() as db2:
                    assert not claims.lock_target(db2, "headend")
                    assert claims.lock_target(db2, "elsewhere")
        with other.write() as db2:
            assert claims.lock_target(db2, "headend")
    finally:
        other.dispose()


def test_one_leader_at_a_time_and_takeover_when_it_goes(store: Store, tmp_path: Path) -> None:
    a = leadership_for(store, tmp_path)
    b = leadership_for(Store(store.url), tmp_path)
    assert a.acquire() and a.held()
    assert not b.acquire() and not b.held()
    assert a.acquire(), "acquiring again while leading is a no-op"
    a.release()
    assert not a.held()
    assert b.acquire() and b.held()
    assert not a.acquire()
    b.release()


@pytest.mark.postgres
def test_leadership_moves_when_the_leaders_session_dies(pg_url: str, tmp_path: Path) -> None:
    store = Store(pg_url)
    store.migrate()
    a, b = PgLeadership(store), PgLeadership(store)
    assert a.acquire()
    assert not b.acquire()
    # The leader's session is killed (as when its host dies and keepalives give up).
    pid = a._conn.info.backend_pid
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    assert not a.held(), "a leader notices it lost its session"
    assert b.acquire()
    assert not a.acquire()
    b.release()
    store.dispose()


@pytest.mark.postgres
def test_leader_keys_differ_per_schema(pg_url: str) -> None:
    """Tests (and channels) sharing a server in separate schemas do not elect each other."""
    a = PgLeadership(Store(pg_url))
    b = PgLeadership(Store(pg_url.split("?", 1)[0] + "?options=-csearch_path%3Dpublic"))
    assert a.acquire() and b.acquire()
    assert a.key != b.key
    a.release()
    b.release()
