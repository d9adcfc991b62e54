"""A box starting up on a channel of many parts: several requests in flight, the model the same
whatever order the answers come in, the home page before the rest, a key to a page still
coming waiting for it, a broken part among many never half-applied."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree
from viewer_channel import COLUMNS, ITEMS, NS, Builder, It, Spec, write_atomic

from feeds.channel import expand_manifest, folder_reader, manifest_tree
from pusher.web import preview
from pusher.web.httpserve import QuietServer

pytestmark = pytest.mark.browser

PART = re.compile(r"^/(assets/[0-9a-f]{64}\.xml)$")
MANY = 60  # items in the first column: about 90 parts, 4 levels of tree
# Waits for a whole channel of many parts: Chromium spends ~5 ms of CPU a part, and a CI
# machine at load 10 on 2 cores took longer than the default 5 s at inflight=1.
WHOLE_MS = 30_000


def many_spec(version: int = 1, n: int = MANY) -> Spec:
    extra = [It(f"m{k}", "notices", ITEMS[k % 3].title, paragraphs=1) for k in range(n)]
    return Spec(version=version, columns=list(COLUMNS), items=[*ITEMS, *extra])


class Slow(preview._Handler):
    """The preview server's handler with a hook before each part is answered."""

    hold: Callable[[str], None] = staticmethod(lambda href: None)

    def do_GET(self) -> None:
        m = PART.match(self.path.split("?", 1)[0])
        if m:
            type(self).hold(m.group(1))
        super().do_GET()


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Callable[[Path, Callable[[str], None]], str]]:
    servers: list[QuietServer] = []

    def start(folder: Path, hold: Callable[[str], None]) -> str:
        handler = type("H", (Slow,), {"hold": staticmethod(hold)})
        server = QuietServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def parts_of(folder: Path) -> list[str]:
    return sorted(h for h in manifest_tree((folder / "channel.xml").read_bytes(), folder_reader(folder)) if h.endswith(".xml"))


def model_of(t: Any) -> dict[str, Any]:
    """The viewer's model as plain lists: each column's pages, each item's pages, by order."""
    return dict(
        t.page.evaluate(
            """() => { var m = window.tvViewer.state.m, cols = {}, items = {};
            m.columns.forEach(function (c) { cols[c.id] = c.pages; });
            for (var id in m.items) items[id] = m.items[id].pages;
            return {home: m.home, columns: cols, items: items, pages: Object.keys(m.pages).sort()}; }"""
        )
    )


def model_from_manifest(folder: Path) -> dict[str, Any]:
    """The same, read from the whole channel (format 1) the parts make."""
    root = etree.fromstring(expand_manifest((folder / "channel.xml").read_bytes(), folder_reader(folder)))
    q = {"c": NS}
    cols = {
        str(c.get("id")): [str(p) for p in c.xpath("c:page/@id", namespaces=q)] for c in root.xpath("//c:columns/c:column", namespaces=q)
    }
    items = {str(i.get("id")): [str(p) for p in i.xpath("c:page/@id", namespaces=q)] for i in root.xpath("//c:items/c:item", namespaces=q)}
    return {
        "home": [str(p) for p in root.xpath("c:home/c:page/@id", namespaces=q)],
        "columns": {k: v for k, v in cols.items() if v},
        "items": items,
        "pages": sorted(str(p) for p in root.xpath("//c:page/@id", namespaces=q)),
    }


def test_parts_fetched_in_parallel_out_of_order_make_the_same_model(tmp_path: Path, builder: Builder, slow_server, tv) -> None:
    folder = tmp_path / "headend"
    builder.write(folder, many_spec())
    n_parts = len(list((folder / "assets").glob("*.xml")))
    assert n_parts > 60
    lock = threading.Lock()
    now = [0]
    peak = [0]
    answered: list[str] = []

    def hold(href: str) -> None:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        # Answers out of the order asked: some parts take up to 12 ms longer than others.
        time.sleep(hashlib.sha256(href.encode()).digest()[0] % 4 * 0.004)
        with lock:
            now[0] -= 1
            answered.append(href)

    url = slow_server(folder, hold)
    want = model_from_manifest(folder)
    for inflight in (1, 4, 8):
        peak[0] = 0
        answered.clear()
        t = tv(url, query=f"inflight={inflight}")
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS)
        assert model_of(t) == want, f"inflight={inflight}"
        assert len(answered) == n_parts, "each part fetched once"
        assert 2 <= peak[0] <= inflight if inflight > 1 else peak[0] == 1, (inflight, peak[0])
        # The first column's menu pages in order, and its items: walked whole.
        t.press("1")
        t.shown("col-notices-1")
        for _ in range(len(want["columns"]["notices"]) - 1):
            t.press("ArrowRight")
        t.shown(want["columns"]["notices"][-1])


