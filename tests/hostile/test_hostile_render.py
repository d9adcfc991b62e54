"""Issue 15 #8, #9 and issue 18's fonts: hostile text, hostile pictures and broken fonts must
cost a bounded render and fail no more than what cannot be drawn.

* #8: one 160,000-character paragraph of Latin took 19.5 s (line breaking was quadratic in a
  run of narrow text). Linearity is asserted by ratio — CPU time for 2N characters over N, in
  the same run — never by an absolute time.
* #9: twelve 6300×6300 pictures in one notice took ``pusher push`` to 2.2 GB. A real push in
  a child process, the pictures served by a real HTTP server on 127.0.0.1, its peak RSS read
  from ``RUSAGE_CHILDREN`` of a small launcher (see ``PEAK_RSS``).
* Issue 18: a missing or unreadable font file failed the whole push.
"""

from __future__ import annotations

import gc
import io
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from pusher.cli import main
from pusher.demo import PORTAL, demo_config
from pusher.demo import write_config as write_toml
from pusher.interfaces import Block, Document, PageContext
from pusher.web.httpserve import StaticServer
from renderers import make_renderer
from renderers.images import MAX_ITEM_PIXELS, load_all, open_image
from renderers.linebreak import normalize_punctuation, wrap
from renderers.settings import RenderSettings

ROOT = Path(__file__).resolve().parents[2]
CTX = PageContext(channel="永康政务", column="通知公告", today=date(2026, 11, 27))
ARTICLE = "art/2026/11/20/art_1001_5101.html"
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo. "
)


# -- helpers ------------------------------------------------------------------------------------


def hostile_portal(dst: Path, body: str, files: dict[str, bytes] | None = None) -> None:
    """A copy of the sample portal whose forest-fire notice gets ``body`` after its text."""
    shutil.copytree(PORTAL, dst)
    for name, data in (files or {}).items():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).write_bytes(data)
    art = dst / ARTICLE
    html = art.read_text(encoding="utf-8")
    art.write_text(html.replace("</p>\n</div>", "</p>\n" + body + "</div>", 1), encoding="utf-8")


def write_config(path: Path, portal_url: str, work: Path, render: dict[str, Any]) -> Path:
    cfg = demo_config(portal_url, work)
    cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
    cfg["render"] = render
    return write_toml(cfg, path)


def notice_pages(cfg: Path) -> tuple[str, list[str]]:
    """(the notice's state, the layout of each of its pages)."""
    from sqlmodel import col, select

    from pusher.config.settings import load_settings
    from pusher.names import item_owner
    from pusher.runtime import Runtime
    from pusher.store.models import Item, Page

    rt = Runtime(load_settings(cfg))
    try:
        with rt.store.read() as db:
            item = db.exec(select(Item).where(col(Item.url).endswith(ARTICLE.rsplit("/", 1)[1]))).one()
            pages = list(db.exec(select(Page).where(Page.owner == item_owner(item.id)).order_by(col(Page.seq))))
        return item.state.value, [p.layout for p in pages]
    finally:
        rt.close()


