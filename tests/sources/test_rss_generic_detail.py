"""Issue 16: an RSS item whose description is short (a teaser, or none) has its page read with the
generic main-text finder, so that a page of a layout no selector knows gives its article, not an
error or its chrome; a long description is still the fallback when the page has no known body."""

from __future__ import annotations

from sources_portal import Page, Portal
from test_sources_samples import http_for, make_source

from pusher.interfaces import Document

ARTICLE = (
    "<html><head><title>关于冬季森林防火的通告_某县人民政府</title></head><body>"
    "<div class='crumb'>您当前所在位置：首页 &gt; 通知公告</div>"
    "<div class='wz-main'><h1>关于冬季森林防火的通告</h1>"
    "<div class='fbxx'>发布日期：2026-11-20　浏览次数：12</div><div class='wz-text'>"
    "<p>为切实做好今冬明春森林防火工作，保护森林资源和人民群众生命财产安全，现将有关事项通告如下。</p>"
    "<p>一、森林防火期为2026年11月1日至2027年4月30日，期间严禁一切野外用火。</p>"
    "<p>二、对违反规定野外用火的，依法予以处罚；构成犯罪的，依法追究刑事责任。</p></div>"
    "<div class='tools'>【打印本页】【关闭窗口】</div></div>"
    "<div class='links'><a href='/a.html'>上一篇：关于道路施工的公告</a></div></body></html>"
)


def _feed(site: Portal, description: str) -> str:
    site.routes["/art/1.html"] = Page(ARTICLE.encode("utf-8"), content_type="text/html; charset=utf-8")
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>某县</title>'
        f"<item><title>关于冬季森林防火的通告</title><link>{site.url}/art/1.html</link>"
        f"<pubDate>Fri, 20 Nov 2026 09:00:00 +0800</pubDate><description>{description}</description></item>"
        "</channel></rss>"
    )
    site.routes["/rss.xml"] = Page(rss.encode("utf-8"), content_type="text/xml")
    return site.url + "/rss.xml"


def _read(site: Portal, description: str) -> Document:
    src = make_source("rss", _feed(site, description))
    with http_for(site) as http:
        entry = src.list(http, {}).entries[0]
        doc = src.detail(http, entry)
    assert isinstance(doc, Document)
    return doc


def test_short_description_reads_the_page_with_the_generic_finder(site: Portal) -> None:
    doc = _read(site, "为切实做好今冬明春森林防火工作……")
    text = doc.text
    assert text.startswith("为切实做好今冬明春森林防火工作") and text.endswith("依法追究刑事责任。")
    for chrome in ("当前位置", "打印本页", "关闭窗口", "上一篇", "浏览次数"):
        assert chrome not in text, chrome


def test_no_description_reads_the_page_too(site: Portal) -> None:
    assert "森林防火期为2026年11月1日至2027年4月30日" in _read(site, "").text


def test_a_long_description_stays_the_fallback(site: Portal) -> None:
    long = "本通告全文：" + "森林防火，人人有责。" * 30
    doc = _read(site, long)
    assert doc.text.startswith("本通告全文：") and "森林防火期为" not in doc.text
