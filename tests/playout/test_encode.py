"""A page becomes a segment: the format boxes decode, the picture they show, the timing."""

from __future__ import annotations

import dataclasses
import io
import itertools
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from pusher.errors import PlayoutError
from renderers.video import PROFILES, encode_segment
from renderers.video import profiles as profiles_module

from .conftest import decode_errors, expected_luma, luma_at, make_page, needs_ffmpeg, packets, probe_all, psnr, video_frames

pytestmark = needs_ffmpeg


def _segment(tmp_path: Path, profile: str, seconds: float, png: bytes, name: str = "seg.ts") -> Path:
    path = tmp_path / name
    path.write_bytes(encode_segment(png, PROFILES[profile], seconds))
    return path


def _streams(info: dict) -> tuple[dict, dict]:
    (v,) = [s for s in info["streams"] if s["codec_type"] == "video"]
    (a,) = [s for s in info["streams"] if s["codec_type"] == "audio"]
    return v, a


def _check_timing(path: Path, seconds: float) -> None:
    frames = video_frames(path)
    assert len(frames) == round(seconds * 25)
    keys = [i for i, f in enumerate(frames) if f["key_frame"]]
    assert keys[0] == 0 and all(b - a <= 50 for a, b in zip(keys, [*keys[1:], len(frames)], strict=True)), keys
    assert {f["pict_type"] for f in frames} <= {"I", "P"}
    pts = [int(f["pts"]) for f in frames]
    assert all(b - a == 3600 for a, b in itertools.pairwise(pts)), "video pts not one frame apart"
    audio = packets(path, "a")
    a_end = int(audio[-1]["pts"]) + int(audio[-1]["duration"])
    assert abs(a_end - (pts[-1] + 3600)) <= int(audio[0]["duration"]), "audio does not cover the video to within one frame"


def test_hd_segment_is_h264_high_720p25_bt709_with_stereo_aac(tmp_path: Path) -> None:
    png = make_page(1280, 720, 0)
    path = _segment(tmp_path, "hd", 5.0, png)
    info = probe_all(path)
    v, a = _streams(info)
    assert (v["codec_name"], v["profile"], v["width"], v["height"]) == ("h264", "High", 1280, 720)
    assert v["level"] == 40 and v["r_frame_rate"] == "25/1" and v.get("sample_aspect_ratio", "1:1") == "1:1"
    assert (v["pix_fmt"], v["color_range"], v["color_space"], v["color_primaries"], v["color_transfer"]) == (
        "yuv420p",
        "tv",
        "bt709",
        "bt709",
        "bt709",
    )
    assert (a["codec_name"], a["channels"], a["sample_rate"]) == ("aac", 2, "48000")
    tags = info["programs"][0]["tags"]
    assert tags["service_name"] == "永康数字电视政务频道" and tags["service_provider"] == "永康市融媒体中心"
    assert (int(v["id"], 16), int(a["id"], 16)) == (0x100, 0x101)
    _check_timing(path, 5.0)
    assert decode_errors(path) == ""
    expected = expected_luma(png, 1280, 720, "bt709")
    # The first frame, across a GOP boundary and the last: the same picture, faithfully.
    shots = [luma_at(path, t, 1280, 720) for t in (0.0, 1.9, 2.1, 4.9)]
    assert all((s == shots[0]).all() for s in shots[1:]), "the still changes within the segment"
    assert psnr(shots[0], expected) >= 35


