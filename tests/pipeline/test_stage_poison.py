"""One item that trips a bug in a stage's plug-in (renderer, gate) must not stall every item after it."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlmodel import col, select

from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.stages import poll_source, render_items, screen_items
from pusher.states import ItemState
from pusher.store.models import Item


def states(rt: Runtime) -> dict[int, ItemState]:
    with rt.store.read() as db:
        return {i.id or 0: i.state for i in db.exec(select(Item).where(col(Item.duplicate_of).is_(None)))}


def test_a_renderer_bug_on_one_item_does_not_stall_the_others(demo_rt: Runtime) -> None:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    screen_items(demo_rt)
    screened = sorted(i for i, st in states(demo_rt).items() if st == ItemState.SCREENED)
    assert len(screened) > 10
    with demo_rt.store.read() as db:
        poison = db.get(Item, screened[0])
    assert poison is not None
    renderer: Any = demo_rt.renderer
    real = renderer.render_item

    def render_item(doc: Any, ctx: Any) -> Any:
        if doc.url == poison.url:
            raise ValueError("a bug in the renderer, met on this item only")
        return real(doc, ctx)

    renderer.render_item = render_item
    for _ in range(2):  # two rounds of the daemon's render job, which logs what a stage raises
        with contextlib.suppress(Exception):
            render_items(demo_rt)
    after = states(demo_rt)
    assert [i for i in screened[1:] if after[i] != ItemState.RENDERED] == [], "items after the poisoned one were never rendered"
    assert after[poison.id or 0] == ItemState.FAILED
    run_cycle(demo_rt)  # and the channel goes out without it
    assert states(demo_rt)[poison.id or 0] == ItemState.FAILED


def test_a_gate_bug_on_one_item_does_not_stall_the_others(demo_rt: Runtime) -> None:
    for s in demo_rt.settings.sources:
        poll_source(demo_rt, s.name)
    new = sorted(i for i, st in states(demo_rt).items() if st == ItemState.NEW)
    assert len(new) > 10
    with demo_rt.store.read() as db:
        poison = db.get(Item, new[0])
    assert poison is not None
    gate: Any = demo_rt.gate
    real = gate.screen

    def screen(doc: Any) -> Any:
        if doc.url == poison.url:
            raise ValueError("a bug in the gate, met on this item only")
        return real(doc)

    gate.screen = screen
    for _ in range(2):  # two rounds of the daemon's publish job, which logs what a stage raises
        with contextlib.suppress(Exception):
            screen_items(demo_rt)
    after = states(demo_rt)
    assert [i for i in new[1:] if after[i] == ItemState.NEW] == [], "items after the poisoned one were never screened"
    assert after[poison.id or 0] == ItemState.NEW  # fails closed: never on air unscreened


def test_a_source_bug_on_one_page_does_not_stall_the_entries_after_it(demo_rt: Runtime) -> None:
    name = demo_rt.settings.sources[0].name
    real_source = demo_rt.source
    seen: list[str] = []

    def source(n: str) -> Any:
        src = real_source(n)
        real_detail = src.detail

        def detail(http: Any, entry: Any) -> Any:
            seen.append(entry.url)
            if len(seen) == 1 or entry.url == seen[0]:
                raise ValueError("a bug in the adapter, met on this page only")
            return real_detail(http, entry)

        src.detail = detail  # type: ignore[method-assign]
        return src

    demo_rt.source = source  # type: ignore[method-assign, assignment]
    for _ in range(2):  # two rounds of the daemon's poll job, which logs what a stage raises
        with contextlib.suppress(Exception):
            poll_source(demo_rt, name)
    listed = set(seen)
    with demo_rt.store.read() as db:
        stored = set(db.exec(select(Item.url)))
    assert len(listed) > 2
    assert listed - stored == {seen[0]}, "entries after the poisoned page were never read"
