"""Two nodes that share nothing but the PostgreSQL database (issue 19): separate workdirs, as on
two machines. Node A polls, screens and draws; node B publishes, makes the playout video and
delivers to the headend (a folder), then draws an item whose picture only A fetched. B's
whole workdir is deleted and B still delivers a complete channel, with nothing drawn or
encoded again: pages, exports, segments, their index and the pictures come from the database.
B cannot draw a lost page (its restore is off), so whatever it sends came from the database."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import col, select

from feeds.channel import folder_reader, manifest_assets, manifest_tree, manifest_version
from feeds.exports import manifest_exports, spec_of_manifest
from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.names import ITEM_OWNER_PREFIX
from pusher.ops.round import run_round
from pusher.runtime import Runtime
from pusher.stages import playout
from pusher.stages.manifest import full_manifest
from pusher.stages.poll import poll_source
from pusher.states import ItemState
from pusher.store.assets import CachedAssets
from pusher.store.models import Blob, ChannelVersion, Item, Page
from pusher.web.httpserve import StaticServer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="the playout video needs FFmpeg (CI installs it)"),
]


def node(portal: StaticServer, tmp_path: Path, name: str, pg_url: str) -> Runtime:
    raw = demo_config(portal.url, tmp_path / f"node-{name}")
    raw["channel"]["database"] = pg_url
    raw["targets"] = [{"name": "headend", "kind": "folder", "options": {"path": str(tmp_path / "headend")}}]
    raw["broadcast"] = {"page_seconds": 2, "playout": {"enabled": True, "outputs": ["hls", "loop"], "video": "sd"}}
    rt = Runtime(parse_settings(raw, tmp_path))
    assert isinstance(rt.assets, CachedAssets), "PostgreSQL must choose the shared store by itself (channel.assets = auto)"
    return rt


def poll_all(rt: Runtime, *, recheck: bool = False) -> None:
    for s in rt.settings.sources:
        assert not poll_source(rt, s.name, recheck=recheck).error


def complete(headend: Path) -> tuple[int, bytes]:
    """What a box relies on: every file channel.xml names is there, whole, with its sha256."""
    manifest = (headend / "channel.xml").read_bytes()
    refs = manifest_tree(manifest, folder_reader(headend))  # through the column manifests
    assert refs
    for href, (sha, size) in refs.items():
        data = (headend / href).read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, f"{href} is incomplete or corrupt"
    for href in manifest_exports(manifest).values():
        assert (headend / href).is_file(), href
    return manifest_version(manifest), manifest


def local_files(rt: Runtime) -> set[str]:
    work = rt.settings.channel.workdir
    return {str(p.relative_to(work)) for p in work.rglob("*") if p.is_file() and p.name != ".tvpusher-stores.json"}


def test_two_nodes_on_separate_workdirs_deliver_a_complete_channel(
    portal: StaticServer, portal_dir: Path, tmp_path: Path, pg_url: str
) -> None:
    a, b = node(portal, tmp_path, "A", pg_url), node(portal, tmp_path, "B", pg_url)
    headend = tmp_path / "headend"
    try:
        b.assets.restore = None  # B draws nothing lost: all it sends must come from the database

        # A polls, screens and draws; B has not seen one page file.
        poll_all(a)
        rnd = run_round(a, steps=("screen", "render"))
        assert rnd.rendered.pages > 20
        assert local_files(b) == set()

        # B publishes (the playout video included) and delivers.
        rnd = run_round(b, steps=("publish", "deliver"))
        assert rnd.version is not None and [d.status for d in rnd.deliveries] == ["done"], rnd.deliveries
        version, manifest = complete(headend)
        assert version == rnd.version.version
        with a.store.read() as db:
            drawn = {p.sha256 for p in db.exec(select(Page).where(col(Page.owner).startswith(ITEM_OWNER_PREFIX)))}
        assert drawn and all(a.assets.path(sha).is_file() for sha in drawn)  # the items' pages: drawn on A…
        assert all(b.assets.path(sha).is_file() for sha in drawn)  # …and read from the database by B
        assert all((b.assets.root / h.removeprefix("assets/")).is_file() for h in manifest_assets(manifest))
        hls = manifest_exports(manifest)["hls"]
        assert (headend / hls).is_file() and (headend / manifest_exports(manifest)["loop"]).is_file()

        # A new item with a picture: A fetches the picture while polling, B draws the item.
        buf = io.BytesIO()
        Image.new("RGB", (400, 300), (30, 120, 60)).save(buf, format="PNG")
        (portal_dir / "img").mkdir()
        (portal_dir / "img/map.png").write_bytes(buf.getvalue())
        art = portal_dir / "art/2026/11/20/art_1001_5101.html"
        art.write_text(
            art.read_text(encoding="utf-8").replace(
                '<div id="zoom">', '<div id="zoom"><p><img src="/img/map.png" alt="防火区域图"></p>', 1
            ),
            encoding="utf-8",
        )
        poll_all(a, recheck=True)  # the item changed: screened again by A, drawn by B
        run_round(a, steps=("screen",))
        rnd = run_round(b, steps=("render", "publish", "deliver"))
        assert rnd.rendered.items == 1 and [d.status for d in rnd.deliveries] == ["done"], rnd.deliveries
        assert any(p.startswith("images/") for p in local_files(b)), "B drew the page without the picture A fetched"
        with a.store.read() as db:
            item = db.exec(select(Item).where(col(Item.url).endswith("art_1001_5101.html"))).one()
        assert item.state == ItemState.PUBLISHED
        version2, manifest2 = complete(headend)
        assert version2 == version + 1

        # B's node loses its whole workdir (a new disk, a new machine); no page may be drawn or
        # encoded again, and the headend, emptied, is filled again from the database alone.
        shutil.rmtree(b.settings.channel.workdir)
        shutil.rmtree(headend)
        headend.mkdir()
        b2 = node(portal, tmp_path, "B", pg_url)
        b2.assets.restore = None
        try:
            with b2.store.read() as db:
                cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
            assert cv is not None
            spec, _, _ = spec_of_manifest(full_manifest(b2, cv))
            again = playout.build(b2, spec)
            assert again.encoded == 0, "segments encoded again: their index was not shared"
            from pusher.stages.outbox import verify

            rep = verify(b2, "headend")
            assert rep.repaired is not None and rep.repaired.status == "done", rep
            v3, manifest3 = complete(headend)
            assert v3 == version2 and manifest3 == manifest2 and not b2.assets.lost
        finally:
            b2.close()

        # The loop (several MB) is stored in chunk rows, never one value.
        with a.store.read() as db:
            loop = manifest_exports(manifest2)["loop"]
            chunks = db.exec(select(func.count()).select_from(Blob).where(Blob.name == loop)).one()  # type: ignore[arg-type]
        assert chunks == -(-(headend / loop).stat().st_size // (1 << 20))
    finally:
        a.close()
        b.close()
