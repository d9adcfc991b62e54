"""Screening writes its verdicts a batch at a time (``screen.SCREEN_BATCH``): what a batch holds
when the stage stops is still written, and an item that changed while its batch was screened is
left for the next round, not given the old version's verdict."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from pusher.runtime import Runtime
from pusher.stages import poll_source, screen
from pusher.states import ItemState
from pusher.store.models import Item


def _new(rt: Runtime) -> list[int]:
    for s in rt.settings.sources:
        poll_source(rt, s.name)
    with rt.store.read() as db:
        return sorted(i.id or 0 for i in db.exec(select(Item).where(col(Item.state) == ItemState.NEW)))


def _states(rt: Runtime) -> dict[int, ItemState]:
    with rt.store.read() as db:
        return {i.id or 0: i.state for i in db.exec(select(Item))}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(screen, "SCREEN_BATCH", 4)
    return 4


def test_verdicts_taken_before_a_stop_are_written(demo_rt: Runtime, small_batches: int) -> None:
    new = _new(demo_rt)
    assert len(new) > 3 * small_batches
    gate: Any = demo_rt.gate
    real, seen = gate.screen, []

    def screen_one(doc: Any) -> Any:
        seen.append(doc.url)
        if len(seen) == small_batches + 2:  # mid-way through the second batch
            demo_rt.stopping.set()
        return real(doc)

    gate.screen = screen_one
    try:
        done = screen.screen_items(demo_rt, limit=1000)
    finally:
        demo_rt.stopping.clear()
    after = _states(demo_rt)
    taken = [i for i in new if after[i] != ItemState.NEW]
    assert done == len(taken) == small_batches + 2  # the whole first batch and what the second had
    assert taken == new[: len(taken)]  # in order: nothing skipped


def test_an_item_changed_while_its_batch_was_screened_keeps_its_new_version(demo_rt: Runtime, small_batches: int) -> None:
    new = _new(demo_rt)
    victim = new[1]
    gate: Any = demo_rt.gate
    real, seen = gate.screen, []

    def screen_one(doc: Any) -> Any:
        seen.append(doc.url)
        if len(seen) == 3:  # the victim is screened, its verdict not yet written
            with demo_rt.store.write() as db:
                item = db.get(Item, victim)
                assert item is not None
                item.version += 1  # the portal changed it meanwhile (a poll stored a new version)
        return real(doc)

    gate.screen = screen_one
    done = screen.screen_items(demo_rt, limit=1000)
    after = _states(demo_rt)
    assert after[victim] == ItemState.NEW  # the next round screens the new version
    assert [i for i in new if i != victim and after[i] == ItemState.NEW] == []
    assert done == len(new) - 1
