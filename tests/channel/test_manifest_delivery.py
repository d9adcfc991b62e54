"""Format 3 end to end: a one-item edit on the portal sends the item's new pages, its column's
changed parts and channel.xml — nothing else —, the parts it replaced are collected like old
pages, and verify and the exports read the channel through the parts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from feeds.channel import NS, folder_reader, headend_manifest, manifest_tree
from feeds.xmlsafe import parse_xml
from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.ops import run_cycle
from pusher.ops.exports import export_version
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.stages.outbox import verify
from pusher.store.models import ChannelVersion, Item
from pusher.web.httpserve import StaticServer

ART = "art/2026/11/20/art_1001_5101.html"


def parts(headend: Path) -> dict[str, str]:
    """The headend's parts → the column each belongs to ("" for the home menu's)."""
    root = parse_xml((headend / "channel.xml").read_bytes())
    out: dict[str, str] = {}

    def walk(sha: str, column: str) -> None:
        out[f"assets/{sha}.xml"] = column
        for child in parse_xml((headend / f"assets/{sha}.xml").read_bytes()).get("parts", "").split():
            walk(child, column)

    walk(root.find(f"{{{NS}}}home").get("part", ""), "")
    for c in root.iter(f"{{{NS}}}column"):
        walk(c.get("part", ""), c.get("id", ""))
    assert set(out) == {h for h in manifest_tree((headend / "channel.xml").read_bytes(), folder_reader(headend)) if h.endswith(".xml")}
    return out


def test_a_one_item_edit_sends_its_pages_its_column_parts_and_the_root(portal: StaticServer, portal_dir: Path, tmp_path: Path) -> None:
    cfg = demo_config(portal.url, tmp_path / "work")
    cfg["targets"][0]["options"]["grace_hours"] = 0  # what is replaced goes at once
    rt = Runtime(parse_settings(cfg, tmp_path))
    headend = Path(cfg["targets"][0]["options"]["path"])
    try:
        first = run_cycle(rt)
        assert first.version == 1 and first.delivered
        before = parts(headend)
        assert len({c for c in before.values()}) == len(cfg["columns"]) + 1  # and the home menu's
        files_before = {p.name for p in (headend / "assets").iterdir()}
        with rt.store.read() as db:
            item = db.exec(select(Item).where(col(Item.url).endswith("/" + ART))).one()
        art = portal_dir / ART
        art.write_text(art.read_text(encoding="utf-8").replace("烧荒烧炭", "烧荒烧炭、焚烧秸秆", 1), encoding="utf-8")
        poll_source(rt, "notices", recheck=[item.id or 0])
        second = run_cycle(rt)
        assert second.version == 2 and second.delivered
        [d] = second.deliveries
        after = parts(headend)
        new = {h: c for h, c in after.items() if h not in before}
        assert new and set(new.values()) == {item.column}, "only the edited item's column changed"
        root_written = (headend / "channel.xml").stat().st_mtime_ns
        assert all((headend / h).stat().st_mtime_ns <= root_written for h in new), "a part landed after the root naming it"
        with rt.store.read() as db:
            cv1, cv2 = (db.get(ChannelVersion, v) for v in (1, 2))
        assert cv1 is not None and cv2 is not None
        new_pages = {a for a, _ in json.loads(cv2.assets) if a.endswith(".png")} - {a for a, _ in json.loads(cv1.assets)}
        assert new_pages and d.files == len(new_pages) + len(new) + 1  # pages, parts, channel.xml
        # What the edit replaced is collected like an old page; nothing else went.
        files_after = {p.name for p in (headend / "assets").iterdir()}
        gone = {f"assets/{n}" for n in files_before - files_after}
        assert {h for h in gone if h.endswith(".xml")} == set(before) - set(after)
        assert all(h.endswith((".png", ".xml")) for h in gone)
        # The whole channel still reads back, verify checks the parts, exports see every item.
        whole = parse_xml(headend_manifest(headend))
        assert len(list(whole.iter(f"{{{NS}}}item"))) == cv2.items
        assert verify(rt, "headend", deep=True).ok
        rss = export_version(rt, "rss")
        assert rss.version == 2 and rss.data.count(b"<item>") == min(cv2.items, rt.settings.broadcast.rss_items)
    finally:
        rt.close()
