"""Issue 15, finding 2: the port is part of the host check.

A hostile portal on 127.0.0.1 points its RSS links, HTTP redirects, detail-page redirects, image
redirects and Hanweb ``<nextgroup>`` at an "internal" service on another port of the same host.
That service must never be reached, and its text must never get on air; the portal's own items
still do.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_site import Site, article, runtime, serving
from PIL import Image
from sqlmodel import select

from feeds.channel import headend_manifest
from feeds.http import Http
from feeds.sources.common import resolve
from feeds.urls import Origins
from pusher.config.settings import HttpSettings
from pusher.errors import FetchError
from pusher.ops import run_cycle
from pusher.store.models import Item

SECRET = "内部系统机密数据"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def internal() -> Iterator[Site]:
    """The service no source may reach: every path it knows answers with its secret."""
    with serving() as s:
        for path in ("/secret.html", "/art/r2.html", "/art/9.html", "/secret.png", "/x.png"):
            s.html(path, article(SECRET, f"{SECRET}：数据库口令、内部通讯录。" * 3))
        s.raw("/secret.png", _png(), "image/png")
        s.raw("/x.png", _png(), "image/png")
        s.html("/module/jpage/dataproxy.jsp?startrecord=2&endrecord=46&perpage=15", _datastore([("/art/9.html", SECRET)], 5))
        yield s


def _datastore(records: list[tuple[str, str]], total: int, nextgroup: str = "") -> str:
    recs = "".join(f'<record><![CDATA[<li><a href="{u}" title="{t}">{t}</a><span>2026-11-20</span></li>]]></record>' for u, t in records)
    ng = f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>' if nextgroup else ""
    return f"<datastore>{ng}<recordset>{recs}</recordset><totalrecord>{total}</totalrecord></datastore>"


@pytest.fixture
def portal(internal: Site) -> Iterator[Site]:
    inside = internal.url
    with serving() as p:
        # An HTML column: a good article, one that redirects inside, one whose pictures (and a
        # meta refresh) lead inside, and a link straight to the other port.
        p.html(
            "/list.html",
            "<html><body><ul>"
            "<li><a href='/art/1.html'>关于冬季森林防火的通告</a></li>"
            "<li><a href='/art/2.html'>关于调整公交线路的通知</a></li>"
            "<li><a href='/art/3.html'>关于开展文明城市创建的通知</a></li>"
            f"<li><a href='{inside}/art/9.html'>内部链接</a></li>"
            "</ul></body></html>",
        )
        p.html("/art/1.html", article("关于冬季森林防火的通告", "请各单位做好冬季森林防火工作，严禁野外用火。"))
        p.redirect("/art/2.html", f"{inside}/secret.html")
        p.html(
            "/art/3.html",
            article(
                "关于开展文明城市创建的通知",
                f"全市开展文明城市创建工作。<img src='/img/a.png' alt='示意图'><img src='{inside}/x.png' alt='图二'>",
                extra=f"<meta http-equiv='refresh' content='0;url={inside}/secret.html'>",
            ),
        )
        p.redirect("/img/a.png", f"{inside}/secret.png")
        # An RSS feed: one item on the portal, one on the other port.
        p.raw(
            "/rss.xml",
            (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
                f"<item><title>关于供水管网改造的公告</title><link>{p.url}/art/r1.html</link></item>"
                f"<item><title>内部条目</title><link>{inside}/art/r2.html</link></item>"
                "</channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        p.html("/art/r1.html", article("关于供水管网改造的公告", "城区供水管网改造期间部分路段将临时停水。"))
        # A Hanweb column whose <nextgroup> sends the rest of the column's POST inside.
        p.html(
            "/col/col1/index.html",
            "<html><head><meta name='ColumnName' content='通知公告'></head><body>"
            + _datastore([("/art/h1.html", "关于农村公路养护的通知")], 5, f"{inside}/module/jpage/dataproxy.jsp?col=1&appid=1&webid=1")
            + "</body></html>",
        )
        p.html(
            "/module/jpage/dataproxy.jsp?startrecord=2&endrecord=46&perpage=15",
            _datastore([("/art/h2.html", "关于秋季征兵工作的公告")], 5),
        )
        p.html("/art/h1.html", article("关于农村公路养护的通知", "全市农村公路养护工作将于下月开始。"))
        p.html("/art/h2.html", article("关于秋季征兵工作的公告", "2026年秋季征兵工作即日起开始报名。"))
        yield p


def test_nothing_from_another_port_reaches_the_air(portal: Site, internal: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rt = runtime(
        tmp_path,
        [
            {"name": "html", "kind": "html", "url": f"{portal.url}/list.html", "options": {"link_pattern": "/art/"}},
            {"name": "rss", "kind": "rss", "url": f"{portal.url}/rss.xml"},
            {"name": "hanweb", "kind": "hanweb", "url": f"{portal.url}/col/col1/index.html"},
        ],
    )
    try:
        rep = run_cycle(rt)
        assert rep.version == 1 and rep.delivered
        assert internal.hits == [], f"the internal service was reached: {internal.hits}"
        manifest = headend_manifest(tmp_path / "headend").decode("utf-8")
        assert SECRET not in manifest and "内部" not in manifest
        with rt.store.read() as db:
            items = list(db.exec(select(Item)))
        assert not any(SECRET in repr(it.model_dump()) for it in items)
        for title in (
            "关于冬季森林防火的通告",
            "关于开展文明城市创建的通知",
            "关于供水管网改造的公告",
            "关于农村公路养护的通知",
            "关于秋季征兵工作的公告",
        ):
            assert title in manifest, title
        # The Hanweb form went to the column's own dataproxy, not to the one <nextgroup> named.
        assert ("POST", "/module/jpage/dataproxy.jsp?startrecord=2&endrecord=46&perpage=15") in portal.hits
        # The article that redirected inside failed alone, and the log says why.
        assert not any(it.url.endswith("/art/2.html") for it in items)
        assert f"http://127.0.0.1:{internal.port} is not one the source allows" in caplog.text
    finally:
        rt.close()


def test_an_origin_is_scheme_host_and_port(portal: Site, internal: Site) -> None:
    same_host_other_port = f"{internal.url}/secret.html"
    settings = HttpSettings(timeout=2.0, delay=0.0, max_redirects=3)
    # The source's own URL allows its own port only.
    with Http(settings, source="s", hosts={f"{portal.url}/list.html"}) as http:
        assert http.get(f"{portal.url}/art/1.html").status == 200
        with pytest.raises(FetchError, match=f"http://127.0.0.1:{internal.port} is not one the source allows"):
            http.get(same_host_other_port)
        with pytest.raises(FetchError, match="not one the source allows"):
            http.get(f"{portal.url}/art/2.html")  # the redirect hop is checked, not only the first URL
        with pytest.raises(FetchError, match="not one the source allows"):
            http.post(f"{internal.url}/module/jpage/dataproxy.jsp", {"col": "1"})
    # A listed host without a port is the scheme's default port, not every port of that host.
    with Http(settings, source="s", hosts={f"{portal.url}/", "127.0.0.1"}) as http, pytest.raises(FetchError):
        http.get(same_host_other_port)
    # A listed host:port is that port.
    with Http(settings, source="s", hosts={f"{portal.url}/", f"127.0.0.1:{internal.port}"}) as http:
        assert http.get(same_host_other_port).status == 200
    assert internal.hits == [("GET", "/secret.html")]  # only the one the operator allowed

    allowed = Origins.of([f"{portal.url}/list.html", "www.yk.gov.cn", "xxgk.yk.gov.cn:8080"])
    assert resolve(portal.url, f"{internal.url}/a.html", allowed) is None
    assert resolve(portal.url, "/a.html", allowed) == f"{portal.url}/a.html"
    assert resolve(portal.url, "https://www.yk.gov.cn/a.html", allowed) == "https://www.yk.gov.cn/a.html"
    assert resolve(portal.url, "http://www.yk.gov.cn:8081/a.html", allowed) is None
    assert resolve(portal.url, "http://xxgk.yk.gov.cn:8080/a.html", allowed) == "http://xxgk.yk.gov.cn:8080/a.html"
    assert resolve(portal.url, "http://xxgk.yk.gov.cn/a.html", allowed) is None
