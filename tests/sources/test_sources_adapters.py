"""Adapter details: RSS/Atom as government feeds really are, TRS paging, links, metadata, classification."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sources_portal import Page, Portal
from test_sources_samples import http_for, make_source

from feeds.classify import classify
from feeds.dates import parse_date
from feeds.sources.common import link_title, resolve
from pusher.config.settings import ColumnSettings, SourceSettings
from pusher.errors import ParseError
from pusher.interfaces import Document, ListEntry

SH = ZoneInfo("Asia/Shanghai")

RSS = """<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>永康市人民政府</title>
<item><title><![CDATA[关于<2026>年冬季森林防火工作的通告]]></title><link>/art/1.html</link>
<pubDate>2026-10-04 01:39:11.0</pubDate><category>通知公告</category>
<description><![CDATA[<p>为切实做好今冬明春森林防火工作。</p><p>特此通告。</p>]]></description></item>
<item><title>关于调整城区部分公交线路的公告</title><link>//{host}/art/2.html</link><pubDate>2020年08月02日</pubDate>
<description>&lt;p&gt;自2026年12月1日起调整。&lt;/p&gt;</description></item>
<item><title>RFC 822 日期</title><link>{url}/art/3.html</link><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>
<description>三</description></item>
<item><title>别的网站</title><link>http://elsewhere.example.com/a.html</link><pubDate>2026-11-01</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>政策文件</title>
<entry><title>永康市促进五金产业高质量发展若干政策</title><link rel="alternate" href="/art/9.html"/>
<updated>2026-11-19T09:30:00+08:00</updated><summary type="html">&lt;p&gt;政策全文。&lt;/p&gt;</summary></entry>
</feed>"""


def test_rss_dates_cdata_links_and_charset(site: Portal) -> None:
    body = RSS.replace("{host}", f"{site.host}:{site.httpd.server_address[1]}").replace("{url}", site.url)
    site.routes["/rss.xml"] = Page(body.encode("gb18030"), content_type="text/xml")
    src = make_source("rss", site.url + "/rss.xml", options={"fetch_details": False})
    with http_for(site) as http:
        listing = src.list(http, {})
        entries = listing.entries
        assert [e.title for e in entries] == ["关于<2026>年冬季森林防火工作的通告", "关于调整城区部分公交线路的公告", "RFC 822 日期"]
        assert [e.url for e in entries] == [site.url + "/art/1.html", site.url + "/art/2.html", site.url + "/art/3.html"]
        assert entries[0].published == datetime(2026, 10, 4, 1, 39, 11, tzinfo=SH)
        assert entries[1].published == datetime(2020, 8, 2, tzinfo=SH)
        assert entries[2].published == datetime(2026, 11, 24, 16, 0, tzinfo=SH)
        assert entries[0].column == "通知公告"
        # Without detail pages the description is the body, parsed as HTML (it is HTML).
        doc = src.detail(http, entries[0])
        assert isinstance(doc, Document)
        assert [b.text for b in doc.blocks] == ["为切实做好今冬明春森林防火工作。", "特此通告。"]
        assert src.list(http, listing.validators).not_modified


def test_atom_and_detail_pages(site: Portal) -> None:
    site.routes["/atom.xml"] = Page(ATOM.encode(), content_type="application/atom+xml")
    site.routes["/art/9.html"] = Page(
        """<html><head><meta charset="utf-8"><title>x</title></head><body>
<table><tr><td>索引号</td><td>330784/2026-9</td><td>成文日期</td><td>2026-11-18</td></tr></table>
<div id="zoom"><p>第一条 为促进五金产业发展……</p><p><a href="/module/download/downfile.jsp?filename=a.wps">政策解读.wps</a></p></div>
</body></html>""".encode()
    )
    src = make_source("rss", site.url + "/atom.xml")
    with http_for(site) as http:
        (entry,) = src.list(http, {}).entries
        assert entry.published == datetime(2026, 11, 19, 9, 30, tzinfo=SH)
        doc = src.detail(http, entry)
    assert isinstance(doc, Document)
    assert doc.title == "永康市促进五金产业高质量发展若干政策"  # the feed's title beats the page's <title>
    assert doc.index_no == "330784/2026-9" and doc.written == date(2026, 11, 18)
    assert doc.published == entry.published
    assert [(a.name, a.url) for a in doc.attachments] == [("政策解读.wps", site.url + "/module/download/downfile.jsp?filename=a.wps")]


RSS1 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{url}/"><title>永康市人民政府</title></channel>
<item rdf:about="{url}/art/7.html"><title>关于开展2026年度冬季消防安全大检查的通知</title><link>{url}/art/7.html</link>
<dc:date>2026-11-08T09:00:00+08:00</dc:date><description>检查重点为人员密集场所。</description></item>
</rdf:RDF>"""


