"""Issue 17 in the viewer: the focus frame on the tile it frames (not 16 px to its left), page
numbers typed on the digit keys of a long item, its contents page, the 第N/M页 bar and the
colour-key legend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from viewer_channel import ITEMS, Builder, It, base_spec, entry_rect, item_pages, menu, read_channel

from pusher.web.preview import serve_preview
from renderers.theme import BAND, BG

pytestmark = pytest.mark.browser

LONG = It("long", "news", "关于印发2026年重点工作任务分解方案的通知", paragraphs=3, sections=4)


@pytest.fixture
def long_served(tmp_path: Path, builder: Builder):
    folder = tmp_path / "headend"
    xml = builder.write(folder, base_spec().with_(items=[*ITEMS, LONG]))
    server, url = serve_preview(folder)
    yield url, xml
    server.close()


def _frame(t, scale: float = 1.0) -> list[int]:
    b = t.box("#focus")
    return [round(b[k] / scale) for k in ("x", "y", "width", "height")]


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (1000, 700)])
def test_focus_frame_sits_on_the_home_tile_at_any_window_size(served: str, headend: Path, tv, size: tuple[int, int]) -> None:
    """The frame is the tile's rectangle scaled as the page is: its edges on the tile's edges."""
    xml = read_channel(headend)
    t = tv(served, width=size[0], height=size[1])
    t.shown("home-1", focus="1")
    for n in (1, 2, 3):
        t.wait(focus=str(n))
        scr = t.box("#screen")
        s = scr["width"] / 1280
        x, y, w, h = entry_rect(xml, "home-1", n)
        b = t.box("#focus")
        assert abs(b["x"] - (scr["x"] + x * s)) <= 1 and abs(b["y"] - (scr["y"] + y * s)) <= 1
        assert abs(b["width"] - w * s) <= 1 and abs(b["height"] - h * s) <= 1
        t.press("ArrowDown")


def test_the_tile_edge_is_under_the_frame_not_inside_it(served: str, headend: Path, tv) -> None:
    """In the screenshot, the column just inside the frame's left border is tile, not background:
    the old frame started 16 px left of the tile and showed the tile's edge inside it."""
    xml = read_channel(headend)
    t = tv(served)
    t.shown("home-1", focus="1")
    x, y, _w, h = entry_rect(xml, "home-1", 1)
    px = np.asarray(Image.open(t.shot("hd-home-focus")).convert("RGB")).astype(int)
    inside = px[y + h // 2, x + 6]  # the 4-px border, then the frame's tint over the tile
    outside = px[y + h // 2, x - 4]
    assert np.abs(inside - np.array(BAND)).sum() < np.abs(inside - np.array(BG)).sum()
    assert np.abs(outside - np.array(BG)).sum() < 30


def test_column_entry_frames_keep_off_the_text(served: str, headend: Path, tv) -> None:
    xml = read_channel(headend)
    t = tv(served)
    t.shown("home-1")
    t.press("3")
    t.shown("col-news-1", focus="1")
    assert _frame(t) == list(entry_rect(xml, "col-news-1", 1))
    # Neighbouring entries' frames touch but do not overlap.
    a, b = entry_rect(xml, "col-news-1", 1), entry_rect(xml, "col-news-1", 2)
    assert a[1] + a[3] <= b[1]


def test_page_numbers_typed_on_a_long_item(long_served, tv) -> None:
    url, xml = long_served
    pages = item_pages(xml, "long")
    assert len(pages) >= 10, "the long item should need two digits"
    t = tv(url, query="digits=400")
    t.shown("home-1")
    t.press("3")
    t.shown("col-news-1")
    n = next(n for n, _, item in menu(xml, "col-news-1") if item == "long")
    t.press(str(n))
    t.shown("long-1", item="long", pageNumber=f"1/{len(pages)}")
    # Its first page is the contents: digits pick a section, as on a menu.
    sections = menu(xml, "long-1")
    assert len(sections) == 4 and all(to in pages for _, to, _ in sections)
    t.press("2")
    t.shown(sections[1][1])
    assert t.page.locator("#pager").inner_text() == f"第{pages.index(sections[1][1]) + 1}/{len(pages)}页"
    # On an article page, digits are a page number: two digits at once…
    t.press("1")
    t.wait(typed="1")
    assert "输入页码" in t.page.locator("#pager").inner_text()
    t.press("1")
    t.shown("long-11", pageNumber=f"11/{len(pages)}", typed="")
    # …one digit after the pause…
    t.press("4")
    t.shown("long-4", pageNumber=f"4/{len(pages)}")
    # …a page past the end goes nowhere and says so.
    t.press("9")
    t.press("9")
    t.wait(typed="")
    assert t.data()["page"] == "long-4" and "无第99页" in t.page.locator("#pager").inner_text()
    # Another key abandons a number half typed.
    t.press("1")
    t.wait(typed="1")
    t.press("ArrowRight")
    t.shown("long-5", typed="")
    t.shot("hd-long-item-page-5")


def test_legend_and_page_bar_under_item_pages_not_menus(served: str, tv) -> None:
    t = tv(served)
    t.shown("home-1")
    assert t.page.locator("#legend").is_hidden()  # the home page draws its own legend
    t.press("3")
    t.shown("col-news-1")
    assert t.page.locator("#legend").is_hidden()
    t.press("Enter")
    t.shown("w1-1", item="w1")
    bar = t.page.locator("#legend")
    assert bar.is_visible()
    text = bar.inner_text()
    # Each colour key says its colour in words beside the swatch; blue is bound to no column.
    assert "红 通知公告" in text and "绿 政策文件" in text and "黄 政务动态" in text and "蓝" not in text
    assert t.page.locator("#legend .key-red i").count() == 1
    pages = t.data()["pageNumber"].split("/")[1]
    assert f"第1/{pages}页" in text
    # The page shrinks above the bar: nothing of it is hidden behind.
    scr, leg = t.box("#screen"), t.box("#legend")
    assert scr["y"] + scr["height"] <= leg["y"] + 1
    t.shot("hd-item-legend")