def test_home_before_the_rest_and_a_key_waits_for_its_page(tmp_path: Path, builder: Builder, slow_server, tv) -> None:
    folder = tmp_path / "headend"
    builder.write(folder, many_spec())
    home_part = "assets/" + str(etree.fromstring((folder / "channel.xml").read_bytes()).find(f"{{{NS}}}home").get("part")) + ".xml"
    gate = threading.Event()

    def hold(href: str) -> None:
        if href != home_part:
            gate.wait(20)

    url = slow_server(folder, hold)
    try:
        t = tv(url)
        # The home page on screen while every column's parts are still held back.
        d = t.shown("home-1", status="loading", partial="1")
        assert d["waiting"] == "0"
        t.press("3")  # 政务动态: its menu page is not in yet
        t.press("Enter")  # then its first entry: waits behind the key before it
        d = t.wait(waiting="2")
        assert d["shown"] == "home-1"
        assert t.page.locator("#status").inner_text() == "正在载入…"
        assert t.page.locator("#status").is_visible()
    finally:
        gate.set()
    t.shown("w1-1", status="ok", timeout_ms=WHOLE_MS, partial="", waiting="0", column="news")
    assert not t.page.locator("#status").is_visible()
    t.press("Backspace")
    t.shown("col-news-1")


def test_a_key_answered_by_what_is_in_does_not_wait(tmp_path: Path, builder: Builder, slow_server, tv) -> None:
    """Only the first column is held back: the others can be browsed, and come whole."""
    folder = tmp_path / "headend"
    builder.write(folder, many_spec())
    root = etree.fromstring((folder / "channel.xml").read_bytes())
    top = next(c.get("part") for c in root.iter(f"{{{NS}}}column") if c.get("id") == "notices")
    held = {f"assets/{top}.xml"}
    gate = threading.Event()

    def hold(href: str) -> None:
        if href in held:
            gate.wait(20)

    url = slow_server(folder, hold)
    try:
        t = tv(url)
        t.shown("home-1", status="loading")
        t.press("2")
        t.shown("col-policy-1", partial="1", waiting="0")
        t.press("Enter")
        t.shown("p1-1", partial="1")
        t.press("ArrowRight")
        t.shown("p1-2", partial="1")
        t.press("r")  # red: 通知公告, whose parts are held
        t.wait(waiting="1", shown="p1-2")
    finally:
        gate.set()
    t.shown("col-notices-1", status="ok", timeout_ms=WHOLE_MS, waiting="0")


def test_a_broken_part_among_many_keeps_the_last_good_channel(tmp_path: Path, builder: Builder, tv) -> None:
    folder = tmp_path / "headend"
    builder.write(folder, many_spec())
    server, url = preview.serve_preview(folder)
    try:
        t = tv(url, query="inflight=8")
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS, version="1")
        before = {p.name for p in (folder / "assets").glob("*.xml")}
        builder.write(folder, many_spec(2, MANY + 1))
        new = sorted({p.name for p in (folder / "assets").glob("*.xml")} - before)
        assert len(new) >= 3
        # One of the new parts is not XML (a disk that lost a block): the version is refused.
        broken = folder / "assets" / new[len(new) // 2]
        good = broken.read_bytes()
        broken.write_bytes(good[: len(good) // 2])
        t.wait(status="error-fetch")
        assert t.data()["version"] == "1"
        t.press("1")
        t.shown("col-notices-1", version="1")
        write_atomic(broken, good)
        t.wait(WHOLE_MS, version="2", status="ok")
        t.shown("col-notices-1")
        assert sorted(t.page.evaluate("() => window.tvViewer.parts()")) == sorted(parts_of(folder))
    finally:
        server.close()


def test_a_rebooted_box_fetches_only_the_parts_that_changed(tmp_path: Path, builder: Builder, tv) -> None:
    folder = tmp_path / "headend"
    builder.write(folder, many_spec())
    server, url = preview.serve_preview(folder)
    try:
        t = tv(url)
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS)
        assert t.page.evaluate("() => window.tvViewer.stored().sort()") == parts_of(folder)
        fetched: list[str] = []

        def on_request(r: Any) -> None:
            if m := PART.match(urlsplit(r.url).path):
                fetched.append(m.group(1))

        t.page.on("request", on_request)
        t.page.reload()
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS)
        assert fetched == [], "every part read from storage"
        assert model_of(t) == model_from_manifest(folder)
        # A new version while the box is off; one stored part damaged.
        before = set(parts_of(folder))
        builder.write(tmp_path / "v2", many_spec(2, MANY + 1))  # to learn which parts stay
        damaged = sorted(before & set(parts_of(tmp_path / "v2")))[0]
        t.page.evaluate("h => localStorage.setItem('tvpusher:' + h, '<part')", damaged)
        # The box is off while the headend changes: a poll of the running page would otherwise
        # fetch some new parts before the reboot, and again after it (not applied, not stored).
        box = t.page.url
        t.page.goto("about:blank")
        builder.write(folder, many_spec(2, MANY + 1))
        changed = set(parts_of(folder)) - before
        assert damaged in parts_of(folder)
        fetched.clear()
        t.page.goto(box)
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS, version="2")
        assert sorted(fetched) == sorted(changed | {damaged})
        assert model_of(t) == model_from_manifest(folder)
        # Only the parts of the channel applied are kept.
        assert t.page.evaluate("() => window.tvViewer.stored().sort()") == parts_of(folder)
        fetched.clear()
        t.page.goto(f"{url}?poll=150&store=0")
        t.shown("home-1", status="ok", timeout_ms=WHOLE_MS)
        assert sorted(fetched) == parts_of(folder), "?store=0 fetches everything"
    finally:
        server.close()
