"""Exports of the demo channel: XMLTV valid for ``tv_validate_file``, RSS that feedparser reads
without a bozo flag, a playlist whose files are all there; all three travel with the manifest."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeds.channel import NS, headend_manifest
from feeds.exports import manifest_exports, playlist, rolling, spec_of_manifest
from pusher.cli import main
from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.web.httpserve import StaticServer

DTD = Path("/usr/share/xmltv/xmltv.dtd")
SITE = "http://www.yk.gov.cn/"
BROADCAST = {"exports": ["xmltv", "playlist", "rss"], "page_seconds": 8, "epg_hours": 2, "site_url": SITE, "xmltv_id": "zw.yk.tv"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The demo channel published once with every export: (work directory, headend folder)."""
    tmp = tmp_path_factory.mktemp("exports")
    shutil.copytree(PORTAL, tmp / "portal")
    with StaticServer(tmp / "portal") as srv:
        cfg = demo_config(srv.url, tmp / "work")
        cfg["broadcast"] = BROADCAST
        rt = Runtime(parse_settings(cfg, tmp))
        try:
            rep = run_cycle(rt)
        finally:
            rt.close()
    assert rep.version == 1 and not rep.delivery_errors
    yield tmp, tmp / "work" / "headend"


def _export(headend: Path, kind: str) -> tuple[bytes, bytes]:
    manifest = headend_manifest(headend)
    return manifest, (headend / manifest_exports(manifest)[kind]).read_bytes()


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tv_validate_file", "--dtd-file", str(DTD), str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not shutil.which("tv_validate_file") or not DTD.exists(), reason="needs Debian xmltv-util")
def test_xmltv_of_the_demo_channel_passes_tv_validate_file(demo: tuple[Path, Path], tmp_path: Path) -> None:
    _, headend = demo
    manifest, data = _export(headend, "xmltv")
    path = tmp_path / "epg.xml"
    path.write_bytes(data)
    res = _validate(path)
    assert res.returncode == 0 and "Validated ok" in res.stdout + res.stderr, res.stdout + res.stderr

    # The validator does catch a broken schedule (a programme without its title).
    root = etree.fromstring(data)
    first = root.find("programme")
    assert first is not None
    first.remove(first.find("title"))  # type: ignore[arg-type]
    bad = tmp_path / "bad.xml"
    bad.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype='<!DOCTYPE tv SYSTEM "xmltv.dtd">'))
    assert _validate(bad).returncode != 0

    # By default one programme per column block: back to back, each as long as its menu and items.
    spec, _, _ = spec_of_manifest(manifest)
    progs = etree.fromstring(data).findall("programme")
    assert all(a.get("stop") == b.get("start") for a, b in itertools.pairwise(progs))
    blocks = [p.findtext("title") for p in progs[: 1 + len(spec.columns)]]
    assert blocks == [f"{spec.name} 首页", *(c.name for c in spec.columns)]
    for c, prog in zip(spec.columns, progs[1 : 1 + len(spec.columns)], strict=True):
        items = [i for i in spec.items if i.column == c.id]
        assert prog.findtext("length") == str(8 * (len(c.pages) + sum(len(i.pages) for i in items)))
        assert all(i.title in (prog.findtext("desc") or "") for i in items[:8])

    # epg_blocks = "item": the rolling loop slot by slot, each its pages × page_seconds, every item in it.
    from feeds.exports import EXPORTERS, ExportInput

    data = EXPORTERS["xmltv"].make(ExportInput(spec, 1, datetime.fromisoformat("2026-12-01T08:00:00+08:00"), page_seconds=8, epg_hours=2,
                                               channel_id="zw.yk.tv", epg_blocks="item"))  # fmt: skip
    progs = etree.fromstring(data).findall("programme")
    assert all(a.get("stop") == b.get("start") for a, b in itertools.pairwise(progs))
    slots = [s for s in rolling(spec) if s.pages]
    for prog, slot in zip(progs, slots, strict=False):
        assert prog.findtext("title") == slot.title
        assert prog.findtext("length") == str(8 * len(slot.pages))
    titles = {p.findtext("title") for p in progs}
    assert {i.title for i in spec.items} <= titles
    loop = sum(len(s.pages) for s in slots) * 8
    assert len(progs) >= len(slots) * (2 * 3600 // loop)


def test_rss_of_the_demo_channel_reads_without_bozo(demo: tuple[Path, Path]) -> None:
    _, headend = demo
    manifest, data = _export(headend, "rss")
    feed = feedparser.parse(data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "永康市数字电视政务频道" and feed.feed.link == SITE
    spec, _, _ = spec_of_manifest(manifest)
    assert len(feed.entries) == len(spec.items)
    by_link = {i.url: i for i in spec.items}
    names = {c.id: c.name for c in spec.columns}
    for e in feed.entries:
        item = by_link[e.link]
        assert e.title == item.title and e.id == item.url
        assert e.tags[0].term == names[item.column]
        assert item.published is not None and e.published_parsed is not None
    stamps = [e.published_parsed for e in feed.entries]
    assert stamps == sorted(stamps, reverse=True)  # newest first


def test_playlist_loops_every_page_once_and_its_files_are_there(demo: tuple[Path, Path]) -> None:
    _, headend = demo
    manifest, data = _export(headend, "playlist")
    entries = playlist.parse(data)
    spec, _, _ = spec_of_manifest(manifest)
    assert [p for _, _, p in entries] == [p.href.removeprefix("assets/") for s in rolling(spec) for p in s.pages]
    assert {p.id for p in spec.pages()} and len(entries) == len(spec.pages())
    assert all(secs == 8 for secs, _, _ in entries)
    where = headend / manifest_exports(manifest)["playlist"]
    assert all((where.parent / p).is_file() for _, _, p in entries)  # relative to the playlist itself


def test_exports_travel_with_the_manifest_and_the_cli_rebuilds_them_from_it(demo: tuple[Path, Path], tmp_path: Path) -> None:
    work, headend = demo
    manifest = (headend / "channel.xml").read_bytes()
    listed = list(etree.fromstring(manifest).iter("{urn:tvpusher:exports:1}export"))
    assert [e.get("kind") for e in listed] == ["xmltv", "playlist", "rss"]
    for e in listed:
        data = (headend / e.get("href", "")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e.get("sha256") and len(data) == int(e.get("bytes", "0"))
    assert etree.fromstring(headend_manifest(headend)).find(f"{{{NS}}}items") is not None  # still a channel manifest

    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        f'[channel]\nworkdir = "{work / "work"}"\n[broadcast]\npage_seconds = 8\nepg_hours = 2\nsite_url = "{SITE}"\nxmltv_id = "zw.yk.tv"\n',
        encoding="utf-8",
    )
    for kind in ("xmltv", "rss"):
        out = tmp_path / f"{kind}.out"
        assert main(["export", kind, "--out", str(out), "--config", str(cfg)]) == 0
        assert out.read_bytes() == _export(headend, kind)[1], f"{kind} rebuilt from the manifest differs from the one that travelled"
    out = tmp_path / "playlist.m3u"
    assert main(["export", "playlist", "--out", str(out), "--config", str(cfg)]) == 0
    assert all(p.startswith("assets/") and (headend / p).is_file() for _, _, p in playlist.parse(out.read_bytes()))


def test_an_unchanged_channel_gets_a_new_version_before_its_schedule_runs_out(tmp_path: Path) -> None:
    from datetime import timedelta

    from broadcast_kit import add_item, make_runtime

    from pusher.stages import publish
    from pusher.store.models import ChannelVersion
    from pusher.timeutil import utcnow

    rt = make_runtime(tmp_path, exports=["xmltv"], epg_hours=4)
    add_item(rt, 1, published=utcnow())
    first = publish(rt)
    assert first is not None and publish(rt) is None  # unchanged, schedule still fresh
    with rt.store.write() as db:
        row = db.get(ChannelVersion, first.version)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=2)  # half the schedule has aired
    again = publish(rt)
    assert again is not None and again.digest == first.digest
    epg = (rt.assets.root / manifest_exports(again.manifest.encode())["xmltv"].removeprefix("assets/")).read_bytes()
    assert etree.fromstring(epg).get("generator-info-name") == f"tvpusher (channel version {again.version})"
    rt.close()
