"""Change detection against a portal that changes between polls: new, changed, withdrawn, duplicate.

The portal is a Hanweb-style site on loopback (column page with an embedded <datastore>,
article pages with a 信息公开 table); the store is a real SQLite file.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import pytest
from sources_portal import Page, Portal
from sqlmodel import select

import pusher.stages.poll as poll
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.states import ItemState
from pusher.store.models import Item

COL = "/col/col1001/index.html"


class Site:
    """Articles by id; ``publish()`` regenerates the column page and the article pages."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.articles: dict[int, dict[str, str]] = {}
        self.listed: list[int] = []

    def add(self, aid: int, title: str, *, index_no: str = "", date: str = "2026-11-20", text: str = "", listed: bool = True) -> None:
        self.articles[aid] = {"title": title, "index_no": index_no, "date": date, "text": text or f"{title}的正文。"}
        if listed:
            self.listed.insert(0, aid)

    def path(self, aid: int) -> str:
        d = self.articles[aid]["date"]
        y, m, day = (int(x) for x in d.split("-"))
        return f"/art/{y}/{m}/{day}/art_1001_{aid}.html"

    def url(self, aid: int) -> str:
        return self.portal.url + self.path(aid)

    def publish(self) -> None:
        recs = "".join(
            f'<record><![CDATA[<li><a href="{self.path(a)}" title="{html.escape(self.articles[a]["title"])}">'
            f"{html.escape(self.articles[a]['title'][:12])}...</a><span>{self.articles[a]['date']}</span></li>]]></record>"
            for a in self.listed
        )
        column = f"""<html><head><meta charset="utf-8"><meta name="ColumnName" content="通知公告"><title>通知公告</title></head>
<body><div>首页 &gt; 通知公告</div><div id="4401"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=1001&unitid=4401"></a>]]></nextgroup>
<recordset>{recs}</recordset></datastore></script></div></body></html>"""
        self.portal.routes[COL] = Page(column.encode())
        for aid, a in self.articles.items():
            meta = f"<tr><td>索引号</td><td>{a['index_no']}</td></tr>" if a["index_no"] else ""
            page = f"""<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{html.escape(a["title"])}">
<meta name="PubDate" content="{a["date"]} 10:00"><title>{html.escape(a["title"])}</title></head>
<body><table class="xxgk">{meta}<tr><td>发布机构</td><td>市政府办公室</td></tr></table>
<div id="zoom"><p>{html.escape(a["text"])}</p></div></body></html>"""
            self.portal.routes[self.path(aid)] = Page(page.encode())

    def remove_page(self, aid: int) -> None:
        self.portal.routes.pop(self.path(aid), None)


@pytest.fixture
def site_rt(site: Portal, make_runtime: Callable[..., Runtime]) -> tuple[Site, Runtime]:
    s = Site(site)
    s.add(1, "关于2026年冬季森林防火工作的通告", index_no="330784/2026-0001", date="2026-11-20")
    s.add(2, "关于调整城区部分公交线路的公告", index_no="330784/2026-0002", date="2026-11-18")
    s.add(3, "永康市2026年秋季征兵工作公告", date="2026-11-15")
    s.publish()
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    return s, rt


def items(rt: Runtime) -> dict[str, Item]:
    with rt.store.read() as db:
        return {i.url: i for i in db.exec(select(Item))}


