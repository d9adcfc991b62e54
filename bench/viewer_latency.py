"""Key press → new page painted in the reference viewer, with and without preloading.

Serves a headend folder with ``pusher.web.preview`` on loopback, drives the viewer in headless
Debian Chromium along a browsing path taken from the manifest (home → column by digit → items →
every page turn → back), and prints p50/p95 of the viewer's own measurement (keydown event
time → the task right after the frame that shows the new image). The baseline is the same path
with ``?preload=0``, where each page is fetched and decoded after the key press.

    python bench/viewer_latency.py                  # a fixture channel rendered for the run
    python bench/viewer_latency.py --dir var/demo/headend --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "viewer")]

from viewer_channel import browse_plan  # noqa: E402

from pusher.web.preview import serve_preview  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def run(browser, url: str, keys: list[str], query: str, rtt: float) -> tuple[list[float], list[float]]:
    """All samples, and those of pages seen for the first time in this browser context."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    if rtt:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": rtt, "downloadThroughput": -1, "uploadThroughput": -1})
    page.goto(f"{url}?poll=60000{query}")
    page.wait_for_function("() => document.body.dataset.shown === document.body.dataset.page && document.body.dataset.page !== ''")
    start = page.evaluate("() => document.body.dataset.page")
    for k in keys:
        page.wait_for_function("() => window.tvViewer.pending() === 0")
        n = page.evaluate("() => window.tvViewer.latencies().length")
        page.keyboard.press(k)
        page.wait_for_function("n => window.tvViewer.latencies().length === n", arg=n + 1, timeout=10000)
    samples = page.evaluate("() => window.tvViewer.state.latencies")
    seen = {start}
    first = []
    for s in samples:
        if s["page"] not in seen:
            first.append(s["ms"])
            seen.add(s["page"])
    ctx.close()
    return [s["ms"] for s in samples], first


def summary(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 2 else ms[0]
    return f"n={len(ms)} p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {max(ms):6.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="headend folder (channel.xml + assets/); default: render a fixture channel")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--items", type=int, default=3, help="items opened per column")
    ap.add_argument("--rtt", type=float, default=0, help="emulated round trip to the headend, ms (0: plain loopback)")
    a = ap.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = a.dir
        if folder is None:
            from viewer_channel import Builder, base_spec  # the renderer loads only when needed

            folder = Path(tmp) / "headend"
            Builder("hd").write(folder, base_spec())
        keys = browse_plan((folder / "channel.xml").read_bytes(), a.items) * a.rounds
        server, url = serve_preview(folder)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                print(f"chromium {browser.version}, {len(keys)} key presses, rtt {a.rtt:g} ms, folder {folder}")
                pre, pre_first = run(browser, url, keys, "", a.rtt)
                base, base_first = run(browser, url, keys, "&preload=0", a.rtt)
                browser.close()
        finally:
            server.close()
    print(f"with preloading    all presses   {summary(pre)}")
    print(f"                   first visits  {summary(pre_first)}")
    print(f"without (baseline) all presses   {summary(base)}")
    print(f"                   first visits  {summary(base_first)}")
    ratio = statistics.median(pre_first) / statistics.median(base_first)
    print(f"ratio preloaded/baseline, first visits p50: {ratio:.2f}")


if __name__ == "__main__":
    main()