def test_sd_segment_is_mpeg2_main_pal_4x3_with_mp2_and_the_page_undistorted(tmp_path: Path) -> None:
    png = make_page(720, 576, 1)
    path = _segment(tmp_path, "sd", 3.0, png)
    info = probe_all(path)
    v, a = _streams(info)
    assert (v["codec_name"], v["profile"], v["level"], v["width"], v["height"]) == ("mpeg2video", "Main", 8, 720, 576)
    assert (v["sample_aspect_ratio"], v["display_aspect_ratio"], v["r_frame_rate"]) == ("16:15", "4:3", "25/1")
    assert (v["pix_fmt"], v["color_range"], v["color_space"], v["color_primaries"]) == ("yuv420p", "tv", "bt470bg", "bt470bg")
    assert (a["codec_name"], a["channels"], a["sample_rate"]) == ("mp2", 2, "48000")
    _check_timing(path, 3.0)
    assert decode_errors(path) == ""
    got = luma_at(path, 1.5, 720, 576)
    assert psnr(got, expected_luma(png, 720, 576, "bt601", (4, 3))) >= 30
    # Square-pixel content is 675 samples wide in a 16:15 frame: side bars of page background.
    assert abs(float(got[:, :20].mean()) - expected_luma(png, 720, 576, "bt601")[0, 0]) < 2


@pytest.mark.parametrize(("size", "aspect"), [((720, 576), (16, 9)), ((1024, 576), (16, 9))])
def test_sd_wide_signals_64_45_and_fits_the_page(tmp_path: Path, size: tuple[int, int], aspect: tuple[int, int]) -> None:
    png = make_page(*size, 2)
    path = _segment(tmp_path, "sd-wide", 1.0, png)
    v, _ = _streams(probe_all(path))
    assert (v["sample_aspect_ratio"], v["display_aspect_ratio"]) == ("64:45", "16:9")
    assert psnr(luma_at(path, 0.5, 720, 576), expected_luma(png, 720, 576, "bt601", aspect)) >= 30


def test_a_page_drawn_at_the_display_aspect_fills_the_sd_frame(tmp_path: Path) -> None:
    png = make_page(768, 576, 3, bg=(40, 40, 40))
    got = luma_at(_segment(tmp_path, "sd", 1.0, png), 0.5, 720, 576)
    expected = expected_luma(png, 720, 576, "bt601", (4, 3))
    assert psnr(got, expected) >= 30
    assert psnr(got, expected_luma(png, 720, 576, "bt601")) >= 30  # plain squeeze: no bars


def test_fhd_and_hd_with_mp2_audio(tmp_path: Path) -> None:
    fhd = _segment(tmp_path, "fhd", 1.0, make_page(1920, 1080, 4), "fhd.ts")
    v, a = _streams(probe_all(fhd))
    assert (v["width"], v["height"], v["level"], a["codec_name"]) == (1920, 1080, 41, "aac")
    png = make_page(1280, 720, 5)
    hd_mp2 = tmp_path / "mp2.ts"
    hd_mp2.write_bytes(encode_segment(png, PROFILES["hd"].with_(audio_codec="mp2", audio_bitrate=192_000), 1.0))
    assert _streams(probe_all(hd_mp2))[1]["codec_name"] == "mp2"
    assert decode_errors(fhd) == decode_errors(hd_mp2) == ""


def test_a_page_of_another_size_is_scaled_to_hd(tmp_path: Path) -> None:
    png = make_page(1920, 1080, 6)
    got = luma_at(_segment(tmp_path, "hd", 1.0, png), 0.5, 1280, 720)
    assert psnr(got, expected_luma(png, 1280, 720, "bt709")) >= 30


_FRESH_PROCESS = """
import sys, hashlib
from renderers.video import PROFILES, encode_segment
png = sys.stdin.buffer.read()
print(hashlib.sha256(encode_segment(png, PROFILES[sys.argv[1]], 2.0)).hexdigest())
"""


@pytest.mark.parametrize("profile", ["hd", "sd"])
def test_same_page_same_bytes_in_this_and_a_fresh_process(profile: str) -> None:
    import hashlib

    p = PROFILES[profile]
    png = make_page(p.width, p.height, 7)
    first = encode_segment(png, p, 2.0)
    assert encode_segment(png, p, 2.0) == first
    other = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, profile], input=png, capture_output=True, timeout=60, check=True)
    assert other.stdout.decode().strip() == hashlib.sha256(first).hexdigest()
    assert encode_segment(make_page(p.width, p.height, 8), p, 2.0) != first


