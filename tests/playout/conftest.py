"""Playout test kit: pages drawn like the product's, and an independent decoder (the FFmpeg
CLI) to judge what we wrote. Nothing here decodes with the code under test."""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None,
    reason="the FFmpeg CLI (ffprobe, ffmpeg) is the independent decoder of these tests; CI installs it",
)

BG = (16, 32, 64)
INKS = [(235, 235, 210), (200, 180, 60), (120, 200, 230), (220, 120, 120)]
LINES = [
    "关于做好二〇二四年度城乡居民基本医疗保险参保缴费工作的通知",
    "各镇人民政府、街道办事处，市政府各部门：为进一步做好参保工作",
    "现将有关事项通知如下。一、参保范围：本市户籍居民及在校学生",
    "二、缴费标准：成年居民每人每年三百八十元，学生每人每年二百元",
    "三、缴费时间：即日起至十二月三十一日，逾期不再受理集中参保",
]


@functools.cache
def font_path() -> str:
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True, timeout=10)
        if out.stdout and Path(out.stdout).exists():
            return out.stdout
    except (OSError, subprocess.SubprocessError):
        pass
    pytest.skip("no Noto Sans CJK SC font (fc-match) to draw Chinese test pages")


def make_page(width: int, height: int, seed: int, bg: tuple[int, int, int] = BG) -> bytes:
    """A text page as the renderers make them: 16-colour palette PNG, RGB within 16-235.

    ``seed`` moves the title, text lines and a coloured block so pages differ visibly."""
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    title = ImageFont.truetype(font_path(), height // 12)
    body = ImageFont.truetype(font_path(), max(16, height // 22))
    d.text((width // 20, height // 24), f"第{seed + 1}页 永康政务公开", font=title, fill=INKS[0])
    y = height // 5
    for i in range(7):
        line = LINES[(i + seed) % len(LINES)]
        d.text((width // 20 + (seed * 7) % 40, y), line[: 12 + (seed + i) % 12], font=body, fill=INKS[(i + seed) % len(INKS)])
        y += int(body.size * 1.7)
    x0 = width // 10 + (seed * width // 7) % (width // 2)
    d.rectangle((x0, height - height // 6, x0 + width // 5, height - height // 20), fill=INKS[(seed + 2) % len(INKS)])
    buf = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
    return buf.getvalue()


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def probe_all(path: Path) -> dict:
    return ffprobe(path, "-show_streams", "-show_format", "-show_programs")


def video_frames(path: Path) -> list[dict]:
    return ffprobe(path, "-select_streams", "v", "-show_frames", "-show_entries", "frame=pts,key_frame,pict_type")["frames"]


def packets(path: Path, stream: str) -> list[dict]:
    return ffprobe(path, "-select_streams", stream, "-show_packets", "-show_entries", "packet=pts,dts,duration,size,flags")["packets"]


def decode_errors(path: Path) -> str:
    """What FFmpeg complains about while decoding every frame (empty = clean)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True, timeout=120
    )
    return out.stderr.strip()


def luma_at(path: Path, seconds: float, width: int, height: int) -> np.ndarray:
    """The Y plane of the frame shown ``seconds`` into the file, untouched by any conversion.

    Output-side ``-ss`` (decode and drop) rather than a demuxer seek, which in a short TS
    can land past the wanted frame and return nothing."""
    out = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-ss",
            f"{seconds:.3f}",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return np.frombuffer(out.stdout[: width * height], np.uint8).reshape(height, width)


#: (Kr, Kb) of BT.601 and BT.709.
MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def expected_luma(png: bytes, width: int, height: int, matrix: str, display_aspect: tuple[int, int] | None = None) -> np.ndarray:
    """The limited-range luma the frame should carry for a square-pixel page.

    With ``display_aspect`` (SD), the page is fitted undistorted into the display canvas,
    padded with its background, then squeezed to ``width`` samples."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    if display_aspect:
        canvas_w = height * display_aspect[0] / display_aspect[1]
        scale = min(canvas_w / img.width, height / img.height)
        cw, ch = round(img.width * scale * width / canvas_w), round(img.height * scale)
        frame = Image.new("RGB", (width, height), _background(img))
        frame.paste(img.resize((cw, ch), Image.Resampling.LANCZOS), ((width - cw) // 2, (height - ch) // 2))
        img = frame
    elif img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    rgb = np.asarray(img, dtype=np.float64) / 255
    kr, kb = MATRICES[matrix]
    return 16 + 219 * (kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2])


def _background(img: Image.Image) -> tuple[int, int, int]:
    """The commonest colour on the page's border: what the bars beside an SD page show."""
    w, h = img.size
    border = [img.getpixel((x, y)) for y in range(h) for x in (0, w - 1)] + [img.getpixel((x, y)) for x in range(w) for y in (0, h - 1)]
    return max(set(border), key=border.count)  # type: ignore[return-value]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def continuity_errors(data: bytes) -> list[str]:
    """TS continuity-counter violations: for each PID, packets carrying payload count up
    mod 16, unless the adaptation field flags a discontinuity."""
    assert len(data) % 188 == 0, f"{len(data)} bytes is not whole TS packets"
    last: dict[int, int] = {}
    errors = []
    for i in range(0, len(data), 188):
        p = data[i : i + 188]
        assert p[0] == 0x47, f"lost sync at packet {i // 188}"
        pid = ((p[1] & 0x1F) << 8) | p[2]
        if pid == 0x1FFF or not p[3] & 0x10:
            continue
        cc = p[3] & 0x0F
        discontinuity = p[3] & 0x20 and p[4] > 0 and p[5] & 0x80
        if pid in last and not discontinuity and cc != (last[pid] + 1) % 16:
            errors.append(f"pid {pid:#x} packet {i // 188}: cc {last[pid]} -> {cc}")
        last[pid] = cc
    return errors


def pid_counts(data: bytes) -> dict[int, int]:
    counts: dict[int, int] = {}
    for i in range(0, len(data) - 187, 188):
        pid = ((data[i + 1] & 0x1F) << 8) | data[i + 2]
        counts[pid] = counts.get(pid, 0) + 1
    return counts
