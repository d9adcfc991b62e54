"""A backlog (a first start, a portal that publishes its archive at once) goes on air in one go:
the render worker draws call after call until nothing waits, then wakes the leader's publish
round; a round screens everything waiting, not one call's worth."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, func, select

import pusher.stages
from pusher.daemon.scheduler import Daemon
from pusher.ops import round as round_
from pusher.ops import run_round
from pusher.runtime import Runtime
from pusher.stages import poll_source, screen_items
from pusher.states import ItemState
from pusher.store.models import Item


def _count(rt: Runtime, state: ItemState) -> int:
    with rt.store.read() as db:
        return int(db.exec(select(func.count()).select_from(Item).where(col(Item.state) == state)).one())


@pytest.fixture
def screened(demo_rt: Runtime) -> Runtime:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    screen_items(demo_rt, limit=1000)
    assert _count(demo_rt, ItemState.SCREENED) > 20
    return demo_rt


@pytest.fixture
def small_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each render call draws at most 5 items (a call's worth is 200 in the daemon)."""
    real, calls = pusher.stages.render_items, []

    def render_items(rt: Runtime, limit: int = 200) -> Any:
        rep = real(rt, limit=min(limit, 5))
        calls.append(rep.items)
        return rep

    monkeypatch.setattr(pusher.stages, "render_items", render_items)
    return calls


@pytest.mark.parametrize("leader", [True, False])
def test_the_render_worker_draws_the_whole_backlog_then_wakes_the_publish_round(
    screened: Runtime, small_calls: list[int], leader: bool
) -> None:
    waiting = _count(screened, ItemState.SCREENED)
    work = Daemon(screened).channels[0]
    work.leader = leader
    woken: list[bool] = []
    work.wake_publish = lambda: woken.append(True)  # type: ignore[method-assign]
    work.render_worker()
    assert _count(screened, ItemState.SCREENED) == 0
    assert sum(small_calls) == waiting and len(small_calls) >= waiting // 5 + 1  # the last call found nothing
    assert woken == ([True] if leader else [])  # only the leader publishes
    small_calls.clear()
    work.render_worker()  # nothing waits: one look, no wake-up
    assert small_calls == [0] and len(woken) == (1 if leader else 0)


def test_a_stop_ends_the_drain_after_the_call_in_hand(screened: Runtime, small_calls: list[int]) -> None:
    work = Daemon(screened).channels[0]
    work.leader = True
    woken: list[bool] = []
    work.wake_publish = lambda: woken.append(True)  # type: ignore[method-assign]
    real = pusher.stages.render_items

    def then_stop(rt: Runtime, limit: int = 200) -> Any:
        rep = real(rt, limit)
        rt.stopping.set()
        return rep

    pusher.stages.render_items = then_stop  # type: ignore[assignment]
    try:
        work.render_worker()
    finally:
        pusher.stages.render_items = real  # type: ignore[assignment]
        screened.stopping.clear()
    assert small_calls == [5] and woken == []  # stopping: the daemon is going, nothing is woken
    assert _count(screened, ItemState.SCREENED) > 0  # the rest waits for the next start


def test_a_round_screens_everything_waiting(demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    new = _count(demo_rt, ItemState.NEW)
    assert new > 10
    monkeypatch.setattr(round_, "SCREEN_CALL", 4)
    rep = run_round(demo_rt, steps=("screen",))
    assert _count(demo_rt, ItemState.NEW) == 0
    assert rep.screened == new  # held and rejected ones included: each got its verdict


@pytest.mark.parametrize("leader", [True, False])
def test_the_leaders_render_worker_screens_what_a_poll_stored(demo_rt: Runtime, small_calls: list[int], leader: bool) -> None:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    new = _count(demo_rt, ItemState.NEW)
    work = Daemon(demo_rt).channels[0]
    work.leader = leader
    work.wake_publish = lambda: None  # type: ignore[method-assign]
    work.render_worker()
    if leader:  # screened and drawn while the poll (here: done) would go on
        assert _count(demo_rt, ItemState.NEW) == 0 and _count(demo_rt, ItemState.SCREENED) == 0
        assert sum(small_calls) == _count(demo_rt, ItemState.RENDERED) > 0
    else:  # a follower only draws: screening is the leader's
        assert _count(demo_rt, ItemState.NEW) == new and sum(small_calls) == 0


def test_the_worker_leaves_screening_to_a_round_that_holds_it(demo_rt: Runtime, small_calls: list[int]) -> None:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    new = _count(demo_rt, ItemState.NEW)
    work = Daemon(demo_rt).channels[0]
    work.leader = True
    with work._screen_lock:  # the publish round is screening
        work.render_worker()
    assert _count(demo_rt, ItemState.NEW) == new  # not screened twice at once
