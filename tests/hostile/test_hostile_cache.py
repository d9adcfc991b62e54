"""Issue 15, finding 4: the local asset cache deleted.

Publish failed every round while ``/healthz`` said ok, and a headend that later lost files could
never be repaired ("missing from the local asset store"). A page missing from the cache is now
drawn again from the store (the item's screened document, the day it was drawn), byte for byte;
one that cannot be had again sends its item back to be drawn for the next version, and health
says so meanwhile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlmodel import col, select

from feeds.channel import folder_reader, manifest_tree
from pusher.config.settings import load_settings
from pusher.ops import run_round
from pusher.ops.health import process_problems
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.stages.outbox import verify
from pusher.states import ItemState
from pusher.store.models import Item, Page
from pusher.store.redraw import REDRAW_REASON

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "daemon"))
from daemonkit import Portal, check_headend, free_port, healthz, manifest_items, start_daemon, wait_for, write_config


def _page_files(headend: Path) -> list[Path]:
    tree = manifest_tree((headend / "channel.xml").read_bytes(), folder_reader(headend))
    return sorted(headend / href for href in tree if href.endswith(".png"))


def test_cache_deleted_under_the_daemon_then_a_headend_that_lost_files_is_repaired(tmp_path: Path) -> None:
    portal = Portal(tmp_path / "portal")
    portal.add(5)
    headend, work = tmp_path / "headend", tmp_path / "work"
    port = free_port()
    with portal.server:
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=work, headend=headend, health=f"127.0.0.1:{port}",
                              publish_interval=5)  # fmt: skip
        proc = start_daemon(config, tmp_path / "daemon.log")
        try:
            assert wait_for(lambda: len(manifest_items(headend)) == 5 or proc.proc.poll() is not None, 90)
            assert len(manifest_items(headend)) == 5, proc.text()[-3000:]
            shutil.rmtree(work / "assets")
            portal.add(2)  # the daemon publishes again with its cache gone
            assert wait_for(lambda: len(manifest_items(headend)) == 7 or proc.proc.poll() is not None, 90), proc.text()[-3000:]
            check_headend(headend)
            assert healthz(f"http://127.0.0.1:{port}")[0] == 200
        finally:
            assert proc.stop() == 0
    # The headend loses the pages of the items published before the cache was deleted.
    lost = _page_files(headend)
    for p in lost:
        p.unlink()
    res = subprocess.run([sys.executable, "-m", "pusher", "verify", "--config", str(config)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    check_headend(headend)
    assert all(p.exists() for p in lost)
    assert all(p.exists() for p in (work / "assets").glob("*.png"))
    assert len(list((work / "assets").glob("*.png"))) >= len(lost)


def test_a_page_that_cannot_be_drawn_again_is_said_and_drawn_anew(tmp_path: Path) -> None:
    portal = Portal(tmp_path / "portal")
    portal.add(3)
    headend, work = tmp_path / "headend", tmp_path / "work"
    with portal.server:
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=work, headend=headend)
        rt = Runtime(load_settings(config))
        try:
            poll_source(rt, "notices")
            first = run_round(rt)
            assert first.version is not None and first.deliveries[0].status == "done"
            shutil.rmtree(work / "assets")
            # One item's pages can no longer be drawn as they were (its stored text differs now).
            with rt.store.write() as db:
                item = db.exec(select(Item).order_by(col(Item.id))).first()
                assert item is not None
                item.screened_body = json.dumps([{"kind": "p", "text": "改动后的正文，与播出的页面不同。"}], ensure_ascii=False)
                changed_id = item.id
            with rt.store.read() as db:  # the items' pages (menus stay: publish draws those again itself)
                shas = {pg.sha256 for pg in db.exec(select(Page).where(col(Page.owner).startswith("item:")))}
            for p in _page_files(headend):
                if p.stem in shas:
                    p.unlink()
            rep = verify(rt, "headend")
            assert not rep.ok and rep.repaired is not None and rep.repaired.status == "failed"
            problems = process_problems(rt)
            assert problems and "cannot be drawn again" in problems[0], problems
            with rt.store.read() as db:
                row = db.get(Item, changed_id)
                assert row is not None and row.state == ItemState.SCREENED and row.state_reason == REDRAW_REASON
            # The next round draws it anew and a new version goes out whole; the other items'
            # pages were drawn again as they were.
            again = run_round(rt, now_only_due=False)  # as `pusher push` does: the failed repair set a backoff
            assert again.rendered.items == 1 and again.version is not None
            assert again.deliveries[0].status == "done", again.deliveries[0].error
            check_headend(headend)
            assert len(manifest_items(headend)) == 3
            assert process_problems(rt) == []
            assert verify(rt, "headend").ok
        finally:
            rt.close()
