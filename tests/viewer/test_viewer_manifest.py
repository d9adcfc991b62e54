"""The viewer and a changing, hostile or broken channel.xml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from viewer_channel import Alert, Builder, It, base_spec, href_of, read_channel, write_atomic

pytestmark = pytest.mark.browser


def _open_n2_page2(t) -> None:
    t.shown("home-1")
    t.press("1")
    t.shown("col-notices-1")
    t.press("2")
    t.shown("n2-1")
    t.press("ArrowRight")
    t.shown("n2-2", item="n2")


def test_item_updated_while_viewing_stays_on_its_page(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    _open_n2_page2(t)
    old_src = t.src()
    spec = base_spec(2)
    spec.items[1] = It("n2", "notices", spec.items[1].title, version=2, seed="（更新）")
    xml = builder.write(headend, spec)
    # No help from the test: the viewer's own poll picks the new version up.
    d = t.shown("n2-2", version="2", item="n2")
    assert d["status"] == "ok"
    assert t.src() == href_of(xml, "n2-2") != old_src
    t.shot("hd-item-updated")


def test_item_updated_to_fewer_pages_lands_on_its_last_page(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    _open_n2_page2(t)
    spec = base_spec(2)
    spec.items[1] = It("n2", "notices", spec.items[1].title, paragraphs=0, version=2)
    xml = builder.write(headend, spec)
    assert b'id="n2-2"' not in xml
    t.shown("n2-1", version="2")
    assert t.src() == href_of(xml, "n2-1")


def test_item_withdrawn_while_viewing_returns_to_its_column(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    _open_n2_page2(t)
    spec = base_spec(2)
    del spec.items[1]
    xml = builder.write(headend, spec)
    t.shown("col-notices-1", version="2", item="", column="notices", focus="1")
    assert t.src() == href_of(xml, "col-notices-1")
    t.press("2")  # the menu now lists n1, n3
    t.shown("n3-1")


def test_column_removed_while_viewing_returns_home(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    t.shown("home-1")
    t.press("3")
    t.shown("col-news-1")
    spec = base_spec(2)
    spec.columns = spec.columns[:2]
    spec.items = [it for it in spec.items if it.column != "news"]
    builder.write(headend, spec)
    t.shown("home-1", version="2")


def test_markup_in_manifest_text_stays_text(served: str, headend: Path, builder: Builder, tv) -> None:
    evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    spec = base_spec(1)
    spec.name = "永康政务" + evil
    spec.items[0] = It("n1", "notices", "通知" + evil)
    spec.alerts = [Alert("a1", "预警" + evil)]
    xml = builder.write(headend, spec)
    assert b"&lt;script&gt;" in xml  # the manifest carries it escaped, as text
    t = tv(served)
    t.shown("home-1")
    t.press("1")
    t.shown("col-notices-1")
    t.press("1")
    t.shown("n1-1")
    page = t.page
    assert page.evaluate("() => window.__pwned") is None
    assert page.get_attribute("#page", "alt") == "通知" + evil
    assert page.locator("#ticker-text").text_content() == "预警" + evil
    assert page.title() == "永康政务" + evil
    assert page.evaluate("() => document.querySelectorAll('script').length") == 1  # viewer.js only
    assert page.evaluate("() => document.querySelectorAll('img').length") == 1
    t.shot("hd-script-title")


def test_broken_manifest_keeps_last_good_one(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    t.shown("home-1")
    t.press("1")
    t.shown("col-notices-1")
    src = t.src()
    good = read_channel(headend)
    for broken in (
        good[: len(good) // 2],  # truncated
        b"<html><body>502 Bad Gateway</body></html>",  # not a channel
        re.sub(rb'version="1"', b'version="2"', good, count=1).replace(b"<home>", b"<home><page/>", 1)[:-20],
        good.replace(b'version="1" generated', b"generated", 1),  # no version
    ):
        write_atomic(headend / "channel.xml", broken)
        t.wait(status="error-manifest")
        assert t.page.locator("#status").is_visible()
        assert t.page.locator("#status").text_content() == "频道数据有误，继续显示上一版"
        d = t.data()
        assert (d["shown"], d["version"]) == ("col-notices-1", "1")
        assert t.src() == src
    t.shot("hd-broken-manifest")
    t.press("2")  # the last good channel still works
    t.shown("n2-1")
    builder.write(headend, base_spec(3))
    t.shown("n2-1", version="3", status="ok")
    assert t.page.locator("#status").is_hidden()


def test_missing_manifest_then_first_one(tmp_path: Path, builder: Builder, tv) -> None:
    from pusher.web.preview import serve_preview

    folder = tmp_path / "empty"
    folder.mkdir()
    server, url = serve_preview(folder)
    try:
        t = tv(url)
        t.wait(status="error-fetch")
        assert t.page.locator("#status").text_content() == "正在等待频道数据…"
        builder.write(folder, base_spec(5))
        t.shown("home-1", version="5", status="ok")
    finally:
        server.close()


def test_unknown_elements_and_attributes_are_ignored(served: str, headend: Path, builder: Builder, tv) -> None:
    spec = base_spec(1)
    spec.unknown = True
    xml = builder.write(headend, spec)  # valid: xs:any from another namespace
    # Beyond the schema, as a later version might write: unknown elements inside a page,
    # unknown key codes, a page whose href is outside assets/ (must never be loaded).
    xml = xml.replace(
        b'<key code="BACK"', b'<future:hint xmlns:future="urn:example:future">x</future:hint><key code="MENU" to="home-1"/><key code="BACK"'
    )
    xml = xml.replace(
        b"<items>",
        b'<items><item id="bad" column="news" version="1"><title>x</title><url>http://x/</url>'
        b'<page id="bad-1" href="http://evil.example/a.png" sha256="00" bytes="1" width="1" height="1"/></item>',
        1,
    )
    write_atomic(headend / "channel.xml", xml)
    requests: list[str] = []
    t = tv(served)
    t.page.on("request", lambda r: requests.append(r.url))
    t.shown("home-1", status="ok")
    t.press("1")
    t.shown("col-notices-1")
    t.press("Backspace")
    t.shown("home-1")
    assert t.page.evaluate("() => Object.keys(window.tvViewer.state.m.items).sort().join()") == "n1,n2,n3,p1,p2,w1,w2"
    assert not [u for u in requests if "evil" in u]


def test_alert_ticker_comes_and_goes(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    t.shown("home-1")
    assert t.page.locator("#ticker").is_hidden()
    spec = base_spec(2)
    spec.alerts = [
        Alert("a1", "寒潮蓝色预警：明日最低气温零下三度，请注意防寒保暖", "warning"),
        Alert("a2", "今晚八点起部分路段临时交通管制"),
    ]
    builder.write(headend, spec)
    t.wait(version="2")
    ticker = t.page.locator("#ticker")
    assert ticker.is_visible()
    assert ticker.get_attribute("class") == "urgent"
    text = t.page.locator("#ticker-text").text_content() or ""
    assert "寒潮蓝色预警" in text and "交通管制" in text
    b = t.box("#ticker")
    assert b["y"] + b["height"] == 720 and b["width"] == 1280
    # The page shrinks above the ticker (an L-bar): nothing of it is hidden, aspect kept.
    p = t.box("#page")
    assert p["y"] + p["height"] <= b["y"] + 1 and abs(p["width"] / p["height"] - 16 / 9) < 0.01
    assert p["height"] >= 0.85 * 720
    t.shot("hd-alert-ticker")
    builder.write(headend, base_spec(3))
    t.wait(version="3")
    assert ticker.is_hidden()
    assert (t.box("#page")["width"], t.box("#page")["height"]) == (1280, 720)


def test_missing_page_image_keeps_the_screen_and_recovers(served: str, headend: Path, tv) -> None:
    xml = read_channel(headend)
    asset = headend / href_of(xml, "n1-2")
    hidden = asset.with_name("moved.png")
    t = tv(served, query="preload=0")  # a preloaded image would hide the hole
    t.shown("home-1")
    t.press("1")
    t.shown("col-notices-1")
    t.press("1")
    t.shown("n1-1")
    asset.rename(hidden)
    t.press("ArrowRight")
    d = t.wait(status="error-image")
    assert (d["page"], d["shown"]) == ("n1-1", "n1-1")
    assert t.page.locator("#status").text_content() == "页面图片缺失"
    hidden.rename(asset)
    t.press("ArrowRight")  # from the page on screen, again
    t.shown("n1-2", status="ok")
    assert t.page.locator("#status").is_hidden()
