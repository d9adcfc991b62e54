"""An idle publish round does not plan the channel again (issue 19), and every input that can
alter what airs still makes it plan: a retraction, a withdrawal, an alert raised or expired,
an item ageing out, the local date, a column removed, a review approval, a page lost from the
cache, a write by another process or by raw SQL, triggers dropped by a batch migration.

The demo channel is built once for real (sample portal over HTTP, SQLite, folder headend);
each test works on a copy of its workdir and counts the plans
:func:`pusher.stages.publish.plan` makes in later rounds.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from feeds.channel import ChannelSpec
from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config
from pusher.ops import approve, raise_alert, retract, run_cycle, run_round
from pusher.runtime import Runtime
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store import changes
from pusher.store.db import Store
from pusher.store.models import Alert, Audit, ChannelVersion, Item, Page
from pusher.web.httpserve import StaticServer

# The module (``pusher.stages.publish`` is also the name of its function in ``pusher.stages``).
publish_stage = importlib.import_module("pusher.stages.publish")


class Clock:
    """The time publish, its idle check and the alerts see (``None``: the real time)."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    for mod in ("pusher.stages.publish", "pusher.stages.alerts"):
        monkeypatch.setattr(importlib.import_module(mod), "utcnow", c)
    return c


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per plan made."""
    made: list[int] = []
    real = publish_stage.plan

    def counted(rt: Runtime) -> publish_stage.Plan:
        made.append(1)
        return real(rt)

    monkeypatch.setattr(publish_stage, "plan", counted)
    return made


def _config(portal: StaticServer, tmp_path: Path, **broadcast: Any) -> dict[str, Any]:
    cfg = demo_config(portal.url, tmp_path / "work")
    if broadcast:
        cfg["broadcast"] = broadcast
    return cfg


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StaticServer, Path]]:
    """The sample portal (served for the whole module: item URLs carry its port) and a workdir
    holding its channel, built by one real cycle."""
    root = tmp_path_factory.mktemp("idle")
    shutil.copytree(PORTAL, root / "portal")
    with StaticServer(root / "portal") as srv:
        rt = Runtime(parse_settings(demo_config(srv.url, root / "work"), root))
        try:
            run_cycle(rt)
        finally:
            rt.close()
        yield srv, root / "work"


def _copy(site: tuple[StaticServer, Path], tmp_path: Path, **broadcast: Any) -> Runtime:
    """A new process on a copy of the built workdir: its first publish plans, then remembers."""
    srv, work = site
    shutil.copytree(work, tmp_path / "work")
    rt = Runtime(parse_settings(_config(srv, tmp_path, **broadcast), tmp_path))
    publish_stage.publish(rt)
    return rt


@pytest.fixture
def built(site: tuple[StaticServer, Path], tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    rt = _copy(site, tmp_path)
    yield rt
    rt.close()


def _airs(rt: Runtime) -> ChannelSpec:
    """The channel as it airs now (the newest version was made from this same plan)."""
    return publish_stage.build_spec(rt)


def _aired(rt: Runtime) -> set[str]:
    return {i.id for i in _airs(rt).items}


def _newest(rt: Runtime) -> ChannelVersion:
    with rt.store.read() as db:
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
    assert cv is not None
    return cv


def _an_item_on_air(rt: Runtime) -> int:
    with rt.store.read() as db:
        got = db.exec(select(Item.id).where(col(Item.state).in_(list(ON_AIR))).order_by(col(Item.id))).first()
    assert got is not None
    return got


def _idle(rt: Runtime, plans: list[int]) -> None:
    """The channel is built and remembered: another round plans nothing."""
    plans.clear()
    assert publish_stage.publish(rt) is None
    assert plans == [], "an idle round planned the channel again"


def test_an_idle_round_plans_nothing(built: Runtime, plans: list[int]) -> None:
    before = _newest(built).version
    _idle(built, plans)
    rep = run_round(built)  # the whole round: screen, render and deliver find nothing either
    assert rep.version is None and plans == []
    assert _newest(built).version == before


def test_a_retraction_publishes(built: Runtime, plans: list[int]) -> None:
    _idle(built, plans)
    item_id = _an_item_on_air(built)
    retract(built, item_id, "测试撤回")
    cv = publish_stage.publish(built)
    assert cv is not None and plans and f"i{item_id}" not in _aired(built)
    _idle(built, plans)  # the version it made is remembered: the next round plans nothing


def test_a_withdrawal_written_by_another_process_publishes(built: Runtime, plans: list[int]) -> None:
    _idle(built, plans)
    item_id = _an_item_on_air(built)
    other = Runtime(built.settings)  # a second process on the same store (a CLI, another node)
    try:
        with other.store.write() as db:
            item = db.get(Item, item_id)
            assert item is not None
            set_state(item, ItemState.WITHDRAWN, "gone from the portal")
            db.add(item)
    finally:
        other.close()
    cv = publish_stage.publish(built)
    assert cv is not None and f"i{item_id}" not in _aired(built)


def test_a_raw_sql_edit_publishes(built: Runtime, plans: list[int]) -> None:
    """A bulk statement outside the ORM's unit of work is counted too (the triggers see it)."""
    _idle(built, plans)
    item_id = _an_item_on_air(built)
    with built.store.write() as db:
        db.exec(update(Item).where(col(Item.id) == item_id).values(screened_title="改过的标题", title="改过的标题"))
    cv = publish_stage.publish(built)
    assert cv is not None and "改过的标题" in {i.title for i in _airs(built).items}


