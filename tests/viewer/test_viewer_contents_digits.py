"""Page numbers typed on a long item's contents page (issue 17): one digit is the section the page
labels with it, two digits a page number, as on the item's other pages; a page past the end says
so and stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_channel import ITEMS, Builder, It, base_spec, item_pages, menu

from pusher.web.preview import serve_preview

pytestmark = pytest.mark.browser

LONG = It("long", "news", "关于印发2026年重点工作任务分解方案的通知", paragraphs=3, sections=4)


@pytest.fixture
def long_served(tmp_path: Path, builder: Builder):
    folder = tmp_path / "headend"
    xml = builder.write(folder, base_spec().with_(items=[*ITEMS, LONG]))
    server, url = serve_preview(folder)
    yield url, xml
    server.close()


def test_digits_on_the_contents_page_pick_a_section_or_a_page(long_served, tv) -> None:
    url, xml = long_served
    pages = item_pages(xml, "long")
    assert len(pages) >= 10, "the long item should need two digits"
    t = tv(url, query="digits=1500")  # long enough that a loaded machine reads the half-typed state
    t.shown("home-1")
    t.press("3")
    t.shown("col-news-1")
    n = next(n for n, _, item in menu(xml, "col-news-1") if item == "long")
    t.press(str(n))
    contents = pages[0]
    t.shown(contents, item="long")
    sections = menu(xml, contents)
    assert len(sections) == 4
    # Two digits at once: a page number, even on the contents page.
    t.press("1")
    t.wait(typed="1")
    assert "输入页码" in t.page.locator("#pager").inner_text()
    t.press("0")
    t.shown(pages[9], pageNumber=f"10/{len(pages)}", typed="")
    # Back on the contents (page 1, typed on the article page), one digit after the pause is the
    # section it labels there.
    t.press("1")
    t.wait(typed="1")
    t.shown(contents)
    t.press("1")
    t.shown(sections[0][1], typed="")
    assert pages.index(sections[0][1]) >= 1
    # A page past the end goes nowhere and says so.
    t.press("9")
    t.press("9")
    t.wait(typed="")
    assert t.data()["page"] == sections[0][1] and "无第99页" in t.page.locator("#pager").inner_text()
    assert not t.errors