def test_rss_1_0_feeds_are_read(site: Portal) -> None:
    site.routes["/rdf.xml"] = Page(RSS1.replace("{url}", site.url).encode(), content_type="application/rdf+xml")
    src = make_source("rss", site.url + "/rdf.xml", options={"fetch_details": False})
    with http_for(site) as http:
        (entry,) = src.list(http, {}).entries
        doc = src.detail(http, entry)
    assert entry.title == "关于开展2026年度冬季消防安全大检查的通知" and entry.url == site.url + "/art/7.html"
    assert entry.published == datetime(2026, 11, 8, 9, 0, tzinfo=SH)
    assert isinstance(doc, Document) and [b.text for b in doc.blocks] == ["检查重点为人员密集场所。"]


def test_feed_with_a_dtd_is_refused(site: Portal) -> None:
    evil = """<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&x;</title><link>/a.html</link></item></channel></rss>"""
    site.routes["/evil.xml"] = Page(evil.encode(), content_type="text/xml")
    src = make_source("rss", site.url + "/evil.xml")
    with http_for(site) as http, pytest.raises(ParseError):
        src.list(http, {})


def test_trs_reads_only_the_watched_pages(site: Portal) -> None:
    def page(n: int) -> bytes:
        lis = "".join(f'<li><a href="./202611/t2026112{k}_{n}{k}.html">第{n}页第{k}条</a><span>2026-11-2{k}</span></li>' for k in range(3))
        return f'<html><body><ul>{lis}</ul><script>createPageHTML(10, {n}, "index", "html");</script></body></html>'.encode()

    for n in range(10):
        site.routes["/gk/" + ("index.html" if n == 0 else f"index_{n}.html")] = Page(page(n))
    src = make_source("trs", site.url + "/gk/index.html", options={"pages": 3})
    with http_for(site) as http:
        listing = src.list(http, {})
    assert site.paths() == ["/gk/index.html", "/gk/index_1.html", "/gk/index_2.html"]
    assert len(listing.entries) == 9 and listing.complete
    assert listing.entries[0].url == site.url + "/gk/202611/t20261120_00.html"


def test_links_resolve_and_stay_on_allowed_hosts() -> None:
    hosts = {"www.yk.gov.cn", "xxgk.yk.gov.cn"}
    base = "http://www.yk.gov.cn/col/col1/index.html"
    assert resolve(base, "./202008/t20200802_1.html", hosts) == "http://www.yk.gov.cn/col/col1/202008/t20200802_1.html"
    assert resolve(base, "/art/2026/1/1/art_1_1.html#top", hosts) == "http://www.yk.gov.cn/art/2026/1/1/art_1_1.html"
    assert resolve(base, "//xxgk.yk.gov.cn/a.html", hosts) == "http://xxgk.yk.gov.cn/a.html"
    assert resolve("https://www.yk.gov.cn/", "//xxgk.yk.gov.cn/a.html", hosts) == "https://xxgk.yk.gov.cn/a.html"
    assert resolve(base, "http://www.baidu.com/", hosts) is None
    assert resolve(base, "javascript:void(0)", hosts) is None
    assert resolve(base, "ftp://www.yk.gov.cn/a", hosts) is None


