"""Real government pages of unknown layout (tests/fixtures/pages), read by the html adapter with
no selectors: title and date exact, body char-F1 ≥ 0.95 against the expected text, no furniture.

Each page is served over loopback as UTF-8 and as GB18030. The expected values in
``expected.json`` were read off each page (its 标题 / 发布日期 cells and its text), see the README.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sources_portal import Page, Portal
from test_sources_samples import http_for, make_source

from feeds.extract import extract_document
from feeds.xmlsafe import parse_html
from pusher.errors import ParseError
from pusher.interfaces import Document, ListEntry
from pusher.timeutil import local

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
BOILERPLATE = (
    "当前位置",
    "您当前所在位置",
    "字号",
    "打印本页",
    "关闭窗口",
    "分享到",
    "扫一扫在手机打开当前页",
    "相关稿件",
    "相关链接",
    "上一篇",
    "下一篇",
    "浏览次数",
)
ENCODINGS = {"utf-8": "text/html; charset=UTF-8", "gb18030": "text/html; charset=GB18030"}


def char_f1(got: str, want: str) -> float:
    g, w = Counter(c for c in got if not c.isspace()), Counter(c for c in want if not c.isspace())
    common = sum((g & w).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def test_fixture_set_is_complete() -> None:
    files = sorted(p.name for p in PAGES.glob("*.html"))
    assert files == sorted(EXPECTED) and len(files) >= 15


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unknown_layout_page(site: Portal, name: str, encoding: str) -> None:
    want = EXPECTED[name]
    site.routes["/page.html"] = Page((PAGES / name).read_text(encoding="utf-8").encode(encoding), content_type=ENCODINGS[encoding])
    src = make_source("html", site.url + "/list.html")
    with http_for(site) as http:
        doc = src.detail(http, ListEntry(url=site.url + "/page.html", title="列表里的标题..."))
    assert isinstance(doc, Document)
    assert doc.title == want["title"]
    assert doc.published is not None and local(doc.published).date() == date.fromisoformat(want["date"])
    text = doc.text
    assert char_f1(text, want["body"]) >= 0.95
    # The first and last sentence (a <br> inside a paragraph may split it into two blocks).
    squeezed = "".join(text.split())
    assert squeezed.startswith("".join(want["first"].split()))
    assert squeezed.endswith("".join(want["last"].split()))
    for bad in BOILERPLATE:
        assert bad not in text, bad


def _doc(markup: str, **kw: object) -> Document:
    return extract_document(parse_html(markup, base_url="http://x.gov.cn/"), "http://x.gov.cn/a.html", find_main=True, **kw)  # type: ignore[arg-type]


ARTICLE = (
    "<p>为进一步做好城乡建设工作，现将有关事项通知如下。</p>"
    "<p>一、各乡镇要高度重视，认真组织，确保各项工作落到实处，按时完成。</p>"
    "<table><tr><th>项目</th><th>金额</th></tr><tr><td>道路</td><td>100万元</td></tr></table>"
    "<p>二、请于十二月底前将情况报县住建局，逾期不报的，予以通报。</p>"
)


def test_gazette_chrome_and_firstpublishedtime() -> None:
    """The issue's gov.cn gazette page: breadcrumb and toolbar above, QR and 相关稿件 below."""
    doc = _doc(
        '<html><head><meta name="firstpublishedtime" content="2007-08-20-23:59:59"><meta name="lastmodifiedtime" content="2020-01-01-00:00:00">'
        "<title>关于城乡建设的通知_国务院公报_中国政府网</title></head><body>"
        '<div class="BreadcrumbNav">首页 &gt; 国务院公报 &gt; 2007年第23号</div>'
        '<div class="pages_print">字号：默认 大 超大 | 打印 | </div><h1>关于城乡建设的通知</h1>'
        f'<div class="article">{ARTICLE}</div>'
        '<div id="qr_container">扫一扫在手机打开当前页</div><div class="related"><h3>相关稿件</h3><ul><li><a href="/1.htm">另一篇</a></li></ul></div>'
        "</body></html>"
    )
    assert doc.title == "关于城乡建设的通知"
    assert local(doc.published).isoformat() == "2007-08-20T23:59:59+08:00"  # type: ignore[arg-type]
    assert doc.blocks[0].text.startswith("为进一步") and doc.blocks[-1].text.startswith("二、")
    assert [b.kind for b in doc.blocks] == ["p", "p", "table", "p"]
    assert "扫一扫" not in doc.text and "相关稿件" not in doc.text and "字号" not in doc.text


def test_labels_sharing_a_line_split() -> None:
    doc = _doc(
        "<html><body><h1>关于道路施工的公告</h1><div class='info'>发布机构：县住建局\u3000发布日期：2026-11-20\u3000浏览次数：</div>"
        f"<div>{ARTICLE}</div><div>上一篇：无</div></body></html>"
    )
    assert doc.publisher == "县住建局"
    assert local(doc.published).date() == date(2026, 11, 20)  # type: ignore[arg-type]
    assert "上一篇" not in doc.text and "浏览次数" not in doc.text


@pytest.mark.parametrize(
    ("meta", "when"),
    [
        ('name="PubDate" content="2024-03-05 10:20"', "2024-03-05T10:20:00+08:00"),
        ('name="ArticlePubDate" content="2024-03-05"', "2024-03-05T00:00:00+08:00"),
        ('name="publishdate" content="2024年3月5日"', "2024-03-05T00:00:00+08:00"),
        ('property="article:published_time" content="2024-03-05T02:20:00Z"', "2024-03-05T10:20:00+08:00"),
        ('name="pubdate" content="2024/03/05"', "2024-03-05T00:00:00+08:00"),
    ],
)
def test_publication_date_metas(meta: str, when: str) -> None:
    doc = _doc(
        f'<html><head><meta {meta}><meta name="Maketime" content="2030-01-01 00:00:00"></head><body><h1>通知</h1>{ARTICLE}</body></html>'
    )
    assert local(doc.published).isoformat() == when  # type: ignore[arg-type]


def test_visible_date_label_and_never_the_rebuild_time() -> None:
    doc = _doc(
        f'<html><head><meta name="Maketime" content="2030-01-01"></head><body><h1>通知</h1><p>日期：2025-06-01</p>{ARTICLE}</body></html>'
    )
    assert local(doc.published).date() == date(2025, 6, 1)  # type: ignore[arg-type]


def test_configured_selector_still_wins() -> None:
    doc = _doc(
        f"<html><body><h1>通知</h1><div id='a'>{ARTICLE}</div><div id='b'><p>只要这一段。</p></div></body></html>",
        body_xpath="//*[@id='b']",
    )
    assert doc.text == "只要这一段。"


def test_page_without_main_text_is_an_error_naming_the_page(site: Portal) -> None:
    site.routes["/nav.html"] = Page(
        (
            "<html><head><title>导航</title></head><body><ul>"
            + "".join(f"<li><a href='/{i}.html'>栏目{i}</a></li>" for i in range(30))
            + "</ul></body></html>"
        ).encode()
    )
    src = make_source("html", site.url + "/list.html")
    with http_for(site) as http, pytest.raises(ParseError, match="no discernible main text") as exc:
        src.detail(http, ListEntry(url=site.url + "/nav.html", title="x"))
    assert "/nav.html" in str(exc.value)
