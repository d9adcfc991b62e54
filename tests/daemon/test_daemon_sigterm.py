"""SIGTERM while the daemon pushes the first channel to a (slow, fsyncing) folder headend: the
delivery in hand is finished, nothing is left half-done — no claim, no temporary file, no
manifest pointing at a missing page — and the process exits 0."""

from __future__ import annotations

import signal
from pathlib import Path

from daemonkit import Portal, check_headend, manifest_items, start_daemon, wait_for, write_config
from sqlmodel import select

from pusher.states import ItemState
from pusher.store.db import Store
from pusher.store.models import Delivery, Item, Node

N = 80


def test_sigterm_mid_push_finishes_the_delivery_and_exits_cleanly(fixture_portal: Portal, tmp_path: Path) -> None:
    fixture_portal.add(N)
    headend = tmp_path / "headend"  # on disk: every file is fsynced, so the push takes a while
    work = tmp_path / "work"
    cfg = write_config(tmp_path / "t.toml", portal=fixture_portal, work=work, headend=headend)
    d = start_daemon(cfg, tmp_path / "d.log")
    assets = headend / "assets"
    try:
        landed = lambda: len([p for p in assets.glob("*.png")]) if assets.is_dir() else 0  # noqa: E731
        # The first round may publish an empty channel (3 files) before the poll returns; wait
        # for the pages of the full one to be landing.
        assert wait_for(lambda: landed() >= 10, 60, every=0.005), d.text()[-3000:]
        assert len(manifest_items(headend)) < N, "the push finished before the signal: make it longer"
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(60) == 0, d.text()[-3000:]
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    log = d.text()
    assert "daemon stopped" in log and "Traceback" not in log
    # The delivery in hand was finished: the manifest is there and whole, and nothing temporary.
    assert len(manifest_items(headend)) == N
    check_headend(headend)
    assert not [p.name for p in headend.rglob(".*")], "temporary files left in the headend"
    assert not [p.name for p in (work / "assets").glob(".*")], "temporary files left in the page cache"
    store = Store(f"sqlite:///{work / 'tvpusher.db'}")
    with store.read() as db:
        deliveries = list(db.exec(select(Delivery)))
        items = list(db.exec(select(Item)))
        node = db.exec(select(Node)).one()
    assert deliveries and deliveries[0].state == "done"
    assert all(x.claimed_by == "" for x in deliveries), "a delivery is still leased"
    assert all(i.claimed_by == "" for i in items), "render claims were not handed back"
    on_air = {i for i, _, _ in manifest_items(headend)}
    for i in items:  # each item is wholly in one state: aired ones are published
        assert (f"i{i.id}" in on_air) == (i.state == ItemState.PUBLISHED), (i.id, i.state)
    assert node.stopped_at is not None and not node.leader
    store.dispose()
