"""Hostile sources over real HTTP: each fails alone, with one clear error; the others still arrive."""

from __future__ import annotations

import functools
import gzip
import itertools
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest
from sources_portal import Page, Portal
from sqlmodel import select

from feeds.http import Http
from pusher.config.settings import HttpSettings
from pusher.errors import BodyTooLarge, FetchError
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.store.models import Item, SourceRow

CAP = 10 * 1024 * 1024


def _close_delimited(h: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
    h.send_response(200)
    for k, v in headers.items():
        h.send_header(k, v)
    h.send_header("Connection", "close")
    h.end_headers()
    h.close_connection = True


def fifty_megabytes(h: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the cap must hold while streaming, not only on the declared size.
    _close_delimited(h, {"Content-Type": "text/html"})
    chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
    for _ in range(50):
        h.wfile.write(chunk)


@functools.cache
def bomb() -> bytes:
    """~200 KB on the wire, 200 MB inflated."""
    return gzip.compress(b"<html><body>" + b"\0" * (200 * 1024 * 1024), compresslevel=6)


def gzip_bomb(h: BaseHTTPRequestHandler) -> None:
    data = bomb()
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def drip_body(h: BaseHTTPRequestHandler) -> None:
    _close_delimited(h, {"Content-Type": "text/html"})
    for c in b"<html><body><ul><li>slow</li></ul></body></html>":
        h.wfile.write(bytes([c]))
        h.wfile.flush()
        time.sleep(1.0)


def drip_headers(h: BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for c in b"X-Slow: " + b"a" * 100:
        h.wfile.write(bytes([c]))
        h.wfile.flush()
        time.sleep(1.0)


def redirect_to(target: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


CHALLENGE = b"""<html><head><script>var _0x1=['cookie','reload'];document.cookie='__jsl_clearance=1675';
setTimeout(function(){location.reload()},1500);</script></head><body></body></html>"""
ALL_SCRIPT = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><script src="/a.js"></script>
<script>window.onload=function(){var d=document.createElement('div');d.innerHTML=atob('PHA+');document.body.appendChild(d)}</script>
</head><body><script>render()</script></body></html>"""
ERROR_PAGE = """<html><head><meta charset="utf-8"><title>404 页面不存在</title></head>
<body><div>对不起，您访问的页面不存在或已被删除。</div><ul class="xxgk-list"><li><a href="/art/x.html">返回首页</a></li></ul></body></html>""".encode()

GOOD_LIST = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="xxgk-list">
<li><a href="/art/1.html" title="关于2026年冬季森林防火工作的通告">关于2026年冬季森林防火...</a><span>2026-11-20</span></li>
<li><a href="/art/2.html">关于调整城区部分公交线路的公告</a><span>2026-11-18</span></li>
<li><a href="/art/3.html">这一条的详情页是反爬挑战</a><span>2026-11-17</span></li>
</ul></body></html>""".encode()


def article(title: str) -> bytes:
    return f"""<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><div id="zoom"><p>{title}的正文。</p></div></body></html>""".encode()


HOSTILE: dict[str, tuple[Callable[[BaseHTTPRequestHandler], None] | Page, type[Exception] | None, str]] = {
    "big": (fifty_megabytes, BodyTooLarge, "exceeds the cap"),
    "bomb": (gzip_bomb, BodyTooLarge, "after decompression"),
    "drip": (drip_body, FetchError, "no complete answer within"),
    "driphead": (drip_headers, FetchError, "within"),
    "loop": (redirect_to("/hostile/loop"), FetchError, "redirects"),
    "offsite": (redirect_to("http://tracker.example.com/x"), FetchError, "not one the source allows"),
    "challenge": (Page(CHALLENGE, status=412), None, "anti-bot challenge"),
    "challenge521": (Page(CHALLENGE, status=521), None, "anti-bot challenge"),
    "script": (Page(ALL_SCRIPT), None, "served as content: no readable text"),
    "errorpage": (Page(ERROR_PAGE), None, "error page served as content"),
}


@pytest.fixture
def hostile_rt(site: Portal, make_runtime: Callable[..., Runtime]) -> Runtime:
    bomb()  # built before the clock runs
    for name, (route, _, _) in HOSTILE.items():
        site.routes[f"/hostile/{name}"] = route
    site.routes["/good/index.html"] = Page(GOOD_LIST)
    site.routes["/art/1.html"] = Page(article("关于2026年冬季森林防火工作的通告"))
    site.routes["/art/2.html"] = Page(article("关于调整城区部分公交线路的公告"))
    site.routes["/art/3.html"] = Page(CHALLENGE, status=412)
    opts = {"link_xpath": "//ul[contains(@class,'xxgk-list')]/li/a", "date_xpath": "../span"}
    sources = [{"name": n, "kind": "html", "url": f"{site.url}/hostile/{n}", "options": opts} for n in HOSTILE]
    sources.append({"name": "good", "kind": "html", "url": f"{site.url}/good/index.html", "options": opts})
    return make_runtime(sources, http={"timeout": 1.0, "max_redirects": 3})


def test_each_hostile_source_fails_alone(hostile_rt: Runtime) -> None:
    rt = hostile_rt
    started = time.monotonic()
    reports = {s.name: poll_source(rt, s.name) for s in rt.settings.sources}
    elapsed = time.monotonic() - started
    for name, (_, _, message) in HOSTILE.items():
        r = reports[name]
        assert r.status == "error", name
        assert message in r.error, (name, r.error)
        assert f"[{name}]" in r.error  # the message names the source
        assert "\n" not in r.error
    assert reports["challenge"].error.count("HTTP 412") == 1
    good = reports["good"]
    assert (good.status, good.new) == ("ok", 2)
    assert len(good.item_errors) == 1 and "anti-bot challenge" in good.item_errors[0]
    with rt.store.read() as db:
        items = db.exec(select(Item)).all()
        assert sorted(i.source for i in items) == ["good", "good"]
        rows = {r.name: r for r in db.exec(select(SourceRow))}
    assert rows["big"].last_status == "error" and rows["big"].failing_since is not None
    assert rows["good"].last_status == "ok"
    # Two drips of ~1 s deadline each; nothing else waits. Without the deadline the drips would
    # hold the poll for minutes; the margin is for a machine busy with the other test worker.
    assert elapsed < 15, elapsed


@pytest.mark.parametrize("name", ["big", "bomb", "drip", "loop"])
def test_http_client_errors_are_typed(site: Portal, name: str) -> None:
    route, exc, message = HOSTILE[name]
    bomb()
    site.routes[f"/hostile/{name}"] = route
    with Http(HttpSettings(timeout=1.0, delay=0.0, max_redirects=3), source="s", hosts={site.url}) as http:
        assert exc is not None
        with pytest.raises(exc, match=message):
            http.get(f"{site.url}/hostile/{name}")


def test_politeness_per_host_and_user_agent(site: Portal) -> None:
    import threading

    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(0.15)
        body = b"<html><body><p>ok</p></body></html>"
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.routes["/slow"] = slow
    settings = HttpSettings(timeout=5.0, delay=0.05, per_host=2)
    clients = [Http(settings, source=f"s{i}", hosts={site.url}) for i in range(6)]

    def fetch(c: Http) -> None:
        c.get(site.url + "/slow")

    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for c in clients:
        c.close()
    # Six sources on one host, two at a time, at least 50 ms apart: never more than two in flight.
    assert site.max_in_flight <= 2
    assert elapsed >= 3 * 0.15
    arrivals = sorted(h.at for h in site.hits)
    # Starts are 50 ms apart at the client; a loaded machine may deliver two of them a little
    # closer together at the server, but never together as they would be without the delay.
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 0.025
    assert all("tvpusher" in h.headers["user-agent"] for h in site.hits)
