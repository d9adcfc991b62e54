"""Issue 18: the byte budget counts what a carousel cycle really carries — pages, the exports
(XMLTV, RSS, playlist) and the playout (segments and playlists) — not the pages alone."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from broadcast_kit import add_item, make_runtime
from sqlmodel import select

from pusher.runtime import Runtime
from pusher.stages import publish
from pusher.stages.publish import plan
from pusher.stages.retention import BUDGET
from pusher.states import ItemState
from pusher.store.models import ChannelVersion, Item
from pusher.timeutil import utcnow

CHANNEL: dict[str, Any] = {
    "page_seconds": 2,
    "epg_hours": 1,
    "exports": ["xmltv", "playlist", "rss"],
    "playout": {"enabled": True, "outputs": ["hls"], "video": "sd"},
}


def _channel(rt: Runtime) -> dict[int, int]:
    """Eight one-page items, item n n hours old; item id → age rank."""
    now = utcnow()
    return {add_item(rt, n, published=now - timedelta(hours=n), page_bytes=3000): n for n in range(8)}


def _by_kind(cv: ChannelVersion) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, n in json.loads(cv.assets):
        kind = "page" if name.endswith(".png") else "video" if name.endswith((".ts", ".m3u8", ".ffconcat")) else "export"
        out[kind] = out.get(kind, 0) + n
    return out


def test_the_budget_counts_exports_and_video_and_trims_to_what_travels(tmp_path: Path) -> None:
    # The whole channel, unbudgeted: what each kind of file weighs.
    rt = make_runtime(tmp_path / "free", **CHANNEL)
    _channel(rt)
    whole = publish(rt)
    assert whole is not None and whole.items == 8
    kinds = _by_kind(whole)
    assert kinds["page"] + kinds["export"] + kinds["video"] == whole.bytes
    assert kinds["video"] > kinds["page"] and kinds["export"] > 0
    rt.close()

    # A budget the pages alone fit easily, but not the cycle: items must leave, oldest first.
    budget = whole.bytes * 85 // 100
    assert budget > kinds["page"] * 10
    rt = make_runtime(tmp_path / "budget", budget_bytes=budget, **CHANNEL)
    ids = _channel(rt)
    p = plan(rt)
    assert p.cost is not None and p.cost.total <= budget
    assert p.cost.exports > 0 and p.cost.video > 0
    cv = publish(rt)
    assert cv is not None
    assert cv.bytes == sum(_by_kind(cv).values()) <= budget, (cv.bytes, budget)
    assert 0 < cv.items < 8
    with rt.store.read() as db:
        states = {it.id or 0: (it.state, it.state_reason) for it in db.exec(select(Item))}
    gone = sorted(ids[i] for i, (st, why) in states.items() if (st, why) == (ItemState.EXPIRED, BUDGET))
    kept = sorted(ids[i] for i, (st, _) in states.items() if st == ItemState.PUBLISHED)
    assert gone and kept and max(kept) < min(gone), "the oldest leave first"
    assert len(kept) == cv.items
    assert publish(rt) is None  # stable: the next round trims nothing more
    rt.close()
