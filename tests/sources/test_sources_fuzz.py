"""Odd and hostile input never escapes as anything but a :mod:`pusher.errors` error.

Property tests over the parsing functions (arbitrary bytes, HTML made of portal-ish pieces),
plus the cases they found, pinned. Kept small: the whole file runs in a few seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sources_portal import Page, Portal

from feeds.charset import decode_html
from feeds.dates import parse_date
from feeds.extract import extract_document
from feeds.http import Http
from feeds.sources.common import resolve
from feeds.sources.hanweb import HanwebOptions, HanwebSource
from feeds.sources.rss import RssOptions, RssSource
from feeds.sources.trs import TrsOptions, TrsSource
from feeds.xmlsafe import parse_html, parse_xml
from pusher.config.settings import HttpSettings, SourceSettings
from pusher.errors import FetchError, ParseError, TvPusherError
from pusher.interfaces import ListEntry, Response, SourceSpec
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.timeutil import local

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces portal pages are made of, and the odd values that break naive code.
_ODD = st.sampled_from(
    [
        "http://[x/a.png",
        "http://[::1",
        "//[",
        "http://127.0.0.1:abc/x.pdf",
        "javascript:void(0)",
        "./a.pdf",
        "0001-01-01",
        "0001年01月01日",
        "9999-12-31T23:59:59-01:00",
        "²",
        "1" * 5000,
        "\x00",
        "<?xml version='1.0' encoding='utf-8'?>",
        "]]>",
        "&#0;",
        "&lt;",
        "索引号：",
        "发布日期：",
        "<!--<$[信息来源]>begin-->",
        "<!--<$[信息来源]>end-->",
        "中文",
        "<!-- -->",
        "<?php echo 1 ?>",
        "",
    ]
)
_TAGS = st.sampled_from(
    ["p", "div", "table", "tr", "td", "h1", "h2", "span", "strong", "li", "ul", "br", "script", "title", "meta", "article"]
)
_ATTRS = st.sampled_from(["href", "src", "alt", "title", "id", "class", "name", "content"])


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    parts = ["<html><head><title>", draw(_ODD), "</title></head><body><div id='zoom'>"]
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(_TAGS)
        attrs = " ".join(f'{draw(_ATTRS)}="{draw(_ODD)}"' for _ in range(draw(st.integers(0, 2))))
        parts.append(f"<{tag} {attrs}>{draw(st.one_of(_ODD, st.text(max_size=20)))}")
        if draw(st.booleans()):
            parts.append(f"<a href='{draw(_ODD)}'>{draw(_ODD)}</a><img src='{draw(_ODD)}' alt='{draw(_ODD)}'>")
        if draw(st.booleans()):
            parts.append(f"</{tag}>")
    parts.append("</div></body></html>")
    return "".join(parts)


def _only_ours(fn: Callable[..., object], *args: object, **kwargs: object) -> None:
    with contextlib.suppress(TvPusherError):
        fn(*args, **kwargs)


@FAST
@given(st.binary(max_size=2000), st.sampled_from(["", "text/html; charset=gbk", "text/html; charset=x-nope", "text/html; charset=utf-16"]))
def test_decode_html_never_raises(body: bytes, content_type: str) -> None:
    assert isinstance(decode_html(body, content_type), str)


@FAST
@given(st.one_of(_ODD, st.text(max_size=40), st.from_regex(r"\d{4}[-年/]\d{1,2}[-月/]\d{1,2}( \d{1,2}:\d{2})?", fullmatch=True)))
def test_parse_date_never_raises(text: str) -> None:
    got = parse_date(text)
    assert got is None or local(got).tzinfo is not None  # and it has a local time


def test_dates_at_the_edge_of_the_calendar_are_no_dates() -> None:
    # 0001-01-01 in Shanghai is before 0001-01-01 UTC: no datetime holds it.
    for text in ("0001-01-01", "0001年01月01日", "0001-01-01T00:00:00+01:00"):
        assert parse_date(text) is None, text
    # Near the calendar's end a date has no local time (year 10000 in Shanghai): none of it.
    assert parse_date("9999-12-31T23:59:59-01:00") is None
    page = parse_html(
        """<html><head><title>通知</title><meta name="PubDate" content="9999-12-31T23:00:00Z"></head><body>
