"""Issue 19, render on every core: the render stage draws a backlog in worker processes
(``render.workers``) with the same pages, the same failures and the same hand-back of claims as
drawing in its own process, fails only the item whose worker dies, keeps its workers for the
next call (a daemon's next round) until they idle ``KEEP_ALIVE`` seconds, and leaves no process
behind once shut down.

The pool starts from ``POOL_MIN_ITEMS`` waiting items; the tests lower it so that the sample
portal's 33 items are a backlog (the figure itself is a cost trade-off, measured by
``bench/render_stage_bench.py``)."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.runtime import Runtime
from pusher.stages import poll_source, render_pool, screen_items
from pusher.stages import render as stage
from pusher.stages.render import render_items
from pusher.stages.render_pool import WORKER_DIED, Job
from pusher.states import ItemState, set_state
from pusher.store.models import Item, Page
from pusher.web.httpserve import StaticServer

LATIN_ONLY = {"fonts": ["DejaVu Sans"], "bold_fonts": ["DejaVu Sans:bold"]}


@pytest.fixture(autouse=True)
def small_backlog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(stage, "POOL_MIN_ITEMS", 4)
    monkeypatch.setattr(stage, "CLAIM_BATCH", 3)  # several batches, two in flight
    monkeypatch.setattr(render_pool, "KEEP_ALIVE", 0.0)  # each pool closed with its stage call, unless a test keeps it
    yield
    render_pool.shutdown()


@pytest.fixture
def screened(portal: StaticServer, tmp_path: Path) -> Path:
    """A workdir holding the sample portal polled and screened, to be copied for each run."""
    rt = Runtime(parse_settings(demo_config(portal.url, tmp_path / "template"), tmp_path))
    try:
        for s in rt.settings.sources:
            poll_source(rt, s.name)
        assert screen_items(rt, limit=1000) >= 20
    finally:
        rt.close()
    return tmp_path / "template"


def runtime(template: Path, name: str, workers: int, render: dict[str, Any] | None = None) -> Runtime:
    work = template.parent / name
    shutil.copytree(template, work)
    cfg = demo_config("http://127.0.0.1:9/", work)
    cfg["render"] = {"workers": workers, **(render or {})}
    return Runtime(parse_settings(cfg, template.parent))


def pages_of(rt: Runtime) -> dict[tuple[str, int], tuple[str, str]]:
    """(owner, seq) → (sha256, layout) of every item page, and the page files' bytes checked."""
    with rt.store.read() as db:
        rows = list(db.exec(select(Page).where(col(Page.owner).startswith("item:"))))
    for r in rows:
        assert len(rt.assets.read(r.sha256)) == r.bytes
    return {(r.owner, r.seq): (r.sha256, r.layout) for r in rows}


def states(rt: Runtime) -> dict[int, tuple[ItemState, str, str]]:
    with rt.store.read() as db:
        return {it.id or 0: (it.state, it.state_reason, it.claimed_by) for it in db.exec(select(Item))}


def descendants() -> set[int]:
    """Processes below this one but multiprocessing's fork server and resource tracker, which
    live as long as this process (the workers are forked by the server: they count)."""
    helpers = {multiprocessing.forkserver._forkserver._forkserver_pid, multiprocessing.resource_tracker._resource_tracker._pid}
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(d))
    out, todo = set(), list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        out.add(pid)
        todo += children.get(pid, [])
    return out - helpers


@pytest.fixture
def no_orphans() -> Iterator[None]:
    before = descendants()
    yield
    assert descendants() - before == set(), "a render worker outlived the stage"


def test_pool_draws_the_same_pages_as_the_stage_alone(screened: Path, no_orphans: None) -> None:
    alone, pool = runtime(screened, "alone", 1), runtime(screened, "pool", 2)
    try:
        a, p = render_items(alone), render_items(pool)
        assert (a.workers, p.workers) == (1, 2)
        assert a.items == p.items >= 20 and a.failed == p.failed == 0
        assert (a.pages, a.bytes) == (p.pages, p.bytes)
        assert pages_of(pool) == pages_of(alone)  # sha256 and layout of every page, in order
        assert states(pool) == states(alone)
        assert all(claimed == "" for _, _, claimed in states(pool).values())
    finally:
        alone.close()
        pool.close()