def test_claims_and_poll_bookkeeping_do_not_make_rounds_plan(built: Runtime, plans: list[int]) -> None:
    _idle(built, plans)
    with built.store.write() as db:
        db.exec(update(Item).values(claimed_by="other:1", checked_at=datetime.now(UTC), missing_polls=1))
        db.exec(update(Item).values(claimed_by="", missing_polls=0))
    _idle(built, plans)


def test_an_alert_raised_and_expired_publishes(built: Runtime, plans: list[int], clock: Clock) -> None:
    _idle(built, plans)
    now = datetime.now(UTC).replace(microsecond=0)
    alert = raise_alert(built, "道路临时封闭", until=now + timedelta(hours=1))
    cv = publish_stage.publish(built)
    assert cv is not None and [a.text for a in _airs(built).alerts] == ["道路临时封闭"]
    _idle(built, plans)
    clock.now = now + timedelta(hours=1, minutes=1)  # nothing written: only time passed
    cv = publish_stage.publish(built)
    assert cv is not None and not _airs(built).alerts
    with built.store.read() as db:
        row = db.get(Alert, alert.id)
    assert row is not None and row.ended == "expired"


def test_an_item_ageing_out_leaves_the_air(site: tuple[StaticServer, Path], tmp_path: Path, plans: list[int], clock: Clock) -> None:
    store = Store(f"sqlite:///{site[1] / 'tvpusher.db'}")
    with store.read() as db:
        dates = sorted(i.published for i in db.exec(select(Item).where(col(Item.state).in_(list(ON_AIR)))) if i.published)
    store.dispose()
    oldest, newest = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (dates[0], dates[-1]))
    assert oldest < newest
    # An age limit that keeps every item today, and drops the oldest a day after it passes.
    days = (clock() - oldest).days + 1
    rt = _copy(site, tmp_path, max_age_days=days, exports=[])
    try:
        _idle(rt, plans)
        clock.now = oldest + timedelta(days=days, hours=1)
        assert clock.now < newest + timedelta(days=days)
        cv = publish_stage.publish(rt)
        assert cv is not None and plans
        with rt.store.read() as db:
            expired = list(db.exec(select(Item).where(Item.state == ItemState.EXPIRED)))
        aired = _aired(rt)
        assert expired and aired and all(f"i{i.id}" not in aired for i in expired)
    finally:
        rt.close()


def test_the_local_date_changing_publishes(site: tuple[StaticServer, Path], tmp_path: Path, plans: list[int], clock: Clock) -> None:
    """Menus show the day: past local midnight (Asia/Shanghai) the channel is planned again."""
    clock.now = datetime(2026, 12, 1, 15, 50, tzinfo=UTC)  # 23:50 in Yongkang
    rt = _copy(site, tmp_path, exports=[])
    try:
        _idle(rt, plans)
        clock.now = datetime(2026, 12, 1, 15, 59, tzinfo=UTC)
        _idle(rt, plans)
        clock.now = datetime(2026, 12, 1, 16, 5, tzinfo=UTC)  # 00:05 the next day
        assert publish_stage.publish(rt) is not None and plans
    finally:
        rt.close()


def test_a_removed_column_publishes(site: tuple[StaticServer, Path], tmp_path: Path, built: Runtime, plans: list[int]) -> None:
    _idle(built, plans)
    cfg = _config(site[0], tmp_path)
    cfg["columns"] = [c for c in cfg["columns"] if c["id"] != "zdly"]
    cfg["sources"] = [s for s in cfg["sources"] if s["column"] != "zdly"]
    built.settings = parse_settings(cfg, tmp_path)  # the same process, its configuration changed
    cv = publish_stage.publish(built)
    assert cv is not None and plans
    assert "zdly" not in {c.id for c in _airs(built).columns}


def test_a_review_approval_publishes(built: Runtime, plans: list[int]) -> None:
    with built.store.read() as db:
        held = db.exec(select(Item).where(Item.state == ItemState.HELD)).first()
    assert held is not None and held.id is not None, "the demo portal holds one 公示 for review"
    _idle(built, plans)
    approve(built, held.id, "已核实，遮盖后播出")
    rep = run_round(built)
    assert rep.version is not None and f"i{held.id}" in _aired(built)