def test_title_attribute_beats_truncated_text() -> None:
    from lxml import html

    def a(s: str) -> str:
        return link_title(html.fragment_fromstring(s))

    assert a('<a title="关于对省级第二轮环保督察反馈问题整改完成情况的公示">关于对省级第二轮环保督察反馈...</a>').endswith("情况的公示")
    assert a('<a title="关于…的通知">关于…的通知</a>') == "关于…的通知"
    assert a("<a>没有标题属性</a>") == "没有标题属性"
    assert a('<a title="新闻">关于2026年冬季森林防火工作的通告</a>') == "关于2026年冬季森林防火工作的通告"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-04 01:39:11.0", datetime(2026, 10, 4, 1, 39, 11, tzinfo=SH)),
        ("2020年08月02日", datetime(2020, 8, 2, tzinfo=SH)),
        ("2016-11-22 09:53", datetime(2016, 11, 22, 9, 53, tzinfo=SH)),
        ("2026/11/5", datetime(2026, 11, 5, tzinfo=SH)),
        ("Tue, 24 Nov 2026 08:00:00 GMT", datetime(2026, 11, 24, 16, 0, tzinfo=SH)),
        ("2026-11-19T09:30:00+08:00", datetime(2026, 11, 19, 9, 30, tzinfo=SH)),
        ("发布时间：2026年11月3日 10时20分", datetime(2026, 11, 3, 10, 20, tzinfo=SH)),
        ("", None),
        ("浏览次数", None),
    ],
)
def test_dates(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


COLS = (
    ColumnSettings(id="dwgk", name="党务公开", portal_columns=("党务公开",)),
    ColumnSettings(id="cwgk", name="村务公开", portal_columns=("村务公开",), keywords=("村级财务",)),
    ColumnSettings(id="zwfw", name="政务服务", portal_columns=("办事指南",), keywords=("办事指南", "服务指南")),
    ColumnSettings(
        id="zdly",
        name="重点领域",
        topics=("财政", "保障性住房", "食品安全", "环境", "招投标", "安全生产", "征地拆迁", "价格收费"),
        keywords=("招标", "征收", "拆迁", "收费标准"),
    ),
    ColumnSettings(id="zwgk", name="政府信息公开"),
)


@pytest.mark.parametrize(
    ("title", "portal_column", "topic", "expected"),
    [
        ("中共永康市委关于学习贯彻的通知", "党务公开", "", "dwgk"),
        ("芝英镇村级财务收支公开", "", "", "cwgk"),
        ("唐先镇村庄道路硬化工程招标结果公示", "村务公开", "招投标", "cwgk"),  # the portal column comes first
        ("市民卡线上办理服务指南", "", "", "zwfw"),
        ("永康市2026年市级部门预算", "政策文件", "财政、金融、审计", "zdly"),
        ("方岩镇关于征收集体土地的预公告", "通知公告", "", "zdly"),
        ("永康市2026年秋季征兵工作公告", "通知公告", "综合政务", "zwgk"),  # no rule: the source's column
    ],
)
def test_classification(title: str, portal_column: str, topic: str, expected: str) -> None:
    doc = Document(url="http://x/1.html", title=title, blocks=(), column=portal_column, topic=topic)
    src = SourceSettings(name="s", kind="html", url="http://x/", column="zwgk")
    assert classify(doc, src, COLS) == expected


def test_bad_list_is_a_parse_error_for_the_source(site: Portal) -> None:
    site.routes["/col/col1/index.html"] = Page("<html><body><p>栏目建设中，敬请期待。这里没有列表数据。</p></body></html>".encode())
    src = make_source("hanweb", site.url + "/col/col1/index.html")
    with http_for(site) as http, pytest.raises(ParseError, match=r"\[s\].*no <datastore>"):
        src.list(http, {})
    # A page with no body container is not guessed at from the whole page.
    with http_for(site) as http, pytest.raises(ParseError, match="no article body"):
        src.detail(http, ListEntry(url=site.url + "/col/col1/index.html", title="x"))


@pytest.mark.parametrize(
    ("title", "is_error"),
    [
        ("404 页面不存在", True),
        ("404", True),
        ("页面不存在_永康市人民政府", True),
        ("500 Internal Server Error", True),
        ("系统繁忙，请稍后再试", True),
        ("关于全市500家企业安全生产检查情况的通报", False),
        ("永康市2026年第404号公告", False),
        ("关于开展“出行无忧”活动的通知", False),
    ],
)
def test_error_pages_are_told_from_articles(site: Portal, title: str, is_error: bool) -> None:
    from feeds.sources.common import page_of
    from pusher.errors import ChallengeError
    from pusher.interfaces import Response

    body = f"<html><head><title>{title}</title><script>var a=1;</script></head><body><div id='zoom'><p>{title}，正文若干字。</p></div></body></html>"
    resp = Response(200, site.url + "/a.html", {"content-type": "text/html; charset=utf-8"}, body.encode())
    if is_error:
        with pytest.raises(ChallengeError, match="error page"):
            page_of(resp, "s")
    else:
        page_of(resp, "s")
    # An image-only notice is content, not a script wall.
    img = b"<html><head><script>var a=1;</script></head><body><div id='zoom'><img src='/n.png'></div></body></html>"
    page_of(Response(200, site.url + "/b.html", {}, img), "s")
