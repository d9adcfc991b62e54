"""Hostile rendering (issue 15 #8, #9): a huge unbreakable paragraph and huge pictures, end to end.

    python bench/hostile_render_bench.py [--latin 160000] [--images 12] [--size 6300] [--max-pages 30]

A private copy of the sample portal is served on 127.0.0.1 with one notice changed: ``--latin``
characters of Latin text as one paragraph and ``--images`` pictures of ``--size``² pixels (half
JPEG, half PNG, made here: smooth gradients compress to a few hundred KB). ``pusher poll`` and
then ``pusher push`` run as child processes; for each the wall time and the peak RSS of that
child alone (``RUSAGE_CHILDREN`` of a small launcher) are printed, then the pages the notice got.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pusher.demo import PORTAL, demo_config  # noqa: E402
from pusher.demo import write_config as write_toml  # noqa: E402
from pusher.web.httpserve import StaticServer  # noqa: E402

ARTICLE = "art/2026/11/20/art_1001_5101.html"
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo. "
)


def big_picture(size: int, fmt: str) -> bytes:
    """A ``size``² picture that compresses well: two gradients and a few bands."""
    x = np.linspace(0, 255, size, dtype=np.float32)
    r = np.broadcast_to(x[None, :], (size, size))
    g = np.broadcast_to(x[:, None], (size, size))
    b = ((np.arange(size)[:, None] // 200 + np.arange(size)[None, :] // 200) % 2 * 160 + 40).astype(np.float32)
    a = np.stack([r, g, np.broadcast_to(b, (size, size))], axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt, **({"quality": 80} if fmt == "JPEG" else {"compress_level": 1}))
    return buf.getvalue()


def hostile_portal(dst: Path, *, latin: int, images: int, size: int) -> None:
    """Copy the sample portal to ``dst`` and make its forest-fire notice hostile."""
    shutil.copytree(PORTAL, dst)
    body = ""
    if latin:
        body += "<p>" + (LOREM * (latin // len(LOREM) + 1))[:latin] + "</p>\n"
    if images:
        (dst / "img").mkdir()
        kinds = {"jpg": big_picture(size, "JPEG"), "png": big_picture(size, "PNG")}
        for k in range(images):
            ext = "jpg" if k % 2 == 0 else "png"
            (dst / "img" / f"big{k}.{ext}").write_bytes(kinds[ext])
            body += f'<p><img src="/img/big{k}.{ext}" alt="现场照片{k + 1}"></p>\n'
    art = dst / ARTICLE
    html = art.read_text(encoding="utf-8")
    art.write_text(html.replace("</p>\n</div>", "</p>\n" + body + "</div>", 1), encoding="utf-8")


def write_config(path: Path, portal_url: str, work: Path, max_pages: int) -> Path:
    cfg = demo_config(portal_url, work)
    cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
    cfg["render"] = {"max_pages": max_pages}
    return write_toml(cfg, path)


#: Runs its arguments as a child and prints that child's peak RSS in KB. The measured process
#: must be forked from a small one: Linux counts the RSS a child inherits at fork (this
#: benchmark's own, a few hundred MB after drawing the pictures) in its ``ru_maxrss``.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(f'PEAK_RSS_KB {u.ru_maxrss} CPU_S {u.ru_utime + u.ru_stime:.2f}', file=sys.stderr); sys.exit(code)"
)


def run_child(*args: str) -> tuple[int, float, float, float, str]:
    """(exit code, wall seconds, CPU seconds, peak RSS in MB of ``pusher *args`` alone, output)."""
    started = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "pusher", *args], capture_output=True, text=True, cwd=ROOT)
    secs = time.perf_counter() - started
    kb, cpu = p.stderr.rsplit("PEAK_RSS_KB ", 1)[1].split()[0:3:2]
    return p.returncode, secs, float(cpu), int(kb) / 1024, p.stdout + p.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latin", type=int, default=160_000)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--size", type=int, default=6300)
    ap.add_argument("--max-pages", type=int, default=30)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        hostile_portal(t / "portal", latin=a.latin, images=a.images, size=a.size)
        with StaticServer(t / "portal") as srv:
            cfg = write_config(t / "c.toml", srv.url, t / "w", a.max_pages)
            for cmd in ("poll", "push"):
                code, secs, cpu, rss, out = run_child(cmd, "--config", str(cfg))
                print(f"pusher {cmd}: exit {code}, {secs:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB")
                if code:
                    print(out[-2000:])
        from sqlmodel import col, select

        from pusher.config.settings import load_settings
        from pusher.names import item_owner
        from pusher.runtime import Runtime
        from pusher.store.models import Item, Page

        rt = Runtime(load_settings(cfg))
        try:
            with rt.store.read() as db:
                item = db.exec(select(Item).where(col(Item.url).endswith(ARTICLE.rsplit("/", 1)[1]))).one()
                pages = list(db.exec(select(Page).where(Page.owner == item_owner(item.id))))
        finally:
            rt.close()
        print(f"the notice: {item.state.value}, {len(pages)} pages, {sum(p.bytes for p in pages) // 1024} KB ({item.state_reason})")


if __name__ == "__main__":
    main()
