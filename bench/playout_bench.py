"""Playout bench: how fast a channel of text pages becomes a broadcast loop.

For each profile: N distinct article-like pages at S seconds each are encoded with both cores
(one process per core, as the pipeline would), then remuxed into a CBR loop; then one item
changes (2 pages re-encoded) and the loop is rebuilt. The baseline is the naive way with the
same encoder settings: every frame of every page through the encoder (a subset of pages,
scaled up, as it is slow). Prints one table; times are wall clock on this machine.

    python bench/playout_bench.py [--pages 100] [--seconds 10] [--profiles hd,sd] [--naive-pages 10]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
from PIL import Image, ImageDraw, ImageFont

from renderers.video import PROFILES, MuxSettings, build_loop, encode_segment
from renderers.video.encode import video_encoder
from renderers.video.mux import open_ts
from renderers.video.picture import fit_page, load_page, rgb_to_yuv420

MUXRATE = {"sd": 4_000_000, "sd-wide": 4_000_000, "hd": 3_000_000, "fhd": 5_000_000}
TEXT = (
    "为进一步规范政府信息公开工作，提高行政透明度，保障公民、法人和其他组织依法获取政府信息，"
    "根据《中华人民共和国政府信息公开条例》及省市有关规定，结合我市实际，现就做好二〇二四年度"
    "政务公开重点工作通知如下：一、深化重点领域信息公开，围绕稳增长、促改革、调结构、惠民生、"
    "防风险，及时公开政策措施及执行情况；二、加强政策解读回应，做到政策文件与解读材料同步起草、"
    "同步审签、同步发布；三、优化政务公开平台，推进政府网站集约化建设，完善依申请公开办理机制。"
)


def font() -> str:
    out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True, check=False)
    return out.stdout or "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def article_page(width: int, height: int, n: int, font_file: str) -> bytes:
    """A page like the renderers': title band, ~10 lines of body text, a footer; 16 colours."""
    img = Image.new("RGB", (width, height), (22, 36, 66))
    d = ImageDraw.Draw(img)
    title = ImageFont.truetype(font_file, height // 14)
    body = ImageFont.truetype(font_file, height // 24)
    d.rectangle((0, 0, width, height // 8), fill=(30, 60, 110))
    d.text((width // 24, height // 40), f"永康政务公开 第{n + 1}号通知", font=title, fill=(235, 220, 150))
    per_line = int((width * 0.9) // body.size)
    y, start = height // 6, (n * 37) % len(TEXT)
    while y < height - height // 8:
        line = (TEXT + TEXT)[start : start + per_line]
        d.text((width // 24, y), line, font=body, fill=(225, 225, 225))
        start = (start + per_line) % len(TEXT)
        y += int(body.size * 1.55)
    footer = f"发布日期：2024年{n % 12 + 1}月{n % 28 + 1}日  永康市人民政府办公室"
    d.text((width // 24, height - height // 12), footer, font=body, fill=(170, 190, 210))
    buf = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
    return buf.getvalue()


def _page(args: tuple[str, int]) -> bytes:
    profile, n = args
    p = PROFILES[profile]
    # SD pages are drawn 720×576 with square pixels, as the renderers do today.
    return article_page(p.width, p.height, n, font())


def _encode(args: tuple[bytes, str, float]) -> tuple[bytes, float]:
    """A segment, and the CPU seconds it took (wall time depends on whatever else runs)."""
    png, profile, seconds = args
    t = time.process_time()
    seg = encode_segment(png, PROFILES[profile], seconds)
    return seg, time.process_time() - t


def _naive(args: tuple[bytes, str, float]) -> float:
    """Every frame through the encoder, one per 40 ms, with the same settings, muxed to a TS."""
    png, name, seconds = args
    p = PROFILES[name]
    t = time.process_time()
    yuv = rgb_to_yuv420(fit_page(load_page(png), p), p.matrix)
    buf = io.BytesIO()
    with open_ts(buf, MuxSettings(), cbr=False) as out:
        enc = video_encoder(p)
        vs = out.add_mux_stream("h264" if p.codec == "libx264" else p.codec, rate=p.fps, width=p.width, height=p.height)
        a = out.add_stream(p.audio_codec, rate=48_000, layout="stereo")
        a.codec_context.bit_rate = p.audio_bitrate
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        n = round(seconds * p.fps)
        silence = av.AudioFrame(format=a.codec_context.format.name, layout="stereo", samples=1152 if p.audio_codec == "mp2" else 1024)
        silence.sample_rate = 48_000
        for plane in silence.planes:
            plane.update(bytes(plane.buffer_size))
        t_audio = 0
        for i in range(n):
            frame.pts = i
            for pkt in enc.encode(frame):
                pkt.stream = vs
                out.mux(pkt)
            while t_audio * p.fps < (i + 1) * 48_000:
                silence.pts = t_audio
                out.mux(a.encode(silence))
                t_audio += silence.samples
        for pkt in enc.encode(None):
            pkt.stream = vs
            out.mux(pkt)
        out.mux(a.encode(None))
    return time.process_time() - t


def bench(profile: str, pages: int, seconds: float, naive_pages: int, pool: ProcessPoolExecutor, tmp: Path) -> list[tuple[str, str]]:
    pngs = list(pool.map(_page, [(profile, n) for n in range(pages)]))
    video = pages * seconds
    mux = MuxSettings(muxrate=MUXRATE[profile])
    loop = tmp / f"{profile}.ts"

    t = time.perf_counter()
    done = list(pool.map(_encode, [(png, profile, seconds) for png in pngs], chunksize=4))
    t_enc = time.perf_counter() - t
    segs = [seg for seg, _ in done]
    cpu_enc = sum(cpu for _, cpu in done)
    t, c = time.perf_counter(), time.process_time()
    info = build_loop(segs, loop, mux)
    t_mux, cpu_mux = time.perf_counter() - t, time.process_time() - c
    cold = t_enc + t_mux
    workers = pool._max_workers  # type: ignore[attr-defined]
    idle = cpu_enc / workers + cpu_mux  # what the same work takes on otherwise idle cores

    # One item changes: its page and one menu page listing it are drawn anew.
    changed = [article_page(PROFILES[profile].width, PROFILES[profile].height, 10_000 + k, font()) for k in range(2)]
    t = time.perf_counter()
    fresh = [seg for seg, _ in pool.map(_encode, [(png, profile, seconds) for png in changed])]
    t_re_enc = time.perf_counter() - t
    segs[0], segs[1] = fresh
    t = time.perf_counter()
    build_loop(segs, loop, mux)
    t_re_mux = time.perf_counter() - t
    vbr = build_loop(segs, tmp / f"{profile}-vbr.ts")

    k = min(naive_pages, pages)
    t = time.perf_counter()
    cpu_naive = sum(pool.map(_naive, [(png, profile, seconds) for png in pngs[:k]])) * pages / k
    t_naive = (time.perf_counter() - t) * pages / k
    p = PROFILES[profile]
    return [
        ("profile", f"{profile} {p.width}×{p.height} {p.codec}"),
        ("channel", f"{pages} pages × {seconds:g} s = {video:g} s of video"),
        (f"cold: encode ({workers} processes)", f"{t_enc:.2f} s wall, {cpu_enc / pages * 1000:.0f} ms CPU per page"),
        ("cold: remux to CBR loop", f"{t_mux:.2f} s wall, {cpu_mux:.2f} s CPU"),
        ("cold total, × real time", f"{cold:.2f} s  = {video / cold:.0f}× (wall, this machine now)"),
        ("  same on idle cores (CPU)", f"{idle:.2f} s  = {video / idle:.0f}×"),
        ("one-item change: 2 pages", f"{t_re_enc:.2f} s encode + {t_re_mux:.2f} s remux = {t_re_enc + t_re_mux:.2f} s"),
        ("content bitrate (VBR loop)", f"{vbr.bitrate / 1e6:.3f} Mbit/s  ({vbr.bytes / video / 1024:.0f} KiB per s of video)"),
        ("CBR loop vs muxrate", f"{info.bitrate / 1e6:.3f} / {mux.muxrate / 1e6:.3f} Mbit/s, {info.bytes / 1e6:.1f} MB"),
        (f"naive (every frame; {k} pages, ×{pages / k:g})", f"{t_naive:.1f} s wall = {video / t_naive:.1f}× real time"),
        ("  naive on idle cores (CPU)", f"{cpu_naive / workers:.1f} s  = {video * workers / cpu_naive:.1f}×"),
        ("speed-up over naive", f"{t_naive / cold:.0f}× wall, {cpu_naive / workers / idle:.0f}× CPU"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--profiles", default="hd,sd")
    ap.add_argument("--naive-pages", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    versions = f"PyAV {av.__version__} / FFmpeg {av.ffmpeg_version_info}"
    print(f"playout bench: {args.workers} workers, load average {load:.1f} at start, {versions}")
    with tempfile.TemporaryDirectory() as d, ProcessPoolExecutor(args.workers) as pool:
        for profile in args.profiles.split(","):
            rows = bench(profile, args.pages, args.seconds, args.naive_pages, pool, Path(d))
            width = max(len(k) for k, _ in rows)
            print()
            for key, value in rows:
                print(f"  {key:<{width}}  {value}")


if __name__ == "__main__":
    main()
