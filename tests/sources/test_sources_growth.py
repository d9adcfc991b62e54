"""A poll's cost follows the portal's list, not the years of items the store has kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sources_portal import Portal
from sqlalchemy import event
from test_sources_changes import COL, Site

import pusher.stages.poll as poll
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.states import ItemState
from pusher.store.models import Item
from pusher.timeutil import utcnow


def test_a_changed_list_does_not_load_every_item_the_source_ever_had(
    site: Portal, make_runtime: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Site(site)
    s.add(1, "关于2026年冬季森林防火工作的通告", date="2026-11-20")
    s.add(2, "关于调整城区部分公交线路的公告", date="2026-11-18")
    s.publish()
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    assert poll_source(rt, "col1001").new == 2
    # Years of notices that left the air long ago and scrolled off the portal's list.
    now = utcnow()
    with rt.store.write() as db:
        for n in range(300):
            when = now - timedelta(days=400 + n)
            db.add(Item(source="col1001", url=f"{site.url}/art/old/art_{n}.html", title=f"旧通知{n}", published=when,
                        state=ItemState.EXPIRED, checked_at=now, text="正文" * 200))  # fmt: skip
    s.add(3, "永康市2026年秋季征兵工作公告", date="2026-11-21")
    s.publish()
    loaded: list[Any] = []

    def on_load(target: Any, _ctx: Any) -> None:
        loaded.append(target)

    rows: list[Any] = []
    real = poll.known_of
    monkeypatch.setattr(poll, "known_of", lambda row: rows.append(row) or real(row))
    event.listen(Item, "load", on_load)
    try:
        rep = poll_source(rt, "col1001")
    finally:
        event.remove(Item, "load", on_load)
    assert rep.new == 1 and rep.withdrawn == 0
    assert len(loaded) <= 10, f"the poll loaded {len(loaded)} items with their bodies"
    # Not even their columns: the listed URLs are looked up, and the few due for a re-check.
    assert len(rows) <= 3 + poll.RECHECK_PER_POLL, f"the poll read {len(rows)} item rows for a list of 3"
