"""Segments remuxed into one loop, and the playlists over them."""

from __future__ import annotations

import errno
import itertools
import os
import subprocess
from pathlib import Path

import pytest

from pusher.errors import PlayoutError
from renderers.video import PROFILES, MuxSettings, build_loop, encode_segment, parse_hls, write_hls

from .conftest import (
    continuity_errors,
    decode_errors,
    expected_luma,
    luma_at,
    make_page,
    needs_ffmpeg,
    packets,
    pid_counts,
    probe_all,
    psnr,
    video_frames,
)

pytestmark = needs_ffmpeg

DWELL = [2.0, 1.6, 2.4]  # 6 s: ends mid-GOP, so a truncated GOP meets the next keyframe


@pytest.fixture(scope="module")
def hd_pages() -> list[bytes]:
    return [make_page(1280, 720, i) for i in range(len(DWELL))]


@pytest.fixture(scope="module")
def hd_segments(hd_pages: list[bytes]) -> list[bytes]:
    return [encode_segment(p, PROFILES["hd"], s) for p, s in zip(hd_pages, DWELL, strict=True)]


def _check_continuous(path: Path, seconds: float) -> None:
    frames = video_frames(path)
    assert len(frames) == round(seconds * 25)
    pts = [int(f["pts"]) for f in frames]
    assert all(b - a == 3600 for a, b in itertools.pairwise(pts)), "a timestamp jump at a join"
    keys = [i for i, f in enumerate(frames) if f["key_frame"]] + [len(frames)]
    assert all(b - a <= 50 for a, b in itertools.pairwise(keys))
    audio = [int(p["pts"]) for p in packets(path, "a")]
    step = audio[1] - audio[0]
    assert all(b - a == step for a, b in itertools.pairwise(audio)), "audio timestamps jump at a join"
    assert abs(audio[-1] + step - (pts[-1] + 3600)) <= step / 2 + 1, "audio drifted from video"
    assert decode_errors(path) == ""


def test_hd_loop_is_continuous_and_shows_each_page(tmp_path: Path, hd_pages: list[bytes], hd_segments: list[bytes]) -> None:
    out = tmp_path / "loop.ts"
    info = build_loop(hd_segments, out)
    assert (info.segments, info.frames, info.starts) == (3, 150, (0.0, 2.0, 3.6))
    assert info.duration == pytest.approx(sum(DWELL)) and info.bytes == out.stat().st_size
    _check_continuous(out, sum(DWELL))
    prog = probe_all(out)["programs"][0]
    assert prog["tags"] == {"service_name": "永康数字电视政务频道", "service_provider": "永康市融媒体中心"}
    assert continuity_errors(out.read_bytes()) == []
    for png, start, dwell in zip(hd_pages, info.starts, DWELL, strict=True):
        got = luma_at(out, start + dwell / 2, 1280, 720)
        assert psnr(got, expected_luma(png, 1280, 720, "bt709")) >= 35
    # Pages differ enough that a frame of the wrong page would fail the check.
    assert psnr(luma_at(out, 1.0, 1280, 720), expected_luma(hd_pages[1], 1280, 720, "bt709")) < 25


def test_cbr_loop_is_exactly_the_muxrate_with_null_padding(tmp_path: Path, hd_segments: list[bytes]) -> None:
    out = tmp_path / "cbr.ts"
    mux = MuxSettings(service_id=7, pmt_pid=0x200, video_pid=0x300, audio_pid=0x301, muxrate=2_500_000, service_name="政务频道测试")
    info = build_loop(hd_segments, out, mux)
    size = out.stat().st_size
    assert size == pytest.approx(2_500_000 * sum(DWELL) / 8, rel=0.02)
    data = out.read_bytes()
    counts = pid_counts(data)
    assert counts[0x1FFF] > 0 and {0x0, 0x11, 0x200, 0x300, 0x301} <= set(counts)
    assert continuity_errors(data) == []
    prog = probe_all(out)["programs"][0]
    assert (prog["program_num"], prog["pmt_pid"], prog["pcr_pid"]) == (7, 0x200, 0x300)
    assert prog["tags"]["service_name"] == "政务频道测试"
    assert info.bitrate == pytest.approx(2_500_000, rel=0.01)
    _check_continuous(out, sum(DWELL))


def test_a_muxrate_below_the_content_is_refused(tmp_path: Path, hd_segments: list[bytes]) -> None:
    with pytest.raises(PlayoutError, match="too low"):
        build_loop(hd_segments, tmp_path / "x.ts", MuxSettings(muxrate=500_000))
    assert list(tmp_path.iterdir()) == []


