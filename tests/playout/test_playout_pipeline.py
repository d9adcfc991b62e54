"""Playout through the pipeline: the demo channel with ``[broadcast.playout]`` on, judged by
ffprobe/ffmpeg (never by our own decoder): an HLS playlist in the rolling order and timing the
EPG uses, its segments in the headend, a one-item change that re-encodes only that item's pages
and the menus listing it, and a stored version exported as HLS."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from feeds.channel import headend_manifest
from feeds.exports import manifest_exports
from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.web.httpserve import StaticServer

from .conftest import needs_ffmpeg

pytestmark = needs_ffmpeg


def _rt(portal: StaticServer, tmp_path: Path) -> Runtime:
    raw = demo_config(portal.url, tmp_path / "work")
    raw.setdefault("broadcast", {}).update(
        {
            "page_seconds": 2,
            "exports": ["xmltv"],
            "playout": {"enabled": True, "outputs": ["hls"], "video": "sd", "service_name": "永康政务"},
        }
    )
    return Runtime(parse_settings(raw, tmp_path))


def _playlist(path: Path) -> list[tuple[float, str]]:
    out, secs = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#EXTINF:"):
            secs = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#") and secs is not None:
            out.append((secs, line))
            secs = None
    return out


def _probe(path: Path) -> dict:  # type: ignore[type-arg]
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", "-show_programs", str(path)],
                       capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_the_demo_channel_goes_on_air_as_hls(portal: StaticServer, portal_dir: Path, tmp_path: Path) -> None:
    rt = _rt(portal, tmp_path)
    try:
        rep = run_cycle(rt)
        assert rep.version == 1 and not rep.delivery_errors
        headend = rt.settings.channel.workdir / "headend"
        manifest = headend_manifest(headend)  # every page, through the column manifests
        exports = manifest_exports(manifest)
        assert set(exports) == {"xmltv", "hls", "ffconcat"}
        entries = _playlist(headend / "playout.m3u8")
        pages = manifest.count(b"<page ")
        assert len(entries) == pages and all(s == 2.0 for s, _ in entries)
        for _, href in entries:
            assert (headend / href).is_file(), href  # every segment travelled with the version
        first = _probe(headend / entries[0][1])
        v = next(s for s in first["streams"] if s["codec_type"] == "video")
        assert (v["codec_name"], v["width"], v["height"], v["display_aspect_ratio"]) == ("mpeg2video", 720, 576, "4:3")
        assert first["programs"][0]["tags"]["service_name"] == "永康政务"
        # The EPG and the playout agree: one programme per slot, as long as its pages' segments.
        epg = (headend / "epg.xml").read_text(encoding="utf-8")
        assert 'units="seconds">2<' in epg or 'units="seconds">4<' in epg

        # Decoding the whole HLS playlist with ffmpeg: no error, the playlist's duration.
        r = subprocess.run(["ffmpeg", "-v", "error", "-allowed_extensions", "ALL", "-i", str(headend / "playout.m3u8"), "-f", "null", "-"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr[-2000:]
        # A playout server that loops a list reads the same segments from playout.ffconcat.
        r = subprocess.run(["ffprobe", "-v", "error", "-f", "concat", "-safe", "0", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(headend / "playout.ffconcat")], capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0 and abs(float(r.stdout) - sum(s for s, _ in entries)) < 0.5, (r.stdout, r.stderr[-500:])

        # One item changes on the portal: only its pages and the menus listing it are encoded again.
        art = portal_dir / "art/2026/11/20/art_1001_5101.html"
        art.write_text(art.read_text(encoding="utf-8").replace("保护森林资源", "保护森林资源和生态环境"), encoding="utf-8")
        listing = portal_dir / "col/col1001/index.html"
        listing.write_text(listing.read_text(encoding="utf-8").replace("2026-11-20", "2026-11-21"), encoding="utf-8")
        segments = {h for _, h in entries}
        assert run_cycle(rt).version == 2
        again = {h for _, h in _playlist(headend / "playout.m3u8")}
        fresh = again - segments
        assert 1 <= len(fresh) <= 6, f"{len(fresh)} of {len(again)} segments encoded again for a one-item change"
    finally:
        rt.close()


def test_export_hls_of_a_stored_version(portal: StaticServer, tmp_path: Path) -> None:
    from pusher.cli import main

    rt = _rt(portal, tmp_path)
    try:
        run_cycle(rt)
    finally:
        rt.close()
    from pusher.demo import write_demo_config

    cfg = write_demo_config(portal.url, tmp_path / "work")  # playout is not configured: export works all the same
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[broadcast]\npage_seconds = 2\n", encoding="utf-8")
    out = tmp_path / "hls"
    assert main(["export", "hls", "--out", str(out), "--version", "1", "--config", str(cfg)]) == 0
    entries = _playlist(out / "index.m3u8")
    assert entries and all((out / h).is_file() for _, h in entries)
    assert (out / "loop.ffconcat").read_text(encoding="utf-8").startswith("ffconcat version 1.0")


def test_export_ts_is_one_loop_a_decoder_reads_through(portal: StaticServer, tmp_path: Path) -> None:
    from pusher.cli import main
    from pusher.demo import write_demo_config

    rt = _rt(portal, tmp_path)
    try:
        run_cycle(rt)
        pages = headend_manifest(rt.settings.channel.workdir / "headend").count(b"<page ")
    finally:
        rt.close()
    cfg = write_demo_config(portal.url, tmp_path / "work")
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[broadcast]\npage_seconds = 2\n[broadcast.playout]\nvideo = "sd"\nmuxrate_kbps = 3000\n',
                   encoding="utf-8")  # fmt: skip
    loop = tmp_path / "loop.ts"
    assert main(["export", "ts", "--out", str(loop), "--config", str(cfg)]) == 0
    info = _probe(loop)
    assert abs(float(info["format"]["duration"]) - 2 * pages) < 1.0
    assert abs(loop.stat().st_size * 8 / (2 * pages) - 3_000_000) / 3_000_000 < 0.03  # constant mux rate
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(loop), "-f", "null", "-"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr[-2000:]


def test_live_playout_takes_a_new_version_at_a_segment_boundary_and_logs_what_aired(
    portal: StaticServer, portal_dir: Path, tmp_path: Path
) -> None:
    """``pusher playout`` as the library runs it: a UDP receiver on 127.0.0.1 records the stream
    across a publication; ffmpeg decodes the capture without an error, the continuity counters
    never skip, and the as-run log names both versions, page by page."""
    import socket
    import threading

    from sqlmodel import select

    from pusher.ops import retract
    from pusher.ops.playout import air
    from pusher.store.models import AsRun, Item

    from .conftest import continuity_errors

    rt = _rt(portal, tmp_path)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    port = rx.getsockname()[1]
    captured = bytearray()
    stop, got = threading.Event(), threading.Event()

    def receive() -> None:
        while not got.is_set():
            try:
                captured.extend(rx.recv(65536))
            except TimeoutError:
                continue

    listener = threading.Thread(target=receive, daemon=True)
    try:
        run_cycle(rt)
        listener.start()
        versions: list[int] = []
        airing = threading.Thread(
            target=lambda: air(rt, f"udp://127.0.0.1:{port}", stop, check_every=0.5, on_version=versions.append), daemon=True
        )
        airing.start()
        threading.Event().wait(3)
        with rt.store.read() as db:
            item = db.exec(select(Item).where(Item.url.endswith("art_1001_5101.html"))).one()  # type: ignore[attr-defined]
        retract(rt, item.id or 0, "撤下测试")
        from pusher.ops import PUBLISH_AND_DELIVER, run_round

        assert run_round(rt, steps=PUBLISH_AND_DELIVER).version is not None
        for _ in range(60):
            if len(versions) > 1:
                break
            threading.Event().wait(0.25)
        threading.Event().wait(3)  # a few segments of the new version
        stop.set()
        airing.join(timeout=30)
        got.set()
        listener.join(timeout=5)
        assert versions == [1, 2]
        capture = tmp_path / "capture.ts"
        capture.write_bytes(bytes(captured))
        assert len(captured) > 100_000
        assert continuity_errors(bytes(captured)) == []
        r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(capture), "-f", "null", "-"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr[-2000:]
        with rt.store.read() as db:
            rows = list(db.exec(select(AsRun).order_by(AsRun.id)))  # type: ignore[arg-type]
        assert {r.channel_version for r in rows} == {1, 2}
        assert [r.channel_version for r in rows] == sorted(r.channel_version for r in rows)  # no going back
        assert all(r.output == f"udp://127.0.0.1:{port}" and r.seconds == 2 for r in rows)
        assert rows[0].kind == "home" or rows[0].kind == "alert"
        assert not any(r.item == f"i{item.id}" for r in rows if r.channel_version == 2)  # the retracted item left the air
    finally:
        stop.set()
        got.set()
        rx.close()
        rt.close()


def test_the_as_run_log_is_readable_by_pusher_report(portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from pusher.cli import main
    from pusher.demo import write_demo_config
    from pusher.store.models import AsRun

    rt = _rt(portal, tmp_path)
    at = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 2026-12-01 00:30 in Asia/Shanghai
    try:
        with rt.store.write() as db:
            db.add_all([AsRun(aired_at=at, seconds=10, channel_version=3, page="i7-1", item="i7", kind="item", output="udp://x:1"),
                        AsRun(aired_at=at, seconds=6, channel_version=3, page="home-1", kind="home", output="udp://x:1")])  # fmt: skip
    finally:
        rt.close()
    cfg = write_demo_config(portal.url, tmp_path / "work")
    assert main(["report", "--as-run", "2026-12-01", "--format", "json", "--config", str(cfg)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["page"], r["item"], r["version"], r["aired_at"]) for r in rows] == [
        ("i7-1", "i7", 3, "2026-12-01T00:30:00+08:00"), ("home-1", "", 3, "2026-12-01T00:30:00+08:00")]  # fmt: skip
    assert main(["report", "--year", "2026", "--format", "json", "--config", str(cfg)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert (rep["aired_seconds"], rep["aired_items"], rep["aired_by_kind"]) == (16, 1, {"home": 6, "item": 10})


def test_a_disk_that_fills_during_an_encode_keeps_the_previous_loop_on_air(
    portal: StaticServer, portal_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import errno

    from pusher.store.assets import FolderAssets as AssetStore  # the folder under every asset store (CachedAssets too)

    rt = _rt(portal, tmp_path)
    try:
        run_cycle(rt)
        headend = rt.settings.channel.workdir / "headend"
        before = manifest_exports((headend / "channel.xml").read_bytes())["hls"]
        real_put = AssetStore.put

        def full(self: AssetStore, data: bytes, ext: str = "png") -> str:
            if ext == "ts":
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_put(self, data, ext)

        monkeypatch.setattr(AssetStore, "put", full)
        art = portal_dir / "art/2026/11/20/art_1001_5101.html"
        art.write_text(art.read_text(encoding="utf-8").replace("保护森林资源", "保护森林资源和生态环境"), encoding="utf-8")
        listing = portal_dir / "col/col1001/index.html"
        listing.write_text(listing.read_text(encoding="utf-8").replace("2026-11-20", "2026-11-21"), encoding="utf-8")
        rep = run_cycle(rt)
        assert rep.version == 2 and not rep.delivery_errors  # the pages still go out
        manifest = (headend / "channel.xml").read_bytes()
        assert manifest_exports(manifest)["hls"] == before  # the loop on air is the last whole one
        assert "No space left on device" in caplog.text and "previous loop stays on air" in caplog.text
        assert not list(rt.assets.root.glob(".*.tmp"))  # nothing half-written left in the cache
        for _, href in _playlist(headend / "playout.m3u8"):
            assert (headend / href).is_file()
    finally:
        rt.close()


def test_alerts_come_first_and_again_at_their_interval() -> None:
    from feeds.channel import AlertSpec, ChannelSpec, ColumnSpec, ItemSpec, PageRef
    from feeds.exports import schedule

    def page(pid: str) -> PageRef:
        return PageRef(pid, "0" * 64, 1, 720, 576)

    items = tuple(
        ItemSpec(id=f"i{n}", column="c", version=1, title=f"t{n}", url="", pages=(page(f"i{n}-1"), page(f"i{n}-2"))) for n in range(6)
    )
    spec = ChannelSpec("频道", "sd", 720, 576, (page("home-1"),), (ColumnSpec("c", "栏目", None, 6, (page("c-c-1"),)),), items,
                       (AlertSpec("a1", "urgent", "暴雨预警", None, None, (page("alert-1-1"),)),))  # fmt: skip
    kinds = [s.kind for s in schedule(spec, 10, alert_every=40)]
    assert kinds[0] == "alert"
    # 10 s pages: home 10, column 10, then 20 s per item; the alert comes back once 40 s have passed.
    assert kinds == ["alert", "home", "column", "item", "alert", "item", "item", "alert", "item", "item", "alert", "item"]
    assert [s.kind for s in schedule(spec, 10)].count("alert") == 1


def test_exported_loops_and_playlists_are_readable_by_a_playout_server(tmp_path: Path) -> None:
    """mkstemp makes files 0600; a playout server running as another user must read them."""
    import stat

    from renderers.video import MuxSettings, build_loop, encode_segment, write_hls
    from renderers.video.profiles import PROFILES

    from .conftest import make_page

    seg = encode_segment(make_page(1280, 720, 0), PROFILES["hd"], 1.0)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.ts").write_bytes(seg)
    build_loop([seg, seg], tmp_path / "loop.ts", MuxSettings())
    written = write_hls([("a.ts", 1.0, "页")], tmp_path / "assets", prefix="")
    for path in [tmp_path / "loop.ts", *written.values()]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path


@pytest.mark.parametrize(("aspect", "video", "dar"), [("4:3", "sd", "4:3"), ("16:9", "sd-wide", "16:9")])
def test_sd_pages_drawn_for_the_set_fill_the_frame_unscaled(
    portal: StaticServer, tmp_path: Path, aspect: str, video: str, dar: str
) -> None:
    """render.aspect draws SD for the set; the playout then carries those samples as they are
    (no pillarbox, no rescale) and signals the same aspect, so glyphs stay square on the set."""
    import numpy as np
    from PIL import Image

    from pusher.stages import playout

    raw = demo_config(portal.url, tmp_path / "work")
    raw["channel"]["profile"] = "sd"
    raw["render"] = {"aspect": aspect}
    raw["broadcast"] = {"page_seconds": 2, "playout": {"enabled": True}}
    rt = Runtime(parse_settings(raw, tmp_path))
    try:
        run_cycle(rt)
        profile, _ = playout.settings_of(rt)
        assert profile.name == video
        headend = rt.settings.channel.workdir / "headend"
        _, seg = _playlist(headend / "playout.m3u8")[0]
        v = next(s for s in _probe(headend / seg)["streams"] if s["codec_type"] == "video")
        assert (v["width"], v["height"], v["display_aspect_ratio"]) == (720, 576, dar)
        png = tmp_path / "frame.png"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(headend / seg), "-ss", "1", "-frames:v", "1", str(png)], timeout=60, check=True)
        got = np.asarray(Image.open(png).convert("L"), dtype=float)
        page = next(p for p in manifest_pages(headend))
        want = np.asarray(Image.open(headend / page).convert("RGB").convert("L"), dtype=float)
        mse = float(((got - want) ** 2).mean())
        assert 10 * np.log10(255**2 / max(mse, 1e-9)) >= 30  # the page's samples, not a squeezed copy
    finally:
        rt.close()


def manifest_pages(headend: Path) -> list[str]:
    from feeds.channel import folder_reader, manifest_tree

    return [h for h in manifest_tree((headend / "channel.xml").read_bytes(), folder_reader(headend)) if h.endswith(".png")]


@pytest.mark.parametrize(
    ("profile", "size", "sar"), [("hd", (1280, 720), (1, 1)), ("sd", (720, 576), (16, 15)), ("sd-wide", (720, 576), (64, 45))]
)
def test_the_palette_fast_path_gives_the_same_planes(profile: str, size: tuple[int, int], sar: tuple[int, int]) -> None:
    """Pages that fill the frame as drawn are converted through their palette; the planes (and
    so the content-addressed segments) must be the ones the general path makes."""
    from fractions import Fraction

    import numpy as np

    from renderers.video.picture import fit_page, load_page, page_yuv420, rgb_to_yuv420
    from renderers.video.profiles import PROFILES

    from .conftest import make_page

    p = PROFILES[profile]
    for seed in range(3):
        png = make_page(*size, seed)
        fast = page_yuv420(png, p, Fraction(*sar))
        assert np.array_equal(fast, rgb_to_yuv420(fit_page(load_page(png), p, Fraction(*sar)), p.matrix))
