"""The Source contract, run against every registered adapter over real HTTP.

Each adapter gets a subclass of :class:`SourceContract` that publishes a small portal in its
CMS's shape; the checks are the same for all. A new adapter without a subclass here fails
:func:`test_every_registered_kind_has_a_contract_test`.
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import pytest
from sources_portal import Page, Portal

from feeds.http import Http
from pusher.config.settings import HttpSettings, SourceSettings
from pusher.errors import ChallengeError
from pusher.interfaces import Document, Gone, ListEntry, Listing, Source
from pusher.registry import SOURCES

ARTICLES = [
    ("1", "关于2026年冬季森林防火工作的通告", "2026-11-20"),
    ("2", "关于调整城区部分公交线路的公告", "2026-11-18"),
    ("3", "永康市2026年秋季征兵工作公告", "2026-11-15"),
]


def article_page(title: str, date: str, body_class: str = 'id="zoom"') -> bytes:
    return f"""<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{date} 09:00"><title>{title}</title></head>
<body><div class="nav"><a href="/">首页</a></div><div {body_class}><p>{title}。全文如下。</p><p>第二段。</p></div></body></html>""".encode()


class SourceContract:
    kind: ClassVar[str]
    list_path: ClassVar[str]
    options: ClassVar[dict[str, Any]] = {}

    def publish(self, portal: Portal) -> dict[str, str]:
        """Put the portal in place; return {article url: title}."""
        raise NotImplementedError

    def source(self, portal: Portal) -> Source:
        s = SourceSettings(name="c", kind=self.kind, url=portal.url + self.list_path, column="tzgg")
        return SOURCES.get(self.kind).factory(s.spec(), SOURCES.validate_options(self.kind, self.options))

    @pytest.fixture
    def http(self, site: Portal) -> Any:
        with Http(HttpSettings(timeout=2.0, delay=0.0), source="c", hosts={site.url}) as h:
            yield h

    def test_is_a_source(self, site: Portal) -> None:
        assert isinstance(self.source(site), Source)

    def test_lists_every_article_with_title_and_date(self, site: Portal, http: Http) -> None:
        expected = self.publish(site)
        listing = self.source(site).list(http, {})
        assert isinstance(listing, Listing) and not listing.not_modified
        assert {e.url: e.title for e in listing.entries} == expected
        assert all(e.published is not None for e in listing.entries)

    def test_unchanged_list_is_not_modified(self, site: Portal, http: Http) -> None:
        self.publish(site)
        src = self.source(site)
        first = src.list(http, {})
        assert first.validators
        again = src.list(http, first.validators)
        assert again.not_modified and again.entries == ()

    def test_detail_reads_a_document(self, site: Portal, http: Http) -> None:
        expected = self.publish(site)
        src = self.source(site)
        entry = src.list(http, {}).entries[0]
        doc = src.detail(http, entry)
        assert isinstance(doc, Document)
        assert doc.url == entry.url and doc.title == expected[entry.url]
        assert doc.blocks and doc.published is not None

    def test_detail_gone(self, site: Portal, http: Http) -> None:
        self.publish(site)
        got = self.source(site).detail(http, ListEntry(url=site.url + "/art/9/9/9/missing.html", title="x"))
        assert isinstance(got, Gone) and got.status == 404

    def test_challenge_is_an_error_not_content(self, site: Portal, http: Http) -> None:
        self.publish(site)
        site.routes[self.list_path] = Page(b"<html><script>document.cookie='a=1';location.reload()</script></html>", status=412)
        with pytest.raises(ChallengeError, match="412"):
            self.source(site).list(http, {})


class TestHtmlContract(SourceContract):
    kind = "html"
    list_path = "/col/col1/index.html"
    options: ClassVar[dict[str, Any]] = {"link_xpath": "//ul[@class='list']/li/a", "date_xpath": "../span"}

    def publish(self, portal: Portal) -> dict[str, str]:
        lis = "".join(f'<li><a href="/art/2026/11/{i}/art_1_{i}.html">{t}</a><span>{d}</span></li>' for i, t, d in ARTICLES)
        portal.routes[self.list_path] = Page(f'<html><body><h1>通知公告</h1><ul class="list">{lis}</ul></body></html>'.encode())
        for i, t, d in ARTICLES:
            portal.routes[f"/art/2026/11/{i}/art_1_{i}.html"] = Page(article_page(t, d))
        return {f"{portal.url}/art/2026/11/{i}/art_1_{i}.html": t for i, t, _ in ARTICLES}


class TestHanwebContract(SourceContract):
    kind = "hanweb"
    list_path = "/col/col1/index.html"

    def publish(self, portal: Portal) -> dict[str, str]:
        recs = "".join(
            f'<record><![CDATA[<li><a href="/art/2026/11/{i}/art_1_{i}.html" title="{t}">{t[:8]}...</a><b>{d}</b></li>]]></record>'
            for i, t, d in ARTICLES
        )
        page = f"""<html><head><meta charset="utf-8"><title>通知公告</title></head><body><p>通知公告栏目</p>