def cpu(fn: Callable[[], object], repeat: int = 3) -> float:
    """The best CPU time of ``repeat`` calls (CPU, not wall: the machine is shared; the cyclic
    collector off, as its passes over the larger input's lists are noise, not the algorithm)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t = time.process_time()
            fn()
            best = min(best, time.process_time() - t)
        finally:
            gc.enable()
    return best


# -- 8: line breaking is linear -----------------------------------------------------------------


def _words(n: int, seed: int) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice("abcdefghijklmnop  ,.-") for _ in range(n))


HOSTILE_TEXT: dict[str, Callable[[int, int], str]] = {
    "latin": lambda n, s: (LOREM * (n // len(LOREM) + 1))[:n],
    "one-word": lambda n, s: ("abcdefghij" * (n // 10 + 1))[:n],  # no break anywhere: cut by characters
    "hyphens": lambda n, s: ("ab-cd/ef-" * (n // 9 + 1))[:n],
    "random-words": _words,
    "parentheses": lambda n, s: ("x)" * n)[:n],  # normalize_punctuation searched back from each )
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXT))
def test_line_breaking_is_linear_in_long_narrow_text(kind: str) -> None:
    face = make_renderer("hd").body
    make = HOSTILE_TEXT[kind]
    n = 100_000

    def lay(text: str) -> Callable[[], object]:
        return lambda: wrap(normalize_punctuation(text), 1600, face.advance, squeeze=True)

    lay(make(2_000, 0))()  # glyph advances and caches warm
    # Four times the text: linear work takes 4×, quadratic 16×; the bound sits between them (8×,
    # the geometric middle), so a neighbour's burst on the shared CPUs cannot fail a linear
    # algorithm (a 2× step with a 2.6× bound did, once, in CI) and a quadratic one cannot pass.
    # Interleaved, best of each: such a burst hits both sizes alike.
    one, four = lay(make(n, 1)), lay(make(4 * n, 2))
    runs = [(cpu(one, 1), cpu(four, 1)) for _ in range(3)]
    small, large = min(r[0] for r in runs), min(r[1] for r in runs)
    assert large / max(small, 1e-3) < 8, f"{kind}: {small:.2f} s for {n} characters, {large:.2f} s for {4 * n}"


def test_a_160000_character_paragraph_renders_in_bounded_time_within_max_pages() -> None:
    # The renderer alone, with the whole paragraph (the render stage also cuts the text before
    # drawing): laid out in full, drawn only up to render.max_pages.
    doc = Document(url="http://portal.example/art/1.html", title="Lorem ipsum", blocks=(Block("p", HOSTILE_TEXT["latin"](160_000, 0)),))
    r = make_renderer("hd", RenderSettings(max_pages=10))
    t = time.process_time()
    pages = r.render_item(doc, CTX)
    took = time.process_time() - t
    assert len(pages) == 10 and "其余内容" in "".join(pages[-1].lines)
    assert took < 20, f"{took:.1f} s of CPU for 160,000 characters"  # was 19.5 s before drawing a page; ~3 s now


def test_a_160000_character_notice_is_pushed_with_max_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile_portal(tmp_path / "portal", "<p>" + HOSTILE_TEXT["latin"](160_000, 0) + "</p>\n")
    with StaticServer(tmp_path / "portal") as srv:
        cfg = write_config(tmp_path / "c.toml", srv.url, tmp_path / "w", {"max_pages": 8})
        assert main(["poll", "--config", str(cfg)]) == 0
        t = time.process_time()
        code = main(["push", "--config", str(cfg)])
        took = time.process_time() - t
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    state, layouts = notice_pages(cfg)
    assert state == "published" and len(layouts) == 8 and "其余内容" in layouts[-1]
    assert took < 60, f"push took {took:.1f} s of CPU"


# -- 9: pictures cost bounded memory ------------------------------------------------------------


def big_picture(size: int, fmt: str) -> bytes:
    """A ``size``² picture made cheaply (a gradient scaled up): it compresses to well under 1 MB."""
    g = Image.linear_gradient("L").resize((size, size), Image.Resampling.BILINEAR)
    rgb = Image.merge("RGB", (g, g.transpose(Image.Transpose.ROTATE_90), ImageChops.invert(g)))
    buf = io.BytesIO()
    rgb.save(buf, fmt, **({"quality": 80} if fmt == "JPEG" else {"compress_level": 1}))
    return buf.getvalue()


#: Runs its arguments as a child and prints that child's peak RSS (KB). The push must be forked
#: from a small process: Linux counts the RSS a child inherits at fork (pytest's, hundreds of MB)
#: in its ``ru_maxrss``.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(f'PEAK_RSS_KB {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(code)"
)


def test_twelve_huge_pictures_keep_a_push_within_400_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pictures = {"jpg": big_picture(6300, "JPEG"), "png": big_picture(6300, "PNG")}
    files, body = {}, ""
    for k in range(12):
        ext = "jpg" if k % 2 == 0 else "png"
        files[f"img/big{k}.{ext}"] = pictures[ext]
        body += f'<p><img src="/img/big{k}.{ext}" alt="现场照片{k + 1}"></p>\n'
    hostile_portal(tmp_path / "portal", body, files)
    del pictures, files
    with StaticServer(tmp_path / "portal") as srv:
        cfg = write_config(tmp_path / "c.toml", srv.url, tmp_path / "w", {"max_pages": 30})
        assert main(["poll", "--config", str(cfg)]) == 0
        capsys.readouterr()
        assert len(list((tmp_path / "w" / "images").iterdir())) == 12, "the pictures were fetched at poll"
        p = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "pusher", "push", "--config", str(cfg)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
    assert p.returncode == 0, p.stdout + p.stderr
    peak_mb = int(p.stderr.rsplit("PEAK_RSS_KB ", 1)[1].split()[0]) / 1024
    assert peak_mb < 400, f"pusher push peaked at {peak_mb:.0f} MB"  # 1516 MB before (237 MB with no pictures)
    state, layouts = notice_pages(cfg)
    assert state == "published" and any("现场照片1" in lay for lay in layouts)


def test_a_huge_jpeg_is_decoded_reduced_to_the_page() -> None:
    im = open_image(big_picture(6300, "JPEG"), (1760, 800))
    assert max(im.size) <= 2 * 800 and min(im.size) >= 800  # never below what the page shows


def test_a_huge_png_is_reduced_after_decoding() -> None:
    im = open_image(big_picture(4000, "PNG"), (1000, 500))
    assert 500 <= im.height <= 1000


def test_an_items_pictures_are_capped_in_pixels() -> None:
    data = big_picture(6300, "PNG")  # PNG has no reduced decoding: each counts in full
    n = MAX_ITEM_PIXELS // (6300 * 6300) + 2
    got = load_all(((k, f"http://portal.example/{k}.png") for k in range(n)), lambda _src: data, (1760, 800))
    drawn = [k for k, im in got.items() if im is not None]
    assert drawn == list(range(MAX_ITEM_PIXELS // (6300 * 6300)))


# -- issue 18: a bad font fails only what cannot be drawn ---------------------------------------


@pytest.mark.parametrize("fonts", [["{broken}", "Noto Sans CJK SC"], ["No Such Font Family Zz"], ["Noto Sans CJK SC", "{broken}"]])
def test_a_missing_or_broken_font_does_not_fail_the_push(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, fonts: list[str]
) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"\x00\x01\x00\x00" + b"not a font" * 50)  # a truncated download
    specs = [f.format(broken=broken) for f in fonts]
    hostile_portal(tmp_path / "portal", "")
    with StaticServer(tmp_path / "portal") as srv:
        cfg = write_config(tmp_path / "c.toml", srv.url, tmp_path / "w", {"fonts": specs, "bold_fonts": ["Noto Sans CJK SC:bold"]})
        assert main(["poll", "--config", str(cfg)]) == 0
        capsys.readouterr()
        code = main(["push", "--config", str(cfg)])
        out = capsys.readouterr()
        assert code == 0, out.out + out.err
        said = [r.getMessage() for r in caplog.records if r.name == "renderers.fonts"]
        assert "Traceback" not in out.err and any("broken.ttf" in m or "No Such Font Family Zz" in m for m in said), said
        state, layouts = notice_pages(cfg)
        assert state == "published" and layouts
        # The setting is still wrong, and check-config says which font.
        code = main(["check-config", "--config", str(cfg)])
        out = capsys.readouterr()
        assert code == 2 and ("broken.ttf" in out.out + out.err or "No Such Font Family Zz" in out.out + out.err)
