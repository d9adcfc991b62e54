"""The real saved portal pages, served over loopback as-is, re-encoded and mislabelled.

Whatever the bytes and labels, each adapter must read the same title, date, 索引号 and body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from zoneinfo import ZoneInfo

import pytest
from conftest import SAMPLES
from sources_portal import Page, Portal

from feeds.http import Http
from pusher.config.settings import HttpSettings, SourceSettings
from pusher.interfaces import Document, ListEntry, Source
from pusher.registry import SOURCES

SH = ZoneInfo("Asia/Shanghai")
_LABEL = re.compile(r"charset=[\"']?UTF-8", re.I)


def _relabel(text: str, label: str) -> str:
    return _LABEL.sub(f"charset={label}", text)


# name -> (bytes, Content-Type header)
VARIANTS: dict[str, Callable[[str], tuple[bytes, str]]] = {
    "as-is": lambda t: (t.encode("utf-8"), "text/html; charset=UTF-8"),
    "gb18030": lambda t: (_relabel(t, "GB2312").encode("gb18030"), "text/html; charset=GBK"),
    # GB18030 bytes that still say UTF-8, in the page and in the header.
    "gb-labelled-utf8": lambda t: (t.encode("gb18030"), "text/html; charset=UTF-8"),
    # UTF-8 bytes labelled gb2312 in the page, with the usual ISO-8859-1 header.
    "utf8-labelled-gb": lambda t: (_relabel(t, "gb2312").encode("utf-8"), "text/html; charset=ISO-8859-1"),
    # GB18030 bytes labelled EUC-KR: they decode without error, into nonsense.
    "gb-labelled-euckr": lambda t: (_relabel(t, "euc-kr").encode("gb18030"), "text/html"),
}


def sample(prefix: str) -> str:
    path = next(SAMPLES.glob(f"{prefix}_*"))
    return path.read_text(encoding="utf-8")


def make_source(kind: str, url: str, **extra: object) -> Source:
    opts = extra.pop("options", {})
    s = SourceSettings(name="s", kind=kind, url=url, column="tzgg", **extra)  # type: ignore[arg-type]
    return SOURCES.get(kind).factory(s.spec(), SOURCES.validate_options(kind, opts))


def http_for(portal: Portal, *hosts: str) -> Http:
    return Http(HttpSettings(timeout=2.0, delay=0.0), source="s", hosts={portal.url, *hosts})


def facts(doc: Document) -> tuple[object, ...]:
    return (doc.title, doc.published, doc.index_no, doc.publisher, doc.topic, doc.blocks)


def read_detail(site: Portal, kind: str, prefix: str, variant: str) -> Document:
    body, ctype = VARIANTS[variant](sample(prefix))
    site.routes["/art/detail.html"] = Page(body, content_type=ctype)
    src = make_source(kind, site.url + "/list.html")
    with http_for(site) as http:
        doc = src.detail(http, ListEntry(url=site.url + "/art/detail.html", title="列表标题..."))
    assert isinstance(doc, Document)
    return doc


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hanweb_detail_sample(site: Portal, variant: str) -> None:
    doc = read_detail(site, "hanweb", "01", variant)
    assert doc.title == "1-10月德清县固定资产投资结构趋稳趋优"
    # PubDate, not Maketime (2019-03-22 12:28:37), and read as Beijing time.
    assert doc.published == datetime(2016, 11, 22, 9, 53, tzinfo=SH)
    assert doc.publisher == "省发改委"  # <meta contentSource> and the <!--<$[信息来源]>--> marker
    assert doc.column == "投资运行"
    assert doc.index_no == ""
    assert doc.blocks[0].text.startswith("1-10月，全县固定资产投资完成246.79亿元")
    assert doc.blocks[0].text.endswith("（德清县发改局）")
    assert "分享" not in doc.text and "打印" not in doc.text
    assert facts(doc) == facts(read_detail(site, "hanweb", "01", "as-is"))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_trs_detail_sample(site: Portal, variant: str) -> None:
    doc = read_detail(site, "trs", "04", variant)
    assert doc.title == "邯郸市教育局关于印发《全市教育系统安全专项整治三年行动实施方案》的通知"
    assert doc.index_no == "000014348/2020-35147"
    assert doc.published == datetime(2020, 8, 2, tzinfo=SH)
    assert doc.publisher == "邯郸市教育局"
    assert doc.topic == "教育"
    assert doc.doc_no == ""  # "文号：无"
    assert doc.column == "部门信息公开"
    # The saver removed the body: what is left is the metadata, not the page's navigation.
    assert doc.blocks[0].kind == "table"
    assert ("索引号", "000014348/2020-35147") in doc.blocks[0].rows
    assert "邯郸成语" not in doc.text
    assert facts(doc) == facts(read_detail(site, "trs", "04", "as-is"))


def list_trs(site: Portal, variant: str) -> list[ListEntry]:
    body, ctype = VARIANTS[variant](sample("05"))
    site.routes["/zfwj/jinqixxgk/index.html"] = Page(body, content_type=ctype)
    src = make_source("trs", site.url + "/zfwj/jinqixxgk/index.html", hosts=("hdzfxxgk.hd.gov.cn",))
    with http_for(site, "hdzfxxgk.hd.gov.cn") as http:
        listing = src.list(http, {})
    # countPage=56: the adapter asked for the second page (index_1.html), which this server lacks.
    assert "/zfwj/jinqixxgk/index_1.html" in site.paths()
    assert listing.complete is False
    return list(listing.entries)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_trs_list_sample(site: Portal, variant: str) -> None:
    entries = list_trs(site, variant)
    assert [(e.url, e.title, e.published) for e in entries] == [
        (
            "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200805_1353179.html",
            "邯郸市教育局关于印发《邯郸市学校安全工作目标管理考核办法》的通知",
            datetime(2020, 8, 5, tzinfo=SH),
        )
    ]
    assert entries[0].column == "邯郸市政府信息公开"


def _records() -> tuple[str, list[str]]:
    xml = sample("08")
    head = xml[: xml.index("<recordset>")]
    recs = re.findall(r"<record>.*?</record>", xml, re.S)
    return head, recs


def column_page(records: list[str], total: int) -> str:
    head, _ = _records()
    store = f"{head}<totalrecord>{total}</totalrecord><recordset>{''.join(records)}</recordset></datastore>"
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="ColumnName" content="通知公告"><title>通知公告 定西市人民政府</title></head>
<body><div class="nav">首页 政务公开 通知公告</div>
<div id="38486"><script type="text/xml">{store.strip()}</script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script></body></html>"""