<script type="text/xml"><datastore><totalrecord>3</totalrecord><recordset>{recs}</recordset></datastore></script></body></html>"""
        portal.routes[self.list_path] = Page(page.encode())
        for i, t, d in ARTICLES:
            portal.routes[f"/art/2026/11/{i}/art_1_{i}.html"] = Page(article_page(t, d))
        return {f"{portal.url}/art/2026/11/{i}/art_1_{i}.html": t for i, t, _ in ARTICLES}


class TestTrsContract(SourceContract):
    kind = "trs"
    list_path = "/xxgk/tzgg/index.html"

    def publish(self, portal: Portal) -> dict[str, str]:
        # Two list pages (createPageHTML), relative article links.
        def rows(items: list[tuple[str, str, str]]) -> str:
            return "".join(f'<li><a href="./202611/t202611{d[-2:]}_{i}.html">{t}</a><span>{d}</span></li>' for i, t, d in items)

        for n, items in enumerate((ARTICLES[:2], ARTICLES[2:])):
            body = f'<html><body><ul>{rows(items)}</ul><script>createPageHTML(2, {n}, "index", "html");</script></body></html>'
            portal.routes["/xxgk/tzgg/" + ("index.html" if n == 0 else "index_1.html")] = Page(body.encode())
        for i, t, d in ARTICLES:
            portal.routes[f"/xxgk/tzgg/202611/t202611{d[-2:]}_{i}.html"] = Page(article_page(t, d, 'class="TRS_Editor"'))
        return {f"{portal.url}/xxgk/tzgg/202611/t202611{d[-2:]}_{i}.html": t for i, t, d in ARTICLES}


class TestRssContract(SourceContract):
    kind = "rss"
    list_path = "/rss/tzgg.xml"

    def publish(self, portal: Portal) -> dict[str, str]:
        items = "".join(
            f"<item><title><![CDATA[{t}]]></title><link>{portal.url}/art/{i}.html</link>"
            f"<pubDate>{d} 09:00:00.0</pubDate><description>{html.escape('<p>' + t + '</p>')}</description></item>"
            for i, t, d in ARTICLES
        )
        feed = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>通知公告</title>{items}</channel></rss>'
        portal.routes[self.list_path] = Page(feed.encode(), content_type="application/rss+xml")
        for i, t, d in ARTICLES:
            portal.routes[f"/art/{i}.html"] = Page(article_page(t, d))
        return {f"{portal.url}/art/{i}.html": t for i, t, _ in ARTICLES}


def test_every_registered_kind_has_a_contract_test() -> None:
    tested = {cls.kind for cls in SourceContract.__subclasses__()}
    assert set(SOURCES.kinds()) <= tested, set(SOURCES.kinds()) - tested