def test_new_items_then_idle(site_rt: tuple[Site, Runtime]) -> None:
    s, rt = site_rt
    r1 = poll_source(rt, "col1001")
    assert (r1.status, r1.new, r1.requests) == ("ok", 3, 4)
    got = items(rt)
    assert {i.state for i in got.values()} == {ItemState.NEW}
    # @title, not the truncated list text, and the detail's own metadata.
    assert got[s.url(1)].title == "关于2026年冬季森林防火工作的通告"
    assert got[s.url(1)].index_no == "330784/2026-0001"

    # Nothing changed: one conditional request, answered 304.
    s.portal.hits.clear()
    r2 = poll_source(rt, "col1001")
    assert (r2.status, r2.new, r2.changed, r2.requests) == ("not_modified", 0, 0, 1)
    assert s.portal.hits[0].headers.get("if-none-match")

    # One new article on the portal: the column page changes, one detail page is read.
    s.add(4, "永康市2026年10月环境空气质量状况", date="2026-11-22")
    s.publish()
    s.portal.hits.clear()
    r3 = poll_source(rt, "col1001")
    assert (r3.new, r3.changed, r3.withdrawn) == (1, 0, 0)
    assert s.portal.paths() == [COL, s.path(4)]
    assert items(rt)[s.url(4)].state == ItemState.NEW


def test_changed_item_gets_a_new_version(site_rt: tuple[Site, Runtime], monkeypatch: pytest.MonkeyPatch) -> None:
    s, rt = site_rt
    poll_source(rt, "col1001")
    with rt.store.write() as db:
        for i in db.exec(select(Item)):
            i.state = ItemState.PUBLISHED

    # The article's text is corrected; its list line is not (the column page answers 304).
    s.articles[2]["text"] = "更正：K3路首班时间调整为6:30。"
    s.publish()
    r = poll_source(rt, "col1001")
    assert r.changed == 0, "re-checks are due only after RECHECK_AFTER"

    monkeypatch.setattr(poll, "RECHECK_AFTER", timedelta(0))
    s.portal.hits.clear()
    r = poll_source(rt, "col1001")
    assert (r.changed, r.new, r.rechecked, r.unchanged) == (1, 0, 3, 2)
    # Re-checks are conditional: the unchanged pages answered 304.
    details = [h for h in s.portal.hits if h.path.startswith("/art/")]
    assert all(h.headers.get("if-none-match") for h in details)
    got = items(rt)
    changed = got[s.url(2)]
    assert (changed.version, changed.state) == (2, ItemState.NEW)
    assert "6:30" in changed.text
    assert got[s.url(1)].version == 1 and got[s.url(1)].state == ItemState.PUBLISHED

    # A changed list line (new title) makes the detail be read at once, due or not.
    monkeypatch.setattr(poll, "RECHECK_AFTER", timedelta(hours=6))
    s.articles[3]["title"] = "永康市2026年秋季征兵工作公告（修订）"
    s.publish()
    r = poll_source(rt, "col1001")
    assert r.changed == 1
    assert items(rt)[s.url(3)].title == "永康市2026年秋季征兵工作公告（修订）"


def test_withdrawn_when_the_page_is_gone(site_rt: tuple[Site, Runtime], monkeypatch: pytest.MonkeyPatch) -> None:
    s, rt = site_rt
    poll_source(rt, "col1001")
    s.remove_page(1)  # 404, still listed
    monkeypatch.setattr(poll, "RECHECK_AFTER", timedelta(0))
    r = poll_source(rt, "col1001")
    assert r.withdrawn == 1
    item = items(rt)[s.url(1)]
    assert item.state == ItemState.WITHDRAWN and "HTTP 404" in item.state_reason


def test_withdrawn_when_missing_from_the_list(site_rt: tuple[Site, Runtime]) -> None:
    s, rt = site_rt
    poll_source(rt, "col1001")
    s.listed.remove(2)  # off the column, page still there
    s.publish()
    reports = [poll_source(rt, "col1001") for _ in range(poll.MISSING_POLLS_TO_WITHDRAW)]
    assert [r.withdrawn for r in reports] == [0] * (poll.MISSING_POLLS_TO_WITHDRAW - 1) + [1]
    assert reports[-1].status == "not_modified"  # later polls were 304s, and still counted
    got = items(rt)
    assert got[s.url(2)].state == ItemState.WITHDRAWN
    assert got[s.url(1)].state == ItemState.NEW and got[s.url(3)].state == ItemState.NEW

    # It comes back: read again at once, live again.
    s.listed.insert(1, 2)
    s.publish()
    r = poll_source(rt, "col1001")
    assert r.changed == 1
    assert items(rt)[s.url(2)].state == ItemState.NEW