def dataproxy(records: list[str]) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(h: BaseHTTPRequestHandler) -> None:
        form = h.form  # type: ignore[attr-defined]
        start, end = int(form["startrecord"][0]), int(form["endrecord"][0])
        body = (
            '<?xml version="1.0" encoding="GB2312"?><datastore><totalrecord>'
            + str(len(records))
            + "</totalrecord><recordset>"
            + "".join(records[start - 1 : end])
            + "</recordset></datastore>"
        ).encode("gb18030")
        h.send_response(200)
        h.send_header("Content-Type", "text/xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


def list_hanweb(site: Portal, variant: str, embedded: int, hosts: tuple[str, ...] = ()) -> list[ListEntry]:
    _, recs = _records()
    body, ctype = VARIANTS[variant](column_page(recs[:embedded], len(recs)))
    site.routes["/col/col12377/index.html"] = Page(body, content_type=ctype)
    site.post_routes["/module/web/jpage/dataproxy.jsp"] = dataproxy(recs)
    src = make_source("hanweb", site.url + "/col/col12377/index.html", hosts=hosts)
    with http_for(site, *hosts) as http:
        listing = src.list(http, {})
    assert listing.complete
    return list(listing.entries)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hanweb_datastore_sample(site: Portal, variant: str) -> None:
    entries = list_hanweb(site, variant, embedded=45)
    assert site.paths("POST") == []  # all 45 records were in the page
    # 45 records, one of them an absolute link to zwgk.dingxi.gov.cn: not a host this source lists.
    assert len(entries) == 44
    assert all(e.url.startswith(site.url + "/art/") for e in entries)
    first = entries[0]
    assert first.title == "定西市“春节”文明祭祀倡议书"
    assert first.published == datetime(2022, 1, 20, tzinfo=SH)
    assert first.column == "通知公告"
    # Truncated link text ("…检...") gives way to @title.
    assert not any(e.title.endswith(("...", "…")) for e in entries)
    assert "定西市人民政府办公室关于2021年第四季度全市政府网站和政务新媒体检查情况的通报" in [e.title for e in entries]
    assert entries == list_hanweb(site, "as-is", embedded=45)


def test_hanweb_dataproxy_pages(site: Portal) -> None:
    whole = list_hanweb(site, "as-is", embedded=45, hosts=("zwgk.dingxi.gov.cn",))
    assert len(whole) == 45  # the cross-host link is kept once its host is listed
    site.hits.clear()
    paged = list_hanweb(site, "gb18030", embedded=15, hosts=("zwgk.dingxi.gov.cn",))
    assert paged == whole
    posts = [h for h in site.hits if h.method == "POST"]
    assert [h.path for h in posts] == ["/module/web/jpage/dataproxy.jsp"]
    form = posts[0].form
    assert form["startrecord"] == ["16"] and form["endrecord"] == ["60"] and form["perpage"] == ["15"]
    # The form fields come from the page's <nextgroup> link.
    assert form["columnid"] == ["12377"] and form["unitid"] == ["38486"] and form["webid"] == ["110"]
