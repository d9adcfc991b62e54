"""The stages in process, over the sample portal served on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import select

from feeds.channel import folder_reader, headend_manifest, manifest_tree, manifest_version
from feeds.xmlsafe import parse_xml
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.store.models import Delivery, Item

NS = "{urn:tvpusher:channel:1}"


def titles(rt: Runtime) -> set[str]:
    data = headend_manifest(rt.settings.channel.workdir / "headend")
    return {t.text for t in parse_xml(data).iter(f"{NS}title")}


def test_every_stage_is_idempotent(demo_rt: Runtime) -> None:
    first = run_cycle(demo_rt)
    assert first.new >= 20 and first.version == 1 and first.delivered
    again = run_cycle(demo_rt)
    assert (again.new, again.changed, again.screened, again.rendered_items, again.version) == (0, 0, 0, 0, None)
    assert not again.delivered
    with demo_rt.store.read() as db:
        assert len(db.exec(select(Delivery)).all()) == 1


def test_changed_and_withdrawn_items_update_the_channel(demo_rt: Runtime, portal_dir: Path) -> None:
    run_cycle(demo_rt)
    art = portal_dir / "art/2026/11/20/art_1001_5101.html"
    html = art.read_text(encoding="utf-8")
    art.write_text(html.replace("关于2026年冬季森林防火工作的通告", "关于2026年冬季森林防火工作的通告（修订）"), encoding="utf-8")
    listing = portal_dir / "col/col1001/index.html"
    listing.write_text(
        listing.read_text(encoding="utf-8").replace("关于2026年冬季森林防火工作的通告", "关于2026年冬季森林防火工作的通告（修订）"),
        encoding="utf-8",
    )
    # Withdraw one item: its detail page now answers 404 and its list entry changed title.
    gone = portal_dir / "art/2026/11/18/art_1001_5102.html"
    gone.unlink()
    listing.write_text(
        listing.read_text(encoding="utf-8").replace(
            'title="永康市2026年秋季征兵工作公告"', 'title="永康市2026年秋季征兵工作公告（已撤回）"'
        ),
        encoding="utf-8",
    )
    rep = run_cycle(demo_rt)
    assert rep.changed == 1 and rep.withdrawn == 1 and rep.version == 2
    got = titles(demo_rt)
    assert "关于2026年冬季森林防火工作的通告（修订）" in got
    assert not any(t and t.startswith("永康市2026年秋季征兵工作公告") for t in got)
    with demo_rt.store.read() as db:
        item = db.exec(select(Item).where(Item.url.endswith("art_1001_5101.html"))).one()  # type: ignore[attr-defined]
        assert item.version == 2 and item.state == ItemState.PUBLISHED


def test_a_headend_that_is_down_loses_nothing(demo_rt: Runtime, tmp_path: Path) -> None:
    headend = demo_rt.settings.channel.workdir / "headend"
    headend.parent.mkdir(parents=True, exist_ok=True)
    headend.write_text("not a folder")  # the drop folder cannot be created: every put fails
    rep = run_cycle(demo_rt)
    assert rep.version == 1 and rep.delivery_errors
    headend.unlink()
    from pusher.stages import deliver

    [r] = deliver(demo_rt, now_only_due=False)
    assert r.status == "done"
    data = (headend / "channel.xml").read_bytes()
    assert manifest_version(data) == 1
    for href in manifest_tree(data, folder_reader(headend)):
        assert (headend / href).is_file()


def test_one_broken_page_does_not_stop_the_others(demo_rt: Runtime, portal_dir: Path) -> None:
    (portal_dir / "art/2026/11/15/art_1001_5103.html").write_bytes(b"<html><body><script>x()</script></body></html>")
    rep = run_cycle(demo_rt)
    assert rep.new >= 20 and any("art_1001_5103" in e for e in rep.source_errors)
    assert rep.version == 1


def test_assets_cached_once(demo_rt: Runtime) -> None:
    run_cycle(demo_rt)
    assets = list(demo_rt.assets.root.iterdir())
    assert assets and all(p.suffix in (".png", ".xml") for p in assets)  # pages, column manifests
    shutil.rmtree(demo_rt.assets.root)


def test_body_pictures_are_fetched_with_the_item_and_drawn(demo_rt: Runtime, portal_dir: Path) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 60)).save(buf, format="PNG")
    (portal_dir / "img").mkdir()
    (portal_dir / "img/map.png").write_bytes(buf.getvalue())
    art = portal_dir / "art/2026/11/20/art_1001_5101.html"
    art.write_text(
        art.read_text(encoding="utf-8").replace('<div id="zoom">', '<div id="zoom"><p><img src="/img/map.png" alt="防火区域图"></p>', 1),
        encoding="utf-8",
    )
    art_missing = portal_dir / "art/2026/11/18/art_1001_5102.html"
    art_missing.write_text(
        art_missing.read_text(encoding="utf-8").replace(
            '<div id="zoom">', '<div id="zoom"><p><img src="/img/none.png" alt="缺失的图"></p>', 1
        ),
        encoding="utf-8",
    )
    run_cycle(demo_rt)
    with demo_rt.store.read() as db:
        item = db.exec(select(Item).where(Item.url.endswith("art_1001_5101.html"))).one()  # type: ignore[attr-defined]
        missing = db.exec(select(Item).where(Item.url.endswith("art_1001_5102.html"))).one()  # type: ignore[attr-defined]
    url = item.url.rsplit("/art/", 1)[0] + "/img/map.png"
    assert demo_rt.images.load(url) == buf.getvalue()
    assert item.state == ItemState.PUBLISHED and missing.state == ItemState.PUBLISHED  # a missing picture is not an error
    assert demo_rt.images.load(url.replace("map.png", "none.png")) is None


def test_an_operator_retraction_outlives_portal_edits(demo_rt: Runtime, portal_dir: Path) -> None:
    from pusher.ops import retract as retract_item

    run_cycle(demo_rt)
    with demo_rt.store.read() as db:
        item = db.exec(select(Item).where(Item.url.endswith("art_1001_5101.html"))).one()  # type: ignore[attr-defined]
    retract_item(demo_rt, item.id, "内容有误")
    art = portal_dir / "art/2026/11/20/art_1001_5101.html"
    art.write_text(art.read_text(encoding="utf-8").replace("保护森林资源", "保护森林资源和生态环境"), encoding="utf-8")
    listing = portal_dir / "col/col1001/index.html"
    listing.write_text(listing.read_text(encoding="utf-8").replace("2026-11-20", "2026-11-21"), encoding="utf-8")
    run_cycle(demo_rt)
    with demo_rt.store.read() as db:
        again = db.get(Item, item.id)
    assert again is not None and again.state == ItemState.WITHDRAWN and again.state_reason.startswith("retracted")
    assert "保护森林资源和生态环境" in again.text and again.version == item.version + 1
    assert "关于2026年冬季森林防火工作的通告" not in titles(demo_rt)


def test_push_item_refuses_an_item_that_is_not_on_air(demo_rt: Runtime, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pusher.cli.core as core
    from pusher.cli import main

    run_cycle(demo_rt)
    monkeypatch.setattr(core, "runtime", lambda _config: demo_rt)
    assert main(["push", "--item", "99999"]) == 1
    assert "no item 99999" in capsys.readouterr().err
    with demo_rt.store.read() as db:
        item = db.exec(select(Item).where(Item.state == ItemState.PUBLISHED)).first()
    assert item is not None
    assert main(["push", "--item", str(item.id)]) == 0
    from pusher.store.models import Audit

    with demo_rt.store.read() as db:
        assert db.exec(select(Audit).where(Audit.action == "push", Audit.item_id == item.id)).one()


def test_exports_also_travel_under_stable_names(portal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import feedparser

    from pusher.config.settings import parse_settings
    from pusher.demo import demo_config

    cfg = demo_config(portal.url, tmp_path / "work")
    cfg["broadcast"] = {"exports": ["xmltv", "rss", "playlist"]}
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        run_cycle(rt)
    finally:
        rt.close()
    headend = tmp_path / "work" / "headend"
    feed = feedparser.parse((headend / "rss.xml").read_bytes())
    assert feed.bozo == 0 and len(feed.entries) >= 20
    from lxml import etree

    epg = etree.fromstring((headend / "epg.xml").read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    assert epg.tag == "tv" and len(epg.findall("programme")) > 20
    assert not (headend / "playlist.m3u").exists()  # its entries are relative to assets/