def test_sd_loop_from_segment_files(tmp_path: Path) -> None:
    pngs = [make_page(720, 576, i) for i in range(2)]
    paths = []
    for i, png in enumerate(pngs):
        p = tmp_path / f"{i}.ts"
        p.write_bytes(encode_segment(png, PROFILES["sd"], 1.2))
        paths.append(p)
    out = tmp_path / "sd.ts"
    info = build_loop(paths, out, MuxSettings(muxrate=4_000_000))
    _check_continuous(out, 2.4)
    v = next(s for s in probe_all(out)["streams"] if s["codec_type"] == "video")
    assert (v["codec_name"], v["sample_aspect_ratio"], v["display_aspect_ratio"]) == ("mpeg2video", "16:15", "4:3")
    for png, start in zip(pngs, info.starts, strict=True):
        assert psnr(luma_at(out, start + 0.6, 720, 576), expected_luma(png, 720, 576, "bt601", (4, 3))) >= 30


def test_segments_of_different_profiles_do_not_mix(tmp_path: Path, hd_segments: list[bytes]) -> None:
    sd = encode_segment(make_page(720, 576, 0), PROFILES["sd"], 1.0)
    with pytest.raises(PlayoutError, match="does not match"):
        build_loop([hd_segments[0], sd], tmp_path / "x.ts")
    with pytest.raises(PlayoutError, match=r"not a readable MPEG-TS|too short"):
        build_loop([b"\x47" + b"\x00" * 1000], tmp_path / "y.ts")
    with pytest.raises(PlayoutError, match="cannot read segment"):
        build_loop([tmp_path / "missing.ts"], tmp_path / "z.ts")
    assert list(tmp_path.iterdir()) == []


class _DiskFull:
    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, data: bytes) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)


def test_disk_full_is_a_playout_error_and_leaves_no_loop(tmp_path: Path, hd_segments: list[bytes]) -> None:
    with pytest.raises(PlayoutError, match="No space left on device"):
        build_loop(hd_segments, _DiskFull(100_000))  # type: ignore[arg-type]
    gone = tmp_path / "gone"
    with pytest.raises(PlayoutError, match="cannot write the loop"):
        build_loop(hd_segments, gone / "loop.ts")
    # A real full disk: a 64 KiB tmpfs would need root; /dev/full fails every write.
    if Path("/dev/full").exists():
        with open("/dev/full", "wb") as full, pytest.raises(PlayoutError, match="No space left"):
            build_loop(hd_segments, full)
    target = tmp_path / "loop.ts"
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    os.replace = failing_replace  # type: ignore[assignment]
    try:
        with pytest.raises(PlayoutError, match="No space"):
            build_loop(hd_segments, target)
    finally:
        os.replace = real_replace
    assert list(tmp_path.iterdir()) == []


def test_hls_playlists_play_with_ffmpeg(tmp_path: Path, hd_segments: list[bytes]) -> None:
    assets, playout = tmp_path / "assets", tmp_path / "playout"
    assets.mkdir()
    playout.mkdir()
    items = []
    for i, (seg, dwell) in enumerate(zip(hd_segments, DWELL, strict=True)):
        (assets / f"{i:02x}.ts").write_bytes(seg)
        items.append((f"{i:02x}.ts", dwell, f"第{i + 1}条 通知"))
    written = write_hls(items, playout, prefix="../assets/")
    parsed = parse_hls(written["index.m3u8"].read_text())
    assert (parsed.version, parsed.target_duration, parsed.vod, parsed.ended) == (3, 3, True, True)
    assert [e.href for e in parsed.entries] == ["../assets/00.ts", "../assets/01.ts", "../assets/02.ts"]
    assert parsed.discontinuities == (1, 2) and parsed.entries[0].title == "第1条 通知"
    assert written["loop.ffconcat"].read_text().startswith("ffconcat version 1.0\nfile '../assets/00.ts'\nduration 2.000\n")
    for name in ("index.m3u8", "loop.ffconcat"):
        out = tmp_path / f"{name}.ts"
        args = ["-safe", "0"] if name.endswith("ffconcat") else ["-allowed_extensions", "ALL"]
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", *args, "-i", str(playout / name), "-c", "copy", "-f", "mpegts", str(out)],
            check=True,
            timeout=60,
            capture_output=True,
        )
        assert len(video_frames(out)) == 150, name
    with pytest.raises(PlayoutError, match="positive duration"):
        write_hls([("a.ts", 0, "")], playout)
