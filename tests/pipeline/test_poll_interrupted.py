"""A poll cut short (SIGTERM drains the daemon mid-poll) must not lose the list entries it did
not reach: the next poll reads the list again instead of trusting its 304."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.store.models import Item
from pusher.web.httpserve import StaticServer


def urls(rt: Runtime) -> set[str]:
    with rt.store.read() as db:
        return set(db.exec(select(Item.url)))


def test_entries_a_stopped_poll_did_not_reach_arrive_at_the_next_poll(portal: StaticServer, demo_rt: Runtime, tmp_path: Path) -> None:
    name = demo_rt.settings.sources[0].name
    images: Any = demo_rt.images
    real = images.fetch
    fetched: list[str] = []

    def fetch(http: Any, doc: Any) -> int:
        fetched.append(doc.url)
        if len(fetched) == 2:
            demo_rt.stopping.set()  # SIGTERM: the stage finishes the item in hand and returns
        return int(real(http, doc))

    images.fetch = fetch
    poll_source(demo_rt, name)
    assert len(urls(demo_rt)) == 2
    demo_rt.stopping.clear()  # the daemon restarts
    poll_source(demo_rt, name)

    full = Runtime(parse_settings(demo_config(portal.url, tmp_path / "full"), tmp_path))
    try:
        poll_source(full, name)
        want = urls(full)
    finally:
        full.close()
    assert len(want) > 2
    assert urls(demo_rt) == want, "entries the stopped poll did not reach were lost"


def test_a_new_entry_whose_page_failed_is_read_again_at_the_next_poll(portal_dir: Path, demo_rt: Runtime) -> None:
    name = demo_rt.settings.sources[0].name
    art = portal_dir / "art/2026/11/15/art_1001_5103.html"
    good = art.read_bytes()
    art.write_bytes(b"<html><body><script>x()</script></body></html>")  # the portal has a bad moment
    rep = poll_source(demo_rt, name)
    assert any("art_1001_5103" in e for e in rep.item_errors)
    assert not any(u.endswith("art_1001_5103.html") for u in urls(demo_rt))
    art.write_bytes(good)
    rep = poll_source(demo_rt, name)
    assert any(u.endswith("art_1001_5103.html") for u in urls(demo_rt)), "the entry was hidden by the list's 304"