def test_duplicates_by_index_no_and_by_title_and_date(site_rt: tuple[Site, Runtime], monkeypatch: pytest.MonkeyPatch) -> None:
    s, rt = site_rt
    poll_source(rt, "col1001")
    # The same notice under a second URL: same 索引号 (title differs), and same title + date (no 索引号).
    s.add(11, "关于2026年冬季森林防火工作的通告（转载）", index_no="330784/2026-0001", date="2026-11-21")
    s.add(13, "永康市2026年秋季征兵工作公告", date="2026-11-15")
    s.publish()
    r = poll_source(rt, "col1001")
    assert (r.new, r.duplicates) == (0, 2)
    got = items(rt)
    for dup, orig in ((11, 1), (13, 3)):
        assert got[s.url(dup)].duplicate_of == got[s.url(orig)].id
        assert got[s.url(dup)].state == ItemState.WITHDRAWN  # never aired twice

    # A later poll leaves the duplicates alone…
    r = poll_source(rt, "col1001")
    assert (r.new, r.changed, r.duplicates) == (0, 0, 0)
    # …until the original is withdrawn: the duplicate takes its place.
    s.remove_page(1)
    monkeypatch.setattr(poll, "RECHECK_AFTER", timedelta(0))
    r = poll_source(rt, "col1001")
    assert r.withdrawn == 1
    got = items(rt)
    assert got[s.url(1)].state == ItemState.WITHDRAWN
    assert got[s.url(11)].state == ItemState.NEW and got[s.url(11)].duplicate_of is None


def test_feed_without_detail_pages(site: Portal, make_runtime: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch) -> None:
    def feed(desc: str) -> bytes:
        items = "".join(
            f"<item><title>第{i}号通告</title><link>/art/{i}.html</link><pubDate>2026-11-2{i} 10:00:00.0</pubDate>"
            f"<description><![CDATA[<p>{desc}{i}</p>]]></description></item>"
            for i in (1, 2)
        )
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()

    site.routes["/rss.xml"] = Page(feed("正文"), content_type="text/xml")
    rt = make_runtime([{"name": "feed", "kind": "rss", "url": site.url + "/rss.xml", "options": {"fetch_details": False}}])
    assert poll_source(rt, "feed").new == 2
    monkeypatch.setattr(poll, "RECHECK_AFTER", timedelta(0))
    r = poll_source(rt, "feed")
    assert (r.status, r.changed, r.item_errors, r.requests) == ("not_modified", 0, [], 1)
    site.routes["/rss.xml"] = Page(feed("更正后的正文"), content_type="text/xml")
    r = poll_source(rt, "feed")
    assert (r.changed, r.item_errors, r.requests) == (2, [], 1)
    assert all("更正后的正文" in i.text for i in items(rt).values())


def test_recheck_interval_per_source_and_on_demand(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    s = Site(site)
    s.add(1, "关于2026年冬季森林防火工作的通告", date="2026-11-20")
    s.add(2, "关于调整城区部分公交线路的公告", date="2026-11-18")
    s.publish()
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL, "recheck": 86400}])
    poll_source(rt, "col1001")
    s.articles[2]["text"] = "更正：K3路首班时间调整为6:30。"
    s.publish()
    assert poll_source(rt, "col1001").changed == 0  # not due for a day
    ids = {i.url: i.id for i in items(rt).values()}
    r = poll_source(rt, "col1001", recheck={ids[s.url(1)]})
    assert (r.rechecked, r.changed) == (1, 0)  # only the item asked for, though not due
    r = poll_source(rt, "col1001", recheck=True)
    assert (r.rechecked, r.changed) == (2, 1)
