"""The viewer and channel.xml of format 3 (and 2): parts fetched once, only what changed
fetched again, an unchanged channel polled with a 304, a missing part never half-applied."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from viewer_channel import ITEMS, Builder, base_spec, write_atomic

from feeds.channel import expand_manifest, folder_reader, manifest_tree, read_spec, split_manifest
from feeds.xmlsafe import parse_xml
from pusher.web.preview import serve_preview

pytestmark = pytest.mark.browser

PART = re.compile(r"/(assets/[0-9a-f]{64}\.xml)$")
FORMAT2 = Path(__file__).resolve().parents[1] / "fixtures" / "channel-format2"


class Log:
    """What the viewer asked for: channel.xml answers by status, parts by href."""

    def __init__(self, page: Any) -> None:
        self.manifest: list[int] = []
        self.parts: list[str] = []
        page.on("response", self._on)

    def _on(self, r: Any) -> None:
        if r.url.endswith("/channel.xml"):
            self.manifest.append(r.status)
        elif m := PART.search(r.url):
            self.parts.append(m.group(1))


def parts_of(folder: Path) -> set[str]:
    def read(href: str) -> bytes | None:
        p = folder / href
        return p.read_bytes() if p.is_file() else None

    return {h for h in manifest_tree((folder / "channel.xml").read_bytes(), read) if h.endswith(".xml")}


def test_an_unchanged_channel_is_polled_with_304s(served: str, headend: Path, tv) -> None:
    t = tv(served)
    t.shown("home-1", status="ok")
    assert sorted(t.page.evaluate("() => window.tvViewer.parts()")) == sorted(parts_of(headend))
    log = Log(t.page)
    for _ in range(50):  # a few polls (every 150 ms)
        if len(log.manifest) >= 3:
            break
        t.page.wait_for_timeout(100)
    assert len(log.manifest) >= 3 and set(log.manifest) == {304}, log.manifest
    assert log.parts == [], "no column manifest fetched again"
    assert t.data()["status"] == "ok"


def test_a_one_item_edit_fetches_only_its_leaf_and_path(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    t.shown("home-1", status="ok")
    t.press("1")
    t.shown("col-notices-1")
    t.press("2")
    t.shown("n2-1")
    before = parts_of(headend)
    log = Log(t.page)
    items = [replace(it, version=2, seed="改") if it.id == "n2" else it for it in ITEMS]
    builder.write(headend, replace(base_spec(2), items=items))
    after = parts_of(headend)
    t.shown("n2-1", version="2", status="ok")
    changed = after - before
    assert changed and len(changed) < len(after) / 2, (len(changed), len(after))
    assert sorted(log.parts) == sorted(changed)
    # The kept parts are those the new channel names, and only those.
    assert sorted(t.page.evaluate("() => window.tvViewer.parts()")) == sorted(after)
    t.press("Backspace")
    t.shown("col-notices-1")


def test_a_missing_part_keeps_the_last_good_channel(served: str, headend: Path, builder: Builder, tv) -> None:
    t = tv(served)
    t.shown("home-1", status="ok")
    before = parts_of(headend)
    # Built aside and copied without its new parts: written in place and then deleted, the
    # viewer could read the whole version in between (it polls every 150 ms; it did once).
    aside = headend.parent / "aside"
    shutil.copytree(headend, aside)
    builder.write(aside, base_spec(2).with_(items=[*ITEMS[:-1]]))
    new = sorted(parts_of(aside) - before)
    assert new
    hidden = {h: (aside / h).read_bytes() for h in new}
    for f in sorted((aside / "assets").iterdir()):
        if f"assets/{f.name}" not in hidden and not (headend / "assets" / f.name).exists():
            write_atomic(headend / "assets" / f.name, f.read_bytes())
    write_atomic(headend / "channel.xml", (aside / "channel.xml").read_bytes())
    # channel.xml names parts that are not there (a headend that lost files): not applied.
    t.wait(status="error-fetch")
    assert t.data()["version"] == "1" and t.data()["shown"] == "home-1"
    t.press("3")
    t.shown("col-news-1")
    for h, data in hidden.items():
        write_atomic(headend / h, data)
    t.wait(version="2", status="ok")
    t.press("1")
    t.shown("w1-1")


def test_a_channel_of_format_2_is_read_and_replaced_by_one_of_format_3(tmp_path: Path, tv) -> None:
    """A headend the format-2 writer left (fixture): shelves under parts of 16 names, pages with
    their sha256. The viewer reads it, then moves on to its next version in format 3."""
    headend = tmp_path / "headend"
    shutil.copytree(FORMAT2, headend)
    server, url = serve_preview(headend)
    try:
        t = tv(url)
        t.shown("home-1", status="ok", version="4")
        assert sorted(t.page.evaluate("() => window.tvViewer.parts()")) == sorted(parts_of(headend))
        t.press("1")
        t.shown("c-tzgg-1")
        t.press("Enter")
        t.shown("it0-1", item="it0", column="tzgg")
        t.press("ArrowRight")
        t.shown("it0-2")
        t.press("Backspace")
        t.shown("c-tzgg-1")
        for _ in range(17):
            t.press("ArrowRight")
        t.shown("c-tzgg-18")
        t.press("Enter")
        t.shown("it17-1")
        # The next version, written by this version's writer: format 3.
        whole = expand_manifest((headend / "channel.xml").read_bytes(), folder_reader(headend))
        built = split_manifest(whole.replace(b'version="4"', b'version="5"', 1))
        for href, data in built.parts.items():
            write_atomic(headend / href, data)
        write_atomic(headend / "channel.xml", built.root)
        assert parse_xml(built.root).get("format") == "3"
        t.shown("it17-1", version="5", status="ok")
        assert sorted(t.page.evaluate("() => window.tvViewer.parts()")) == sorted(built.parts)
        t.press("ArrowRight")
        t.shown("it17-2")
        t.press("PageDown")
        t.shown("c-zwdt-1", column="zwdt")
    finally:
        server.close()


def test_the_viewer_reads_every_key_a_format_1_reader_reads(served: str, headend: Path, tv) -> None:
    """Format 3 says an item's turns and shared keys once; the viewer gives each page the keys
    the whole channel (format 1) gives it — not its own fallbacks, which would hide a miss."""
    t = tv(served)
    t.shown("home-1", status="ok")
    got = t.page.evaluate("() => { var m = window.tvViewer.state.m, o = {}; for (var id in m.pages) o[id] = m.pages[id].keys; return o; }")
    spec = read_spec(expand_manifest((headend / "channel.xml").read_bytes(), folder_reader(headend)))[0]
    want = {}
    for p in [*spec.pages()]:
        first: dict[str, str] = {}
        for code, to in p.keys:
            first.setdefault(code, to)
        want[p.id] = first
    assert got == want
    assert any(len(k) >= 2 for k in want.values())