def test_failures_in_workers_read_as_in_the_stage(screened: Path, no_orphans: None) -> None:
    """A page that cannot be drawn (a font without Chinese: FontError) fails its item with the
    same reason either way, and every other item is still tried."""
    alone, pool = runtime(screened, "alone", 1, LATIN_ONLY), runtime(screened, "pool", 2, LATIN_ONLY)
    try:
        a, p = render_items(alone), render_items(pool)
        assert p.workers == 2 and a.failed == p.failed >= 20 and a.items == p.items == 0
        failed = states(pool)
        assert failed == states(alone)
        assert all(r.startswith(stage.RENDER_FAILURE) for s, r, _ in failed.values() if s == ItemState.FAILED)
    finally:
        alone.close()
        pool.close()


class _Dies:
    """Unpickled in a worker, it ends that process at once, as a segfault or the OOM killer would."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return (os._exit, (70,))


def test_a_worker_that_dies_fails_only_its_item(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime(screened, "pool", 2)
    jobs = stage._jobs
    victim: list[int] = []

    def poisoned(rt_: Runtime, ids: list[int], node: str) -> dict[int, Job]:
        out = jobs(rt_, ids, node)
        if not victim and len(out) > 1:  # the second item of the first batch kills its worker
            victim.append(sorted(out)[1])
            out[victim[0]] = dataclasses.replace(out[victim[0]], ctx=_Dies())  # type: ignore[arg-type]
        return out

    monkeypatch.setattr(stage, "_jobs", poisoned)
    try:
        rep = render_items(rt)
        assert rep.workers == 2 and rep.failed == 1
        after = states(rt)
        assert after[victim[0]][:2] == (ItemState.FAILED, stage.RENDER_FAILURE + WORKER_DIED)
        others = {i: s for i, s in after.items() if i != victim[0] and s[0] != ItemState.HELD}
        assert rep.items == len(others) >= 20
        assert all(s == ItemState.RENDERED and claimed == "" for s, _, claimed in others.values())
    finally:
        rt.close()


def stop_after_first_batch(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """SIGTERM as the daemon sets it, right after the stage stored its first batch; returns the
    stage's own store, to put back."""
    store = stage._store_batch

    def then_stop(*args: Any) -> None:
        store(*args)
        rt.stopping.set()

    monkeypatch.setattr(stage, "_store_batch", then_stop)
    return store


