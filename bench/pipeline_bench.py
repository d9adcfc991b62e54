"""Pipeline benchmark: one full round (poll → screen → render → publish → deliver) over a
generated portal of N items served on loopback, time per stage, and a second (idle) round.

Baseline in the same run: plain sequential httpx GETs of the same list and detail pages, the
floor any poller pays for the network.

    python bench/pipeline_bench.py [--items 200] [--status]

``--status`` prints what ``pusher status`` shows an operator for the channel the round built.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config, write_config
from pusher.runtime import Runtime
from pusher.stages import deliver, poll_source, publish, render_items, screen_items
from pusher.web.httpserve import StaticServer

TEMPLATE = "art/2026/11/20/art_1001_5101.html"


def make_portal(root: Path, n: int) -> list[str]:
    """The sample portal plus n generated notices in column 1001."""
    shutil.copytree(PORTAL, root)
    html = (root / TEMPLATE).read_text(encoding="utf-8")
    lis = []
    urls = []
    for i in range(n):
        title = f"关于2026年冬季森林防火工作的第{i + 1}号通告"
        path = f"art/2026/11/20/art_1001_{700000 + i}.html"
        (root / path).write_text(html.replace("关于2026年冬季森林防火工作的通告", title).replace("5101", str(700000 + i)), encoding="utf-8")
        lis.append(f'<li><a href="/{path}" title="{title}">{title}</a><span>2026-11-20</span></li>')
        urls.append("/" + path)
    listing = root / "col/col1001/index.html"
    text = listing.read_text(encoding="utf-8")
    listing.write_text(text.replace('<ul class="xxgk-list">\n', '<ul class="xxgk-list">\n' + "\n".join(lis) + "\n"), encoding="utf-8")
    return urls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--status", action="store_true", help="print `pusher status` of the channel after the rounds")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tvp-bench-"))
    urls = make_portal(tmp / "portal", args.items)
    with StaticServer(tmp / "portal") as srv:
        cfg = demo_config(srv.url, tmp / "work")
        cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
        cfg["sources"][0]["options"]["max_items"] = args.items + 50
        rt = Runtime(parse_settings(cfg, tmp))
        t0 = time.perf_counter()
        with httpx.Client() as c:
            c.get(srv.url + "/col/col1001/index.html")
            for u in urls:
                c.get(srv.url + u)
        baseline = time.perf_counter() - t0
        times: dict[str, float] = {}
        for name, fn in (
            ("poll", lambda: poll_source(rt, "notices")),
            ("screen", lambda: screen_items(rt, limit=100000)),
            ("render", lambda: render_items(rt, limit=100000)),
            ("publish", lambda: publish(rt)),
            ("deliver", lambda: deliver(rt)),
        ):
            t = time.perf_counter()
            result = fn()
            times[name] = time.perf_counter() - t
            print(f"{name:8s} {times[name]:7.2f} s   {result!r:.100}")
        total = sum(times.values())
        # Each stage of the idle round timed, so that what still scales with the items shows.
        idle_ms: dict[str, float] = {}
        for name, fn in (
            ("poll", lambda: poll_source(rt, "notices")),
            ("screen", lambda: screen_items(rt)),
            ("render", lambda: render_items(rt)),
            ("publish", lambda: publish(rt)),
        ):
            t = time.perf_counter()
            idle_publish = fn()
            idle_ms[name] = (time.perf_counter() - t) * 1000
        idle = sum(idle_ms.values()) / 1000
        rt.close()
        if args.status:
            conf = write_config(cfg, tmp / "work" / "tvpusher.toml")
            cmd = [sys.executable, "-m", "pusher", "status", "--config", str(conf)]
            print(subprocess.run(cmd, capture_output=True, text=True, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"}).stdout)
    n = args.items + 6
    print(f"\nitems {n}; full round {total:.2f} s = {n / total:.1f} items/s")
    print(f"poll {times['poll']:.2f} s vs plain sequential GETs of the same pages {baseline:.2f} s (ratio {times['poll'] / baseline:.2f})")
    print(f"idle round (portal unchanged): {idle * 1000:.0f} ms, new channel version: {idle_publish is not None}")
    print("idle round by stage: " + ", ".join(f"{k} {v:.0f} ms" for k, v in idle_ms.items()))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
