"""Browsing the fixture channel with remote-control keys in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_channel import entry_rect, href_of, item_pages, read_channel

pytestmark = pytest.mark.browser


def test_opens_on_home_with_first_entry_focused(served: str, headend: Path, tv) -> None:
    t = tv(served)
    d = t.shown("home-1", focus="1", version="1", status="ok")
    assert d["item"] == "" and d["column"] == ""
    xml = read_channel(headend)
    assert t.src() == href_of(xml, "home-1")
    # The focus box is the first entry's rectangle exactly (the renderer leaves the air inside it).
    x, y, w, h = entry_rect(xml, "home-1", 1)
    b = t.box("#focus")
    assert [round(b[k]) for k in ("x", "y", "width", "height")] == [x, y, w, h]
    assert t.page.locator("#ticker").is_hidden()
    t.shot("hd-home")


def test_digit_arrows_ok_pages_back_and_colour_keys(served: str, headend: Path, tv) -> None:
    xml = read_channel(headend)
    t = tv(served)
    t.shown("home-1")
    t.press("2")  # digit: the second column
    t.shown("col-policy-1", column="policy", focus="1")
    t.press("Backspace")  # back home, focus on where we came from
    t.shown("home-1", focus="2")
    t.press("ArrowDown")
    t.wait(focus="3")
    t.press("ArrowDown")  # already at the last entry: stays
    t.wait(focus="3")
    t.press("ArrowUp")
    t.press("ArrowUp")
    t.wait(focus="1")
    t.press("ArrowDown")
    t.press("ArrowDown")
    t.press("Enter")  # arrows + OK: the third column
    t.shown("col-news-1", column="news", focus="1")
    t.press("ArrowDown")
    t.wait(focus="2")
    t.shot("hd-column-focus-2")
    t.press("Enter")
    t.shown("w2-1", item="w2", column="news")
    assert t.src() == href_of(xml, "w2-1")
    assert t.page.locator("#focus").is_hidden()
    t.press("ArrowRight")  # page turn
    t.shown("w2-2")
    assert t.src() == href_of(xml, "w2-2")
    t.shot("hd-item-page-2")
    pages = item_pages(xml, "w2")
    for pid in pages[2:]:
        t.press("ArrowRight")
        t.shown(pid)
    t.press("ArrowRight")  # the last page has no RIGHT key: nothing happens
    t.press("ArrowLeft")
    t.shown(pages[-2])
    t.press("ArrowRight")
    t.shown(pages[-1])
    t.press("Escape")  # BACK: the column menu, focus on the item we read
    t.shown("col-news-1", focus="2")
    t.press("r")  # colour keys: the column bound to red, then green
    t.shown("col-notices-1", column="notices")
    t.press("g")
    t.shown("col-policy-1", column="policy")
    t.press("b")  # no column has blue: nothing happens
    t.press("PageUp")  # channel +: the next column
    t.shown("col-news-1")
    t.press("PageUp")
    t.shown("col-notices-1")
    t.press("PageDown")
    t.shown("col-news-1")
    t.press("3")  # digit beyond the menu: nothing happens
    t.press("1")
    t.shown("w1-1", item="w1")


def test_hbbtv_colour_key_codes(served: str, tv) -> None:
    t = tv(served)
    t.shown("home-1")
    t.press_code(405)  # VK_YELLOW
    t.shown("col-news-1")
    t.press_code(403)  # VK_RED
    t.shown("col-notices-1")
    t.press_code(404)  # VK_GREEN
    t.shown("col-policy-1")
    t.press_code(461)  # VK_BACK
    t.shown("home-1", focus="2")


def test_long_menu_focus_runs_across_its_pages(tmp_path: Path, builder, tv) -> None:
    from viewer_channel import It, base_spec, menu

    from pusher.web.preview import serve_preview

    spec = base_spec()
    spec.items = [It(f"x{n}", "news", f"第{n}条政务动态：全市重点项目建设进展情况通报", paragraphs=0) for n in range(1, 15)]
    folder = tmp_path / "long"
    xml = builder.write(folder, spec)
    first, second = menu(xml, "col-news-1"), menu(xml, "col-news-2")
    assert len(first) >= 3 and second, "the menu should need two pages"
    server, url = serve_preview(folder)
    try:
        t = tv(url)
        t.shown("home-1")
        t.press("3")
        t.shown("col-news-1", focus="1")
        for _ in first[1:]:
            t.press("ArrowDown")
        t.wait(focus=str(first[-1][0]))
        t.press("ArrowDown")  # past the last entry: the next menu page, first entry
        t.shown("col-news-2", focus=str(second[0][0]))
        t.press("ArrowUp")  # and back: the last entry of the previous page
        t.shown("col-news-1", focus=str(first[-1][0]))
        t.press("ArrowUp")
        t.wait(focus=str(first[-2][0]))
        t.press("ArrowRight")  # page turn in a menu
        t.shown("col-news-2", focus=str(second[0][0]))
        t.shot("hd-long-menu-page-2")
        number, to, item = second[1] if len(second) > 1 else second[0]
        t.press(str(number))  # digits count on the page on screen
        t.shown(to, item=item)
        t.press("Backspace")
        t.shown("col-news-2", focus=str(number))
    finally:
        server.close()


def test_info_key_opens_alert_pages(served: str, headend: Path, builder, tv) -> None:
    from viewer_channel import Alert, base_spec

    spec = base_spec(2)
    spec.alerts = [
        Alert("a1", "寒潮蓝色预警：明日最低气温零下三度", "warning", page=True),
        Alert("a2", "今晚道路临时管制"),
        Alert("a3", "停水通知", page=True),
    ]
    t = tv(served)
    t.shown("home-1")
    t.press("i")  # no alerts yet: nothing happens
    builder.write(headend, spec)
    t.wait(version="2")
    assert "［信息键 查看详情］" in (t.page.locator("#ticker-text").text_content() or "")
    t.press("1")
    t.shown("col-notices-1")
    t.press("i")
    t.shown("alert-a1-1")
    t.shot("hd-alert-page")
    t.press("i")  # the next alert with a page
    t.shown("alert-a3-1")
    t.press_code(457)  # VK_INFO: round again
    t.shown("alert-a1-1")
    t.press("Backspace")
    t.shown("home-1")
