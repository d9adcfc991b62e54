"""Saved real pages of further sites (``tests/fixtures/pages/<site>/``, each with its own
``expected.json``), read by the html adapter with no selectors over loopback as UTF-8 and as
GB18030: title and date exact, body char-F1 ≥ 0.95, first and last sentence, no furniture."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sources_portal import Page, Portal
from test_sources_pages import BOILERPLATE, ENCODINGS, char_f1
from test_sources_samples import http_for, make_source

from pusher.interfaces import Document, ListEntry
from pusher.timeutil import local

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
CASES = {
    f"{exp.parent.name}/{name}": want
    for exp in sorted(PAGES.glob("*/expected.json"))
    for name, want in json.loads(exp.read_text(encoding="utf-8")).items()
}


def test_every_site_page_is_labelled() -> None:
    saved = sorted(f"{p.parent.name}/{p.name}" for p in PAGES.glob("*/*.html"))
    assert saved == sorted(CASES) and saved


# What marks a page as Hanweb jcms or TRS WCM (their adapters read those): none may be here.
CMS_MARKERS = re.compile(r"jcms|hanweb|/art/\d{4}/art_|\bTRS\b|TRS_|trs_editor|\bwcm\b|_t20\d\d", re.I)


@pytest.mark.parametrize("page", sorted(p for p in PAGES.glob("**/*.html")), ids=lambda p: p.name)
def test_no_fixture_page_is_hanweb_or_trs(page: Path) -> None:
    assert not CMS_MARKERS.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_site_page(site: Portal, case: str, encoding: str) -> None:
    want = CASES[case]
    site.routes["/page.html"] = Page(
        (PAGES / case).read_text(encoding="utf-8").encode(encoding, "replace"), content_type=ENCODINGS[encoding]
    )
    src = make_source("html", site.url + "/list.html")
    with http_for(site) as http:
        doc = src.detail(http, ListEntry(url=site.url + "/page.html", title="列表里的标题..."))
    assert isinstance(doc, Document)
    assert doc.title == want["title"]
    assert doc.published is not None and local(doc.published).date() == date.fromisoformat(want["date"])
    assert char_f1(doc.text, want["body"]) >= 0.95
    squeezed = "".join(doc.text.split())
    assert squeezed.startswith("".join(want["first"].split())) and squeezed.endswith("".join(want["last"].split()))
    for bad in BOILERPLATE:
        assert bad not in doc.text, bad


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("习近平主持召开深入推进长三角一体化发展座谈会-中国科普网", "习近平主持召开深入推进长三角一体化发展座谈会"),
        ("关于印发2021-2025年规划的通知_通知公告_某县人民政府", "关于印发2021-2025年规划的通知"),
        ("2021-2025", "2021-2025"),
        (
            "县政府办公室关于开展全县安全生产大检查工作的通知 | 一个很长的不像站名的副标题部分内容",
            "县政府办公室关于开展全县安全生产大检查工作的通知 | 一个很长的不像站名的副标题部分内容",
        ),
    ],
)
def test_title_without_site_suffix(title: str, want: str) -> None:
    from feeds.generic import page_title
    from feeds.xmlsafe import parse_html

    assert page_title(parse_html(f"<html><head><title>{title}</title></head><body><p>正文</p></body></html>")) == want


def test_a_cms_wrapper_around_paragraphs_keeps_them_apart_with_their_images() -> None:
    """Jiangxi's platform wraps the text in ``<ucapcontent>``: with a configured selector naming the
    div around it, its paragraphs ran together and its charts were lost (read as one inline run)."""
    from feeds.extract import extract_document
    from feeds.xmlsafe import parse_html

    markup = (
        "<html><body><h1>统计公报</h1><div class='article-content'><ucapcontent>"
        "<p>一、综合</p><p>全年实现生产总值262.6亿元。</p><p><img src='chart.jpg'></p><p>二、农业</p>"
        "</ucapcontent></div></body></html>"
    )
    doc = extract_document(
        parse_html(markup, base_url="http://x.gov.cn/a/"), "http://x.gov.cn/a/b.html", body_xpath="//div[@class='article-content']"
    )
    assert [(b.kind, b.text or b.src) for b in doc.blocks] == [
        ("p", "一、综合"),
        ("p", "全年实现生产总值262.6亿元。"),
        ("img", "http://x.gov.cn/a/chart.jpg"),
        ("p", "二、农业"),
    ]
