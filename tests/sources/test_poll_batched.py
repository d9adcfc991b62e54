"""The poll at a year's scale (issue 19): detail pages read several at a time within the
politeness, stored a batch per transaction with each item still failing alone, over kept-alive
connections whose requests the deadline still cuts, and an unchanged list that reads no rows
but the few it re-checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sources_portal import Page, Portal
from sqlalchemy import event, text
from sqlmodel import col, select
from test_sources_changes import COL, Site

import pusher.stages.poll as poll
from feeds.http import Http
from pusher.config.settings import HttpSettings
from pusher.errors import FetchError
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.states import ItemState
from pusher.store.models import Item
from pusher.timeutil import utcnow

TITLES = [f"关于2026年第{n}批政府信息公开事项的公告" for n in range(1, 31)]


def portal_of(site: Portal, n: int) -> Site:
    s = Site(site)
    for aid in range(1, n + 1):
        s.add(aid, TITLES[aid - 1], index_no=f"330784/2026-{aid:04d}", date=f"2026-11-{1 + aid % 28:02d}")
    s.publish()
    return s


def stored(rt: Runtime) -> list[Item]:
    with rt.store.read() as db:
        return list(db.exec(select(Item).order_by(col(Item.id))))


def write_transactions(rt: Runtime) -> list[str]:
    begun: list[str] = []

    @event.listens_for(rt.store.engine, "before_cursor_execute")
    def seen(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            begun.append(statement)

    return begun


def test_a_cold_poll_stores_its_items_in_a_few_transactions_in_list_order(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    s = portal_of(site, 30)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    begun = write_transactions(rt)
    rep = poll_source(rt, "col1001")
    assert (rep.new, rep.item_errors) == (30, [])
    # One batch of 30, the missing-count update and the poll's record: not one per item.
    assert len(begun) <= 3, f"{len(begun)} write transactions for 30 items"
    # Written in the list's order (newest first, as the portal lists them), whichever read finished first.
    assert [i.url for i in stored(rt)] == [s.url(a) for a in s.listed]
    assert poll_source(rt, "col1001").status == "not_modified"


def test_an_item_the_store_refuses_fails_alone_and_is_read_again_next_poll(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    s = portal_of(site, 6)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    refused = s.url(3)
    with rt.store.write() as db:  # a real refusal by the database, for that one row
        db.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON item WHEN NEW.url = '{refused}' "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))  # fmt: skip
    rep = poll_source(rt, "col1001")
    assert rep.new == 5
    assert len(rep.item_errors) == 1 and refused in rep.item_errors[0] and "refused by the test" in rep.item_errors[0]
    assert refused not in {i.url for i in stored(rt)}
    with rt.store.write() as db:
        db.execute(text("DROP TRIGGER refuse"))
    # The list's validators were not kept beside a missing item: the list is read in full, not 304.
    rep = poll_source(rt, "col1001")
    assert (rep.status, rep.new, rep.item_errors) == ("ok", 1, [])
    assert {i.url for i in stored(rt)} == {s.url(a) for a in range(1, 7)}


def test_a_changed_item_the_store_refuses_keeps_its_old_version_and_the_others_change(
    site: Portal, make_runtime: Callable[..., Runtime]
) -> None:
    s = portal_of(site, 4)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    poll_source(rt, "col1001")
    for aid in (1, 2, 3):
        s.articles[aid]["title"] += "（更正）"
    s.publish()
    with rt.store.write() as db:
        db.execute(text(f"CREATE TRIGGER refuse BEFORE UPDATE OF title ON item WHEN NEW.url = '{s.url(2)}' "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))  # fmt: skip
    rep = poll_source(rt, "col1001")
    assert rep.changed == 2 and len(rep.item_errors) == 1 and s.url(2) in rep.item_errors[0]
    by_url = {i.url: i for i in stored(rt)}
    assert by_url[s.url(2)].version == 1 and not by_url[s.url(2)].title.endswith("（更正）")
    assert by_url[s.url(1)].version == 2 and by_url[s.url(1)].title.endswith("（更正）")


def slow_pages(site: Portal, s: Site, seconds: float) -> None:
    """Every detail page answers after ``seconds`` (a portal tens of ms away, made obvious)."""
    for aid in s.articles:
        page = site.routes[s.path(aid)]
        assert isinstance(page, Page)

        def answer(h: BaseHTTPRequestHandler, page: Page = page) -> None:
            time.sleep(seconds)
            Portal._page(h, page)

        site.routes[s.path(aid)] = answer


@pytest.mark.parametrize("per_host", [1, 3])
def test_detail_pages_are_read_several_at_a_time_never_more_than_per_host(
    site: Portal, make_runtime: Callable[..., Runtime], per_host: int
) -> None:
    s = portal_of(site, 12)
    slow_pages(site, s, 0.2)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}], http={"per_host": per_host, "timeout": 5.0})
    rep = poll_source(rt, "col1001")
    assert (rep.new, rep.item_errors) == (12, [])
    assert site.max_in_flight == per_host
    assert [i.url for i in stored(rt)] == [s.url(a) for a in s.listed]


def test_a_stop_keeps_the_items_taken_and_the_next_poll_reads_the_rest(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    s = portal_of(site, 12)
    slow_pages(site, s, 0.05)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}], http={"per_host": 3, "timeout": 5.0})
    real = rt.images.fetch
    taken: list[str] = []

    def fetch(http: Any, doc: Any) -> int:
        taken.append(doc.url)
        if len(taken) == 4:
            rt.stopping.set()  # SIGTERM while three more pages are in flight
        return int(real(http, doc))

    rt.images.fetch = fetch  # type: ignore[method-assign]
    poll_source(rt, "col1001")
    assert [i.url for i in stored(rt)] == taken == [s.url(a) for a in s.listed[:4]]
    rt.stopping.clear()
    rep = poll_source(rt, "col1001")
    assert (rep.status, rep.new) == ("ok", 8)


def test_an_unchanged_list_reads_only_the_rows_it_rechecks(
    site: Portal, make_runtime: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = portal_of(site, 3)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}])
    poll_source(rt, "col1001")
    now = utcnow()
    with rt.store.write() as db:
        for n in range(300):  # a year of items checked a moment ago: none is due
            db.add(Item(source="col1001", url=f"{site.url}/art/old/art_{n}.html", title=f"旧通知{n}", state=ItemState.PUBLISHED,
                        published=now - timedelta(days=30 + n), checked_at=now, text="正文" * 200))  # fmt: skip
        for item in db.exec(select(Item).where(col(Item.url).in_([s.url(1), s.url(2)]))):
            item.checked_at = now - timedelta(days=1)  # these two are due for a re-check
    read: list[Any] = []
    real = poll.known_of
    monkeypatch.setattr(poll, "known_of", lambda row: read.append(row) or real(row))
    site.hits.clear()
    rep = poll_source(rt, "col1001")
    assert (rep.status, rep.rechecked, rep.unchanged) == ("not_modified", 2, 2)
    assert sorted(site.paths()) == sorted([COL, s.path(1), s.path(2)])
    assert len(read) == 2, f"an unchanged list read {len(read)} item rows"


def count_ports(site: Portal, s: Site) -> list[int]:
    ports: list[int] = []
    for aid in s.articles:
        page = site.routes[s.path(aid)]
        assert isinstance(page, Page)

        def answer(h: BaseHTTPRequestHandler, page: Page = page) -> None:
            ports.append(h.client_address[1])
            Portal._page(h, page)

        site.routes[s.path(aid)] = answer
    return ports


def test_one_connection_carries_the_requests_of_a_poll(site: Portal, make_runtime: Callable[..., Runtime]) -> None:
    s = portal_of(site, 8)
    ports = count_ports(site, s)
    rt = make_runtime([{"name": "col1001", "kind": "hanweb", "url": site.url + COL}], http={"per_host": 1})
    assert poll_source(rt, "col1001").new == 8
    assert len(ports) == 8 and len(set(ports)) == 1, f"{len(set(ports))} connections for 8 pages"


def test_the_deadline_cuts_a_drip_on_a_kept_alive_connection(site: Portal) -> None:
    ports: list[int] = []
    body = b"<html><body><p>ok</p></body></html>"

    def fast(h: BaseHTTPRequestHandler) -> None:
        ports.append(h.client_address[1])
        Portal._page(h, Page(body))

    def drip(h: BaseHTTPRequestHandler) -> None:
        ports.append(h.client_address[1])
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for c in b"X-Slow: " + b"a" * 60:
            h.wfile.write(bytes([c]))
            h.wfile.flush()
            time.sleep(0.5)

    site.routes["/fast"], site.routes["/drip"] = fast, drip
    with Http(HttpSettings(timeout=1.0, delay=0.0), hosts={site.url}) as http:
        assert http.get(site.url + "/fast").body == body
        with pytest.raises(FetchError, match="within"):
            http.get(site.url + "/drip")
    assert len(ports) == 2 and ports[0] == ports[1], "the drip was not on the kept-alive connection"


def test_a_kept_alive_connection_the_portal_dropped_is_replaced_once(site: Portal) -> None:
    body = b"<html><body><p>ok</p></body></html>"
    served: list[tuple[int, int]] = []
    lock = threading.Lock()

    def flaky(h: BaseHTTPRequestHandler) -> None:
        with lock:
            n = getattr(h, "tvp_requests", 0) + 1
            h.tvp_requests = n  # type: ignore[attr-defined]  # one handler per connection
            served.append((h.client_address[1], n))
        if n > 1:
            h.close_connection = True  # the portal closed it while it was idle: no answer at all
            return
        Portal._page(h, Page(body))

    site.routes["/flaky"] = flaky
    with Http(HttpSettings(timeout=2.0, delay=0.0), hosts={site.url}) as http:
        assert http.get(site.url + "/flaky").body == body
        assert http.get(site.url + "/flaky").body == body
        assert http.requests == 2
    assert [n for _, n in served] == [1, 2, 1] and served[0][0] == served[1][0] != served[2][0]