def test_stopping_hands_back_what_is_not_drawn(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM sets ``rt.stopping``: the batch stored, the one drawing finished or handed back,
    no more claimed; nothing fails and nothing stays claimed."""
    rt = runtime(screened, "pool", 2)
    store = stop_after_first_batch(rt, monkeypatch)
    try:
        rep = render_items(rt)
        after = states(rt)
        assert rep.workers == 2 and rep.failed == 0
        rendered = [i for i, s in after.items() if s[0] == ItemState.RENDERED]
        waiting = [i for i, s in after.items() if s[0] == ItemState.SCREENED]
        assert len(rendered) == rep.items and 0 < rep.items <= 2 * 3 * 2  # at most the two batches in flight
        assert waiting and all(after[i][2] == "" for i in waiting)  # handed back, not left to a lease
        rt.stopping.clear()
        monkeypatch.setattr(stage, "_store_batch", store)
        assert render_items(rt).items == len(waiting)  # the next round draws them
    finally:
        rt.close()


def test_a_few_items_are_drawn_in_the_stage(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below ``POOL_MIN_ITEMS`` no worker is started (its fonts would cost more than the items)."""
    monkeypatch.setattr(stage, "POOL_MIN_ITEMS", 1000)
    rt = runtime(screened, "few", 2)
    try:
        rep = render_items(rt)
        assert rep.workers == 1 and rep.items >= 20
    finally:
        rt.close()


def test_workers_ignore_a_sigterm_to_the_whole_unit(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd signals every process of the unit: the workers go on, and the stage decides when
    they stop (a worker killed by it would read as a crash of the item it was drawing)."""
    rt = runtime(screened, "pool", 2)
    store, broken = stage._store_batch, render_pool.DrawPool._broken
    signalled: list[int] = []
    breaks: list[int] = []

    def signal_workers(*args: Any) -> None:
        if not signalled:
            signalled.extend(descendants())  # the pool's workers
            for pid in signalled:
                os.kill(pid, signal.SIGTERM)
        store(*args)

    def counted(self: render_pool.DrawPool) -> None:
        breaks.append(1)
        broken(self)

    monkeypatch.setattr(stage, "_store_batch", signal_workers)
    monkeypatch.setattr(render_pool.DrawPool, "_broken", counted)
    try:
        rep = render_items(rt)
        assert len(signalled) == 2 and breaks == []  # the same two workers drew every batch
        assert rep.failed == 0 and rep.items >= 20
    finally:
        rt.close()


def screened_again(rt: Runtime) -> int:
    """Every rendered item back to SCREENED: the next stage call has a backlog again."""
    with rt.store.write() as db:
        items = list(db.exec(select(Item).where(Item.state == ItemState.RENDERED)))
        for it in items:
            set_state(it, ItemState.SCREENED, "drawn again by the test")
    return len(items)


def test_workers_are_kept_for_the_next_call(
    screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A daemon's next round with a backlog draws on the same workers (fonts open, glyphs
    cached); ``shutdown`` stops them and waits (the fixture checks that none is left). Their
    start is said once, at info level: a backlog's dozens of calls in a row do not repeat it."""
    monkeypatch.setattr(render_pool, "KEEP_ALIVE", 60.0)
    caplog.set_level(logging.DEBUG, logger="tvpusher.render")
    rt = runtime(screened, "kept", 2)
    try:
        first = render_items(rt)
        pages = pages_of(rt)
        workers = descendants()
        assert first.workers == 2 and len(workers) == 2 and render_pool.kept_workers() == 2
        assert screened_again(rt) == first.items >= 20
        second = render_items(rt)
        assert (second.workers, second.items, second.failed) == (2, first.items, 0)
        assert descendants() == workers  # the same two processes drew
        assert pages_of(rt) == pages
        said = [r.levelno for r in caplog.records if r.getMessage() == "drawing on 2 worker processes"]
        assert said == [logging.INFO, logging.DEBUG]
    finally:
        render_pool.shutdown()
        rt.close()
    assert render_pool.kept_workers() == 0 and descendants() & workers == set()


def test_kept_workers_exit_when_idle(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_pool, "KEEP_ALIVE", 1.0)
    rt = runtime(screened, "idle", 2)
    try:
        assert render_items(rt).workers == 2
        deadline = time.monotonic() + 30
        while (descendants() or render_pool.kept_workers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not descendants() and render_pool.kept_workers() == 0
    finally:
        rt.close()


def test_other_settings_replace_the_kept_workers(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers draw with one runtime's settings and picture folder: another's starts its own
    pool, and the kept one is shut down first (never two pools alive)."""
    monkeypatch.setattr(render_pool, "KEEP_ALIVE", 60.0)
    a, b = runtime(screened, "a", 2), runtime(screened, "b", 2)
    try:
        assert render_items(a).workers == 2
        first = descendants()
        assert render_items(b).workers == 2
        second = descendants()
        assert len(second) == 2 and not first & second
    finally:
        render_pool.shutdown()
        a.close()
        b.close()


def test_a_stopped_stage_keeps_no_worker(screened: Path, no_orphans: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM (``rt.stopping``): the daemon is going, its workers go with the stage call."""
    monkeypatch.setattr(render_pool, "KEEP_ALIVE", 60.0)
    rt = runtime(screened, "stopped", 2)
    stop_after_first_batch(rt, monkeypatch)
    try:
        assert render_items(rt).workers == 2
        assert render_pool.kept_workers() == 0 and not descendants()
    finally:
        rt.close()
