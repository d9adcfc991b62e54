"""Screen fit (HD and SD boxes) and key-to-paint latency, in headless Chromium."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from viewer_channel import COLUMNS, ITEMS, Builder, Spec, entry_rect, read_channel

from pusher.web.preview import serve_preview

pytestmark = pytest.mark.browser


def _rect(b: dict[str, float]) -> tuple[int, int, int, int]:
    return round(b["x"]), round(b["y"]), round(b["width"]), round(b["height"])


def test_hd_channel_fills_hd_screen_and_letterboxes_on_sd(served: str, headend: Path, tv) -> None:
    hd = tv(served)
    hd.shown("home-1")
    assert _rect(hd.box("#page")) == (0, 0, 1280, 720)
    sd = tv(served, width=720, height=576)
    sd.shown("home-1")
    # 1280×720 scaled by 0.5625 into 720×576: 720×405, centred vertically.
    x, y, w, h = _rect(sd.box("#page"))
    assert (x, w, h) == (0, 720, 405) and y in (85, 86)
    _, ey, _, eh = entry_rect(read_channel(headend), "home-1", 1)
    f = sd.box("#focus")
    assert abs(f["y"] - (y + ey * 0.5625)) < 1.5 and abs(f["height"] - eh * 0.5625) < 1.5
    sd.press("1")
    sd.shown("col-notices-1")
    sd.shot("sd-screen-hd-channel")


def test_sd_channel_fills_sd_screen(tmp_path: Path, tv) -> None:
    folder = tmp_path / "sd"
    Builder("sd").write(folder, Spec(1, COLUMNS[:2], [i for i in ITEMS if i.column != "news"][:3]))
    server, url = serve_preview(folder)
    try:
        t = tv(url, width=720, height=576)
        t.shown("home-1")
        assert _rect(t.box("#page")) == (0, 0, 720, 576)
        t.press("1")
        t.shown("col-notices-1")
        t.press("Enter")
        t.shown("n1-1")
        t.press("ArrowRight")
        t.shown("n1-2")
        t.shot("sd-screen-sd-item-page-2")
    finally:
        server.close()


def page_turn_latencies(t, rounds: int) -> list[float]:
    """Key press → new page painted, as the viewer measures it, over a fixed browsing path."""
    t.shown("home-1")
    t.page.evaluate("() => { window.tvViewer.state.latencies.length = 0; }")

    def press(key: str, page: str) -> None:
        # A viewer is slower than a test: let the preloads of the page on screen finish.
        t.page.wait_for_function("() => window.tvViewer.pending() === 0", timeout=5000)
        before = t.page.evaluate("() => window.tvViewer.latencies().length")
        t.press(key)
        t.shown(page)
        t.page.wait_for_function("n => window.tvViewer.latencies().length === n", arg=before + 1, timeout=5000)

    for _ in range(rounds):
        press("1", "col-notices-1")
        for n, item in enumerate(("n1", "n2", "n3"), 1):
            press(str(n), f"{item}-1")
            press("ArrowRight", f"{item}-2")
            press("ArrowLeft", f"{item}-1")
            press("ArrowRight", f"{item}-2")
            press("Backspace", "col-notices-1")
        press("g", "col-policy-1")
        press("Backspace", "home-1")
    return list(t.page.evaluate("() => window.tvViewer.latencies()"))


def test_key_to_paint_latency_with_preloading(served: str, tv) -> None:
    t = tv(served)
    ms = page_turn_latencies(t, rounds=2)
    assert len(ms) == 2 * 18
    p50 = statistics.median(ms)
    p95 = statistics.quantiles(ms, n=20)[-1]
    print(f"\nviewer key-to-paint with preloading, loopback, n={len(ms)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(ms):.1f} ms")
    # Target ≤ 100 ms; the margin absorbs a loaded CI machine, not a missing preload.
    assert p50 <= 100
    assert p95 <= 200