def _image_bytes(fmt: str, size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (16, 32, 64)).save(buf, fmt)
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` (the data itself is tiny): a bomb."""
    import struct
    import zlib

    data = _image_bytes("PNG", (8, 8))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return data[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (make_page(1280, 720, 0)[:400], "does not decode"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a PNG"),
        (_image_bytes("GIF"), "not a PNG"),
        (_image_bytes("BMP"), "not a PNG"),
        (b"", "not a PNG"),
        (_png_claiming(30_000, 30_000), "too large"),
        (_png_claiming(5_000, 4_000), "too large"),
    ],
    ids=["truncated", "garbage", "gif", "bmp", "empty", "bomb", "huge"],
)
def test_a_page_that_is_not_a_sound_png_is_a_playout_error(data: bytes, words: str) -> None:
    with pytest.raises(PlayoutError, match=words) as err:
        encode_segment(data, PROFILES["hd"], 1.0)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("seconds", [0, -1, 0.01, float("nan"), 1e9])
def test_an_impossible_dwell_time_is_a_playout_error(seconds: float) -> None:
    with pytest.raises(PlayoutError, match="dwell time"):
        encode_segment(make_page(1280, 720, 0), PROFILES["hd"], seconds)


def test_a_missing_encoder_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = profiles_module.av.CodecContext.create

    def create(name: str, mode: str = "r"):  # type: ignore[no-untyped-def]
        if name == "libx264":
            raise ValueError("unknown codec")
        return real(name, mode)

    profiles_module._codec_problem.cache_clear()
    monkeypatch.setattr(profiles_module.av.CodecContext, "create", create)
    try:
        with pytest.raises(PlayoutError, match=r"^profile hd: this PyAV build has no libx264 encoder$"):
            profiles_module.check_profile(PROFILES["hd"])
        profiles_module.check_profile(PROFILES["sd"])
    finally:
        profiles_module._codec_problem.cache_clear()


def test_profiles_are_consistent() -> None:
    assert PROFILES["sd"].sar == Fraction(16, 15) and PROFILES["sd-wide"].sar == Fraction(64, 45)
    assert all(p.gop <= 2 * p.fps for p in PROFILES.values())
    with pytest.raises(PlayoutError, match="SAR"):
        dataclasses.replace(PROFILES["sd"], sar=Fraction(1))
    with pytest.raises(PlayoutError, match="fps"):
        PROFILES["sd"].with_(fps=30)
    assert PROFILES["hd"].with_(fps=50).gop == 100


def test_sd_side_bars_continue_the_page_background_not_its_title_band(tmp_path: Path) -> None:
    img = Image.new("RGB", (720, 576), (16, 32, 64))
    img.paste((40, 80, 140), (0, 0, 720, 72))  # a title band across the top, as the renderers draw
    buf = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
    got = luma_at(_segment(tmp_path, "sd", 1.0, buf.getvalue()), 0.5, 720, 576)
    body = 16 + 219 * (0.299 * 16 + 0.587 * 32 + 0.114 * 64) / 255
    assert abs(float(got[8:64, :16].mean()) - body) < 2 and abs(float(got[300:400, -16:].mean()) - body) < 2


def test_hd_stills_take_the_settled_frame_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """x264 encodes two frames per page, not a whole GOP (the speed of the cold build)."""
    from renderers.video import encode as encode_module

    calls: list[int] = []
    real = encode_module._encode

    def counting(profile, yuv, frames, probe=False):  # type: ignore[no-untyped-def]
        calls.append(frames)
        return real(profile, yuv, frames, probe)

    monkeypatch.setattr(encode_module, "_encode", counting)
    for seed in range(3):
        encode_segment(make_page(1280, 720, seed), PROFILES["hd"], 4.0)
    assert calls == [2, 2, 2]
