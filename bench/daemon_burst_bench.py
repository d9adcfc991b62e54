"""Daemon burst benchmark: how long ``pusher run`` takes to put a backlog of N new items on air.

A county's first start (or a portal that publishes a year's archive at once) is a burst: every
item is new. Here ``pusher run`` is started on ``pipeline_bench``'s generated portal of N
notices served on loopback, with the daemon's own defaults for its jobs; the clock runs from the
start of the process to the moment the headend folder's delivered channel version holds every
item, read from the channel's store. Printed: that time, the versions published on the way, and
the same-run baseline, ``pipeline_bench``'s full round (poll → screen → render → publish →
deliver, each stage called once with no limit) over the same portal.

    python bench/daemon_burst_bench.py [--items 3000] [--timeout 1800] [--no-round]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline_bench import make_portal

from pusher.config.settings import parse_settings
from pusher.demo import demo_config, write_config
from pusher.runtime import Runtime
from pusher.stages import deliver, poll_source, publish, render_items, screen_items
from pusher.web.httpserve import StaticServer


def config(url: str, work: Path, items: int) -> dict:  # type: ignore[type-arg]
    cfg = demo_config(url, work)
    cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
    cfg["sources"][0]["options"]["max_items"] = items + 50
    return cfg


def on_air(db: Path) -> tuple[int, int]:
    """(items in the newest version delivered to every target, versions published)."""
    if not db.exists():
        return 0, 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        try:
            versions = c.execute("SELECT count(*) FROM channel_version").fetchone()[0]
            row = c.execute(
                "SELECT v.items FROM channel_version v JOIN delivery d ON d.channel_version = v.version"
                " WHERE d.state = 'done' ORDER BY v.version DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:  # the daemon is still creating its tables
            return 0, 0
    return (row[0] if row else 0), versions


def daemon_burst(tmp: Path, url: str, items: int, timeout: float) -> tuple[float, int, int]:
    work = tmp / "daemon"
    cfg = config(url, work, items)
    conf = write_config(cfg, tmp / "daemon.toml")
    db = work / "tvpusher.db"
    env = {**os.environ, "PUSHER_CONFIG": str(conf)}
    log = (tmp / "daemon.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pusher", "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
    want = items + 1  # the sample portal's own notice is in the column too
    got, versions = 0, 0
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            got, versions = on_air(db)
            if got >= want:
                break
            time.sleep(0.5)
        took = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    if got < want:
        sys.exit(f"the daemon had {got} of {want} items on air after {took:.0f} s; see {tmp / 'daemon.log'}")
    return took, got, versions


def full_round(tmp: Path, url: str, items: int) -> float:
    rt = Runtime(parse_settings(config(url, tmp / "round", items), tmp))
    t0 = time.perf_counter()
    poll_source(rt, "notices")
    screen_items(rt, limit=10**6)
    render_items(rt, limit=10**6)
    publish(rt)
    deliver(rt)
    took = time.perf_counter() - t0
    rt.close()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-round", action="store_true", help="skip the same-run baseline")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tvp-burst-"))
    make_portal(tmp / "portal", args.items)
    with StaticServer(tmp / "portal") as srv:
        took, got, versions = daemon_burst(tmp, srv.url, args.items, args.timeout)
        print(f"pusher run: {got} items on air in {took:.1f} s ({got / took:.1f} items/s), {versions} channel versions published")
        if not args.no_round:
            base = full_round(tmp, srv.url, args.items)
            print(f"baseline, one full round of the stages in this process: {base:.1f} s; the daemon took {took / base:.2f}× as long")


if __name__ == "__main__":
    main()
