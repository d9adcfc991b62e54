"""A set-top box starting up on a channel of many parts: time to the home page and to every part.

Writes a channel of N items in one column (format 3: a part per menu page and per item under a
tree of fanout 5; tests/viewer/viewer_channel.py's Builder, a few distinct titles so that the
renderer draws few item pages), serves it with ``pusher.web.preview`` on loopback and opens the
viewer in headless Debian Chromium, a fresh browser context (empty cache) per run. Prints, per
setting of the viewer's ``?inflight=`` (parts requested at a time), the median over the rounds
of: time from navigation start to the home page on screen (``data-shown``), to every part in
(``data-status=ok``), and the parts fetched. ``--rev`` adds the viewer of a git revision (e.g.
the one before the parallel loader) in the same run, for a before/after on the same load.

    python bench/viewer_startup_bench.py --items 500 --rounds 3 --rev ec5a349
    python bench/viewer_startup_bench.py --items 3000 --inflight 1,6
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "viewer")]

from viewer_channel import COLUMNS, Builder, It, Spec  # noqa: E402

import pusher.web.preview as preview  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TITLES = ["关于2026年冬季森林防火工作的通告", "关于开展冬季安全生产大检查的通知", "市政府召开第十二次常务会议", "我市举行秋季消防应急演练"]


def write_channel(folder: Path, n: int) -> int:
    """N one-page items in the first column (the others empty); returns the parts written."""
    items = [It(f"i{k}", COLUMNS[0].id, TITLES[k % len(TITLES)], paragraphs=1) for k in range(n)]
    Builder("hd").write(folder, Spec(version=1, columns=list(COLUMNS), items=items))
    return len(list((folder / "assets").glob("*.xml")))


def viewer_at(rev: str, into: Path) -> Path:
    """The viewer's files as they were at a git revision."""
    into.mkdir(parents=True)
    for name in ("index.html", "viewer.js", "viewer.css"):
        data = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:pusher/web/viewer/{name}"], check=True, capture_output=True).stdout
        (into / name).write_bytes(data)
    return into


WATCH = """
document.addEventListener("DOMContentLoaded", function () {
  var b = document.body;
  function check() {
    if (!window.__home && b.dataset.shown && b.dataset.shown === b.dataset.page) window.__home = performance.now();
    if (!window.__whole && b.dataset.status === "ok") window.__whole = performance.now();
  }
  check();
  new MutationObserver(check).observe(b, { attributes: true });
});
"""


def start(browser: Any, url: str, query: str) -> tuple[float, float, int, float, int]:
    """(ms to home shown, ms to every part, parts fetched) for one fresh box, then (ms to every
    part, parts asked of the network) for the same box rebooted (reloaded: its HTTP cache and
    localStorage kept)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    fetched = [0]

    def count(r: Any) -> None:
        if r.url.endswith(".xml") and "/assets/" in r.url and not r.url.endswith("/channel.xml"):
            fetched[0] += 1

    page.on("request", count)
    # The times are taken in the page, by an observer of the viewer's data attributes: polling
    # from here every few ms cost the box's CPU as much as the parts did.
    page.add_init_script(WATCH)
    page.goto(f"{url}?poll=600000{query}", wait_until="commit")
    page.wait_for_function("() => window.__whole", polling=50, timeout=180_000)
    home, whole = page.evaluate("() => [window.__home, window.__whole]")
    first = fetched[0]
    page.reload(wait_until="commit")
    page.wait_for_function("() => window.__whole", polling=50, timeout=180_000)
    again = page.evaluate("() => window.__whole")
    ctx.close()
    return float(home), float(whole), first, float(again), fetched[0] - first


def load() -> str:
    return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--inflight", default="1,4,6,8", help="settings of ?inflight= to compare")
    ap.add_argument("--rev", default="", help="also run the viewer of this git revision (before)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "headend"
        t = time.perf_counter()
        n_parts = write_channel(folder, args.items)
        print(f"{args.items} items in one column: {n_parts} parts (written in {time.perf_counter() - t:.0f} s)")
        print(load())
        settings = [k for k in args.inflight.split(",") if k]
        viewers: list[tuple[str, Path, str]] = [(f"inflight={k}", preview.VIEWER_DIR, f"&inflight={k}") for k in settings]
        viewers.append(("inflight=6 store=0", preview.VIEWER_DIR, "&inflight=6&store=0"))
        if args.rev:
            viewers.insert(0, (f"viewer@{args.rev}", viewer_at(args.rev, Path(tmp) / "old"), ""))
        server, url = preview.serve_preview(folder)
        results: dict[str, list[tuple[float, float, int, float, int]]] = {name: [] for name, _, _ in viewers}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                start(browser, url, "")  # warm up the browser and the server
                # Rounds interleave the settings, so a change of load falls on all of them alike.
                for _ in range(args.rounds):
                    for name, where, query in viewers:
                        preview.VIEWER_DIR = where  # read on each request
                        results[name].append(start(browser, url, query))
                browser.close()
        finally:
            server.close()
        print(f"{'viewer':<22}{'home ms':>9}{'all ms':>9}{'GETs':>7}{'reload all ms':>15}{'GETs':>7}   (median of {args.rounds})")
        for name, rows in results.items():
            med = [statistics.median(r[k] for r in rows) for k in range(5)]
            print(f"{name:<22}{med[0]:>9.0f}{med[1]:>9.0f}{med[2]:>7.0f}{med[3]:>15.0f}{med[4]:>7.0f}")
        print(load())


if __name__ == "__main__":
    main()