def test_a_menu_page_lost_from_the_cache_is_drawn_again(built: Runtime, plans: list[int]) -> None:
    lost = built.assets.path(_airs(built).home[0].sha256)
    _idle(built, plans)
    lost.unlink()
    assert publish_stage.publish(built) is None  # the same channel: no new version ...
    assert plans and lost.exists()  # ... but planned, which drew the menu again
    _idle(built, plans)


def test_triggers_dropped_by_a_migration_are_made_again(built: Runtime, plans: list[int]) -> None:
    _idle(built, plans)
    item_id = _an_item_on_air(built)
    with built.store.write() as db:
        changes.drop(db)
        # Written while nothing counts: the round must still see it.
        db.exec(text("UPDATE item SET state = 'withdrawn' WHERE id = :id"), params={"id": item_id})  # type: ignore[call-overload]
    cv = publish_stage.publish(built)
    assert cv is not None and plans and f"i{item_id}" not in _aired(built)
    with built.store.read() as db:
        assert changes.watching(db)
    _idle(built, plans)


# -- the counter itself, on both databases --------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path}/c.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(url)
    s.migrate()
    yield s
    s.dispose()


def test_the_counter_moves_for_what_airs_and_only_for_it(store: Store) -> None:
    def bumps(write: Any) -> int:
        with store.read() as db:
            before = changes.count(db)
        with store.write() as db:
            write(db)
        with store.read() as db:
            return changes.count(db) - before

    with store.read() as db:
        assert changes.watching(db)
    page = dict(seq=1, profile="hd", sha256="0" * 64, bytes=1, width=1, height=1)
    assert bumps(lambda db: db.add(Item(source="s", url="http://x/1", title="t"))) > 0
    assert bumps(lambda db: db.exec(update(Item).values(claimed_by="n:1", claimed_until=datetime.now(UTC)))) == 0
    assert bumps(lambda db: db.exec(update(Item).values(checked_at=datetime.now(UTC), validators='{"etag": "x"}', missing_polls=2))) == 0
    assert bumps(lambda db: db.exec(update(Item).values(state_reason="why", updated_at=datetime.now(UTC)))) == 0
    assert bumps(lambda db: db.exec(update(Item).values(state=ItemState.WITHDRAWN))) > 0
    assert bumps(lambda db: db.exec(update(Item).values(pinned=True))) > 0
    assert bumps(lambda db: db.add(Page(owner="menu:abc", **page))) == 0  # a cache of the plan
    assert bumps(lambda db: db.add(Page(owner="item:1", **page))) > 0
    assert bumps(lambda db: db.exec(text("DELETE FROM page WHERE owner = 'item:1'"))) > 0
    assert bumps(lambda db: db.add(Alert(text="提示"))) > 0
    assert bumps(lambda db: db.exec(update(Alert).values(ended="cleared"))) > 0
    assert bumps(lambda db: db.add(Audit(actor="op", action="review.approve-masked"))) > 0
    assert bumps(lambda db: db.add(ChannelVersion(version=1, digest="d", manifest="<c/>"))) == 0  # the stage compares numbers
    assert bumps(lambda db: db.exec(update(ChannelVersion).values(created_at=datetime.now(UTC) - timedelta(hours=3)))) > 0


def test_every_item_column_is_watched_or_named_unwatched() -> None:
    """A column added to ``item`` is watched unless it is added to the unwatched list on purpose."""
    names = {c.name for c in Item.__table__.columns}  # type: ignore[attr-defined]
    assert set(changes.ITEM_UNWATCHED) < names
    assert {"state", "version", "rendered_version", "title", "screened_title", "column", "pinned", "published"} <= (
        names - set(changes.ITEM_UNWATCHED)
    )


# -- two nodes on PostgreSQL, nothing shared but the database -------------------------------------


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("broadcast_kit", Path(__file__).parents[1] / "broadcast" / "broadcast_kit.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_change_another_node_makes_on_postgresql_publishes(pg_url: str, tmp_path: Path, plans: list[int]) -> None:
    kit = _kit()
    a = kit.make_runtime(tmp_path / "a", database=pg_url)
    b = kit.make_runtime(tmp_path / "b", database=pg_url)  # its own workdir: the database is all they share
    try:
        first, second = kit.add_item(a, 1), kit.add_item(a, 2)
        assert publish_stage.publish(a) is not None
        _idle(a, plans)
        retract(b, first, "另一节点撤回")
        cv = publish_stage.publish(a)
        assert cv is not None and _aired(a) == {f"i{second}"}
        _idle(a, plans)
        third = kit.add_item(b, 3)
        assert publish_stage.publish(a) is not None and f"i{third}" in _aired(a)
    finally:
        a.close()
        b.close()
