"""SQLite as the daemon and the CLI use it at the same time: WAL, busy timeout, BEGIN IMMEDIATE."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from pusher.states import ItemState, TransitionError, check_transition
from pusher.store.db import Store
from pusher.store.models import SourceRow


def test_wal_and_busy_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_read_modify_write_loses_no_update(tmp_path: Path) -> None:
    """Two writers incrementing the same counter: with BEGIN IMMEDIATE neither update is lost
    and neither fails with 'database is locked' on lock upgrade."""
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    with store.write() as db:
        db.add(SourceRow(name="s", kind="html"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with store.write() as db:
                    row = db.exec(select(SourceRow).where(SourceRow.name == "s")).one()
                    row.polls += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with store.read() as db:
        assert db.exec(select(SourceRow)).one().polls == 200


def test_state_transitions_are_checked() -> None:
    check_transition(ItemState.NEW, ItemState.SCREENED)
    check_transition(ItemState.PUBLISHED, ItemState.NEW)  # changed on the portal
    with pytest.raises(TransitionError):
        check_transition(ItemState.REJECTED, ItemState.PUBLISHED)
    with pytest.raises(TransitionError):
        check_transition(ItemState.HELD, ItemState.RENDERED)
