"""The outbox's status stays cheap however many deliveries the store has kept over the years."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from targetkit import Channel, make_runtime, page_bytes

from pusher.runtime import Runtime
from pusher.stages.outbox import deliver, target_status
from pusher.store.models import Delivery
from pusher.timeutil import utcnow


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path / "work", [{"name": "drop", "kind": "folder", "options": {"path": str(tmp_path / "drop")}}])
    yield rt
    rt.close()


def test_target_status_does_not_load_every_delivery_ever_made(rt: Runtime) -> None:
    ch = Channel(rt)
    ch.set("i1", page_bytes("i1"))
    ch.publish()
    deliver(rt)
    ch.set("i2", page_bytes("i2"))
    ch.publish()
    # A year of earlier publications (numbered apart from the real ones): rows nothing reads again.
    with rt.store.write() as db:
        old = utcnow() - timedelta(days=365)
        for n in range(1000, 1400):
            db.add(Delivery(target="drop", channel_version=-n, state="superseded", created_at=old, next_attempt_at=old))
    loaded: list[Any] = []

    def on_load(target: Any, _ctx: Any) -> None:
        loaded.append(target)

    event.listen(Delivery, "load", on_load)
    try:
        [st] = target_status(rt)
    finally:
        event.remove(Delivery, "load", on_load)
    assert (st.delivered_version, st.pending_version) == (1, 2)
    assert len(loaded) <= 5, f"status loaded {len(loaded)} delivery rows"
