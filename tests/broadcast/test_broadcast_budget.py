"""Budget and retention: the channel fits its byte budget, oldest items leave first, pinned items
and alerts stay; per-column limits; status reports the carousel cycle time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from broadcast_kit import add_item, make_runtime
from sqlmodel import select

from feeds.channel import manifest_tree
from pusher.cli import main
from pusher.ops import raise_alert
from pusher.ops.status import collect_status
from pusher.stages import publish
from pusher.stages.manifest import full_manifest, reader
from pusher.stages.retention import BUDGET, MAX_AGE, MAX_ITEMS, cycle_seconds
from pusher.states import ItemState
from pusher.store.models import ChannelVersion, Item, Page
from pusher.timeutil import utcnow

MB = 1_000_000


def test_a_channel_of_500_items_is_trimmed_to_its_budget_oldest_first_pinned_kept(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(tmp_path, budget_bytes=10 * MB, bitrate_kbps=2000)
    now = utcnow()
    columns = ["zwgk", "dwgk", "cwgk", "zwfw", "tzgg"]
    ids: dict[int, int] = {}  # item id -> age rank (0 = newest)
    pinned: set[int] = set()
    for n in range(500):
        # Item n is n hours old; every 50th (among them the very oldest ones) is pinned.
        is_pinned = n % 50 == 49
        iid = add_item(rt, n, column=columns[n % 5], published=now - timedelta(hours=n), pinned=is_pinned, page_bytes=24_000)
        ids[iid] = n
        if is_pinned:
            pinned.add(iid)
    raise_alert(rt, "城区部分路段今晚停水，请提前储水。", level="urgent")
    with rt.store.read() as db:
        item_bytes = sum(p.bytes for p in db.exec(select(Page)) if p.owner.startswith("item:"))
    assert item_bytes > 11 * MB  # the untrimmed channel would not fit

    cv = publish(rt)
    assert cv is not None
    manifest = full_manifest(rt, cv)
    total = sum(b for _, b in manifest_tree(cv.manifest.encode(), reader(rt)).values())
    assert total == cv.bytes <= 10 * MB
    assert total > 9 * MB  # trimmed to fit, not emptied
    aired = {int(i[1:]) for i in _item_ids(manifest)}
    assert pinned <= aired  # the oldest are pinned and stay
    assert b'level="urgent"' in manifest  # alerts are never dropped
    loose = sorted((ids[i], i) for i in ids if i not in pinned)
    kept = [i for _, i in loose if i in aired]
    gone = [i for _, i in loose if i not in aired]
    assert kept and gone
    assert max(ids[i] for i in kept) < min(ids[i] for i in gone), "items leave oldest-first"
    with rt.store.read() as db:
        states = {it.id: (it.state, it.state_reason) for it in db.exec(select(Item))}
    assert all(states[i] == (ItemState.EXPIRED, BUDGET) for i in gone)
    assert all(states[i][0] == ItemState.PUBLISHED for i in aired)

    st = collect_status(rt).to_dict()["channel"]
    assert st["bytes"] == total and st["pages"] == cv.pages
    assert st["cycle_seconds"] == round(total * 8 / 2_000_000, 1) == round(cycle_seconds(total, rt.settings.broadcast), 1)
    assert 36 < st["cycle_seconds"] <= 40  # 10 MB at 2 Mbit/s
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        f'[channel]\nworkdir = "{tmp_path / "work"}"\n[broadcast]\nbitrate_kbps = 2000\nbudget_bytes = {10 * MB}\n', encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["status", "--config", str(cfg)]) == 0
    assert f"轮播：每周期 {st['cycle_seconds']:g} 秒（2000 kbit/s），预算 {10 * MB / 1024:,.0f} KB" in capsys.readouterr().out
    assert publish(rt) is None  # stable: trimming twice changes nothing
    rt.close()


def test_column_limits_drop_the_oldest_and_spare_pinned_items(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, max_items=3, columns={"zwgk": {"max_items": 10, "max_age_days": 30}})
    now = utcnow()
    t = [add_item(rt, n, column="tzgg", published=now - timedelta(days=n)) for n in range(6)]
    old_pinned = add_item(rt, 6, column="tzgg", published=now - timedelta(days=400), pinned=True)
    # 0..40 days old, an hour younger than whole days so that the 30-day one stays inside the limit
    # however many seconds pass before publish looks at the clock.
    z = [add_item(rt, 10 + n, column="zwgk", published=now - timedelta(days=n * 10) + timedelta(hours=1)) for n in range(5)]
    cv = publish(rt)
    assert cv is not None
    aired = {int(i[1:]) for i in _item_ids(full_manifest(rt, cv))}
    assert aired == {*t[:3], old_pinned, *z[:4]}
    with rt.store.read() as db:
        reasons = {it.id: it.state_reason for it in db.exec(select(Item).where(Item.state == ItemState.EXPIRED))}
    assert reasons == {t[3]: MAX_ITEMS, t[4]: MAX_ITEMS, t[5]: MAX_ITEMS, z[4]: MAX_AGE}
    with rt.store.read() as db:
        assert db.get(ChannelVersion, cv.version) is not None
    rt.close()


def _item_ids(manifest: bytes) -> list[str]:
    from lxml import etree

    root = etree.fromstring(manifest)
    return [el.get("id") for el in root.iter("{urn:tvpusher:channel:1}item")]


def test_cycle_time_follows_the_bitrate(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path, bitrate_kbps=1000)
    # DESIGN: a 40 KB page costs about 0.3 s of cycle at 1 Mbit/s.
    assert abs(cycle_seconds(40_000, rt.settings.broadcast) - 0.32) < 1e-9
    assert json.loads(json.dumps(collect_status(rt).to_dict()["channel"]))["cycle_seconds"] == 0.0
    rt.close()