<table><tr><td>成文日期</td><td>9999-12-31T23:00:00Z</td></tr></table><div id="zoom"><p>正文。</p></div></body></html>"""
    )
    doc = extract_document(page, "http://portal.test/a.html")
    assert (doc.published, doc.written) == (None, None)
    assert parse_date("1900-01-02") is not None


BROKEN_LIST = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">
<li><a href="http://[2001:db8::1/art/0.html">地址写坏了的一条</a><span>2026-11-19</span></li>
<li><a href="/art/1.html">关于冬季森林防火工作的通告</a><span>2026-11-20</span></li>
</ul></body></html>""".encode()
BROKEN_ARTICLE = """<html><head><meta charset="utf-8"><title>关于冬季森林防火工作的通告</title></head><body>
<h1>关于冬季森林防火工作的通告</h1><div id="zoom"><p>各乡镇：请做好冬季森林防火工作。</p>
<p><img src="http://[x/a.png" alt="坏图"><img src="/img/ok.png" alt="好图"></p>
<p><a href="http://[x/a.pdf">坏附件.pdf</a> <a href="/files/ok.pdf">好附件</a></p></div></body></html>""".encode()


def test_a_link_that_is_no_url_costs_only_itself(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    # urljoin raises ValueError on "http://[…": one such href must not fail the list or the page.
    site.routes["/list.html"] = Page(BROKEN_LIST)
    site.routes["/art/1.html"] = Page(BROKEN_ARTICLE)
    rt = make_runtime([{"name": "broken", "kind": "html", "url": f"{site.url}/list.html", "options": {"link_xpath": "//ul/li/a"}}])
    report = poll_source(rt, "broken")
    assert (report.status, report.error, report.new, report.item_errors) == ("ok", "", 1, [])
    doc = extract_document(parse_html(BROKEN_ARTICLE.decode()), f"{site.url}/art/1.html")
    assert [b.src for b in doc.blocks if b.kind == "img"] == [f"{site.url}/img/ok.png"]
    assert [a.url for a in doc.attachments] == [f"{site.url}/files/ok.pdf"]
    assert resolve(site.url, "http://[x/", {site.url}) is None


def test_counts_that_int_cannot_read_are_no_counts(site: Portal) -> None:
    # "²".isdigit() is True and int() refuses 5000 digits: both are ValueErrors, not counts.
    record = '<record><![CDATA[<li><a href="/art/1.html">关于冬季森林防火工作的通告</a><span>2026-11-20</span></li>]]></record>'
    for total in ("²", "9" * 5000):
        site.routes["/col/col1/index.html"] = Page(
            f"""<html><head><meta charset="utf-8"><title>通知公告</title></head><body><p>通知公告栏目</p>
<script type="text/xml"><datastore><recordset>{record}</recordset><totalrecord>{total}</totalrecord></datastore></script>
</body></html>""".encode()
        )
        src = HanwebSource(_settings("hanweb", f"{site.url}/col/col1/index.html"), HanwebOptions())
        with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
            assert [e.title for e in src.list(http, {}).entries] == ["关于冬季森林防火工作的通告"]
    site.routes["/trs/index.html"] = Page(
        f"""<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul>
<li><a href="./202611/t20261120_1.html">关于冬季森林防火工作的通告</a><span>2026-11-20</span></li></ul>
<script>createPageHTML({"9" * 5000}, 0, "index", "html");</script></body></html>""".encode()
    )
    trs = TrsSource(_settings("trs", f"{site.url}/trs/index.html"), TrsOptions())
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
        assert len(trs.list(http, {}).entries) == 1


def _settings(kind: str, url: str = "http://portal.test/col/col1/index.html") -> SourceSpec:
    return SourceSettings(name="fz", kind=kind, url=url, column="tzgg").spec()


def test_urls_httpx_or_urlsplit_refuse_are_fetch_errors(site: Portal) -> None:
    def redirect(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "http://[x/next.html")
        h.send_header("Content-Length", "0")
        h.end_headers()

    site.routes["/moved"] = redirect
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
        with pytest.raises(FetchError, match="no URL"):
            http.get(f"{site.url}/moved")
        for url in ("http://[x/a.html", f"http://{site.host}:abc/a.html"):
            with pytest.raises(FetchError, match="not a URL"):
                http.get(url)


def test_a_validator_that_is_not_ascii_does_not_stop_the_next_poll(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    # httpx reads a Latin-1 ETag as "é" but refuses to send it back (UnicodeEncodeError).
    headers = {"ETag": '"v1-é"', "Last-Modified": "Tue, 24 Nov 2026 08:00:00 GMT"}
    site.routes["/list.html"] = Page(BROKEN_LIST, validators=False, headers=headers)
    site.routes["/art/1.html"] = Page(BROKEN_ARTICLE, validators=False, headers=headers)
    rt = make_runtime([{"name": "latin", "kind": "html", "url": f"{site.url}/list.html", "options": {"link_xpath": "//ul/li/a"}}])
    assert poll_source(rt, "latin").new == 1
    again = poll_source(rt, "latin")
    assert (again.status, again.error) == ("ok", "")
    assert site.hits[-1].headers.get("if-modified-since") == headers["Last-Modified"]
    assert "if-none-match" not in site.hits[-1].headers


@FAST
@given(st.one_of(html_pages(), st.text(max_size=300)))
def test_extract_document_raises_only_our_errors(page: str) -> None:
    def run() -> None:
        extract_document(parse_html(page, base_url="http://portal.test/a/b.html"), "http://portal.test/a/b.html", title_hint="提示")

    _only_ours(run)


@FAST
@given(st.binary(max_size=500))
def test_parse_xml_raises_only_our_errors(data: bytes) -> None:
    _only_ours(parse_xml, data)
    _only_ours(parse_xml, data, recover=True)


class _Canned:
    """An HttpClient answering every request with one canned body (parsing is what is tested)."""

    def __init__(self, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.body, self.content_type = body, content_type

    def _answer(self, url: str) -> Response:
        return Response(status=200, url=url, headers={"content-type": self.content_type}, body=self.body)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        return self._answer(url)

    def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> Response:
        return self._answer(url)


@st.composite
def datastores(draw: st.DrawFn) -> str:
    recs = "".join(
        f"<record><![CDATA[<li>{draw(_ODD)}<a href='{draw(_ODD)}' title='{draw(_ODD)}'>{draw(_ODD)}x</a><span>{draw(_ODD)}</span></li>]]></record>"
        for _ in range(draw(st.integers(0, 4)))
    )
    nextgroup = f'<nextgroup><![CDATA[<a href="{draw(_ODD)}"></a>]]></nextgroup>' if draw(st.booleans()) else ""
    total = f"<totalrecord>{draw(_ODD)}</totalrecord>" if draw(st.booleans()) else ""
    return (
        f"<html><head><title>栏目</title></head><body><p>{draw(_ODD)}</p>"
        f"<script type='text/xml'><datastore>{nextgroup}<recordset>{recs}</recordset>{total}</datastore></script></body></html>"
    )


@FAST
@given(st.one_of(datastores(), st.text(max_size=200).map(lambda t: f"<datastore>{t}</datastore>")))
def test_hanweb_column_raises_only_our_errors(page: str) -> None:
    src = HanwebSource(_settings("hanweb"), HanwebOptions(max_records=6, perpage=2))
    _only_ours(src.list, _Canned(page.encode("utf-8")), {})


@st.composite
def feeds_(draw: st.DrawFn) -> bytes:
    items = "".join(
        f"<item><title>{draw(_ODD).replace('<', '')}x</title><link>http://portal.test/{draw(_ODD).replace('<', '').replace('&', '')}</link>"
        f"<pubDate>{draw(_ODD).replace('<', '').replace('&', '')}</pubDate>"
        f"<description><![CDATA[{draw(_ODD)}{draw(st.text(max_size=20))}]]></description></item>"
        for _ in range(draw(st.integers(0, 3)))
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


@FAST
@given(st.one_of(feeds_(), st.binary(max_size=300)))
def test_rss_list_and_detail_raise_only_our_errors(feed: bytes) -> None:
    src = RssSource(_settings("rss"), RssOptions(fetch_details=False))
    try:
        listing = src.list(_Canned(feed, "application/rss+xml"), {})
    except TvPusherError:
        return
    for entry in listing.entries:
        _only_ours(src.detail, _Canned(b""), ListEntry(url=entry.url, title=entry.title))


@pytest.mark.parametrize("fragment", ["<html></html>", "<!DOCTYPE html>"])
def test_a_fragment_lxml_cannot_take_is_a_parse_error(site: Portal, fragment: str) -> None:
    # lxml asserts ("too many bodies") on the first and finds the second an empty document.
    good = '<li><a href="/art/1.html">关于冬季森林防火工作的通告</a><span>2026-11-20</span></li>'
    records = "".join(f"<record><![CDATA[{r}]]></record>" for r in (fragment, good))
    site.routes["/col/col1/index.html"] = Page(
        f"""<html><head><meta charset="utf-8"><title>通知公告</title></head><body><p>通知公告栏目</p>
<script type="text/xml"><datastore><recordset>{records}</recordset><totalrecord>2</totalrecord></datastore></script>
</body></html>""".encode()
    )
    src = HanwebSource(_settings("hanweb", f"{site.url}/col/col1/index.html"), HanwebOptions())
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
        assert [e.title for e in src.list(http, {}).entries] == ["关于冬季森林防火工作的通告"]
    feed = f"""<rss version="2.0"><channel><title>t</title><item><title>通告</title><link>{site.url}/art/1.html</link>
<description><![CDATA[{fragment}]]></description></item></channel></rss>""".encode()
    site.routes["/feed.xml"] = Page(feed, content_type="application/rss+xml")
    rss = RssSource(_settings("rss", f"{site.url}/feed.xml"), RssOptions(fetch_details=False))
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
        (entry,) = rss.list(http, {}).entries
        with pytest.raises(ParseError, match=r"\[fz\]"):
            rss.detail(http, entry)


def test_a_page_of_unclosed_datastores_is_refused_at_once(site: Portal) -> None:
    # A lazy "<datastore.*?</datastore>" rescans the page from every unclosed opening: this
    # 330 KB page took half a minute, a 10 MB one (the byte cap) hours.
    site.routes["/col/col1/index.html"] = Page(
        b"<html><head><title>t</title></head><body><p>x</p>" + b"<datastore " * 30000 + b"</body></html>"
    )
    src = HanwebSource(_settings("hanweb", f"{site.url}/col/col1/index.html"), HanwebOptions())
    started = time.monotonic()
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http, pytest.raises(ParseError, match="datastore"):
        src.list(http, {})
    assert time.monotonic() - started < 5  # the quadratic scan took 30 s; a loaded machine, not 2


def test_a_comment_between_a_label_and_its_value() -> None:
    # A comment has no text_content(): lxml raised ValueError for the whole page.
    page = parse_html(
        """<html><head><title>通知</title></head><body><table><tr><td>索引号</td><!-- --><td>330784/2026-1</td></tr>
<tr><td>文号</td><?php echo 1 ?><td>永政发〔2026〕1号</td></tr></table><p><strong>发布机构：</strong><!--src-->市应急管理局</p>
<p><b>主题分类</b><!-- --><span>安全生产</span></p><div id="zoom"><p>正文。</p></div></body></html>"""
    )
    doc = extract_document(page, "http://portal.test/a.html")
    assert (doc.index_no, doc.doc_no, doc.publisher, doc.topic) == ("330784/2026-1", "永政发〔2026〕1号", "市应急管理局", "安全生产")


def test_an_image_link_keeps_the_date_beside_it(site: Portal) -> None:
    # "x".replace("", " ") spaces out every character: the date beside a link without text was lost.
    link = '<a href="./202611/t20261120_1.html" title="冬季森林防火图片新闻"><img src="/p.jpg"></a>'
    site.routes["/trs/index.html"] = Page(
        f"""<html><head><meta charset="utf-8"><title>图片新闻</title></head><body><p>图片新闻栏目</p>
<ul><li>{link}<span>2026-11-20</span></li></ul></body></html>""".encode()
    )
    record = f"<record><![CDATA[<li>{link.replace('./', '/')}<span>2026-11-20</span></li>]]></record>"
    site.routes["/col/col1/index.html"] = Page(
        f"""<html><head><meta charset="utf-8"><title>图片新闻</title></head><body><p>图片新闻栏目</p>
<script type="text/xml"><datastore><recordset>{record}</recordset><totalrecord>1</totalrecord></datastore></script></body></html>""".encode()
    )
    trs = TrsSource(_settings("trs", f"{site.url}/trs/index.html"), TrsOptions())
    hanweb = HanwebSource(_settings("hanweb", f"{site.url}/col/col1/index.html"), HanwebOptions())
    with Http(HttpSettings(timeout=2.0, delay=0.0), source="fz", hosts={site.url}) as http:
        for src in (trs, hanweb):
            (entry,) = src.list(http, {}).entries
            assert entry.title == "冬季森林防火图片新闻"
            assert entry.published is not None and entry.published.date().isoformat() == "2026-11-19", src  # 00:00 Shanghai
