"""Issue 15, finding 6: ``pusher push`` killed with SIGKILL while it draws pages.

The dead process's render claims held for their lease (120 s), so a push run again at once
published 29–32 of 33 items. A push now takes back the claims of dead processes of its own host
before drawing, as the daemon does at start, and a version is never short of items silently.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import col, func, select

from feeds.channel import headend_manifest
from feeds.xmlsafe import parse_xml
from pusher.config.settings import load_settings
from pusher.demo import write_demo_config
from pusher.runtime import Runtime
from pusher.stages import poll_source, screen_items
from pusher.states import ON_AIR, ItemState
from pusher.store.models import Item
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"


def _count(rt: Runtime, *where: object) -> int:
    with rt.store.read() as db:
        return int(db.exec(select(func.count()).select_from(Item).where(*where)).one())  # type: ignore[arg-type]


def _on_air_in_manifest(headend: Path) -> int:
    return sum(1 for _ in parse_xml(headend_manifest(headend)).iter(f"{NS}item"))


def _screened_demo(portal: StaticServer, work: Path) -> tuple[Path, Runtime]:
    """The demo's configuration in ``work``, its portal polled and screened: ready to draw."""
    work.mkdir()
    config = write_demo_config(portal.url, work)
    rt = Runtime(load_settings(config))
    for s in rt.settings.sources:
        poll_source(rt, s.name)
    screen_items(rt)
    return config, rt


def test_push_killed_while_rendering_then_run_again_publishes_every_item(portal: StaticServer, tmp_path: Path) -> None:
    work = tmp_path / "work"
    config, rt = _screened_demo(portal, work)
    try:
        screened = _count(rt, col(Item.state) == ItemState.SCREENED)
        assert screened >= 30, screened

        proc = subprocess.Popen([sys.executable, "-m", "pusher", "push", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        holder = f"{socket.gethostname()}:{proc.pid}"
        deadline = time.monotonic() + 120
        # Kill it mid-render: some items drawn, a batch still claimed by it.
        while time.monotonic() < deadline and proc.poll() is None:
            if _count(rt, col(Item.state) == ItemState.RENDERED) >= 1 and _count(rt, col(Item.claimed_by) == holder) >= 1:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the push finished before it could be killed mid-render"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = _count(rt, col(Item.claimed_by) == holder)
        assert left >= 1, "nothing was left claimed by the killed push"
        assert _count(rt, col(Item.state) == ItemState.SCREENED) >= 1

        again = subprocess.run([sys.executable, "-m", "pusher", "push", "--config", str(config)], capture_output=True, text=True,
                               timeout=300)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert _count(rt, col(Item.claimed_by) != "") == 0
        assert _count(rt, col(Item.state) == ItemState.SCREENED) == 0
        on_air = _count(rt, col(Item.state).in_(list(ON_AIR)))
        assert on_air == screened
        assert _on_air_in_manifest(work / "headend") == screened, f"{left} items were claimed by the killed push"
    finally:
        rt.close()


def test_a_version_says_which_items_another_live_process_is_drawing(portal: StaticServer, tmp_path: Path) -> None:
    """A live holder keeps its claim (it will draw), but the push says the version waits for it."""
    work = tmp_path / "work"
    config, rt = _screened_demo(portal, work)
    try:
        with rt.store.write() as db:
            first = db.exec(select(Item).where(col(Item.state) == ItemState.SCREENED).order_by(col(Item.id))).first()
            assert first is not None
            # This test process is the live holder: its pid exists, on this host.
            first.claimed_by = f"{socket.gethostname()}:{os.getpid()}"
            from pusher.timeutil import utcnow

            first.claimed_until = utcnow().replace(year=utcnow().year + 1)
        res = subprocess.run([sys.executable, "-m", "pusher", "push", "--config", str(config)], capture_output=True, text=True,
                             timeout=300)  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert "1 screened items are being drawn by another process" in res.stderr
        assert _count(rt, col(Item.state) == ItemState.SCREENED) == 1
    finally:
        rt.close()
