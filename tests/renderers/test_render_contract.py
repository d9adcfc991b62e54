"""What every Renderer must do, checked on real documents: the contract class, then one
subclass per implementation (TvRenderer at SD, HD and FHD).

The checks read the PNG bytes back (not the renderer's own bookkeeping) wherever they can:
pixel ranges, the title-safe area, palette depth, 1-px lines. Line-breaking checks read
``PageImage.lines``, the record ``layout.json`` is made of.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest
from PIL import Image
from render_corpus import CTX, FORBIDDEN_END, FORBIDDEN_START, all_docs, reference_doc, table_doc

from pusher.errors import FontError
from pusher.interfaces import Block, Document, Menu, MenuEntry, PageImage, Renderer
from renderers import make_renderer
from renderers.theme import BAND, BG


def png_header(png: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from IHDR."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, ctype = struct.unpack(">IIBB", png[16:26])
    return w, h, depth, ctype


def rgb(page: PageImage) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.png)).convert("RGB"))


def safe_box(w: int, h: int) -> tuple[int, int, int, int]:
    """Title-safe area (SMPTE ST 2046-1): the central 90% of each dimension."""
    return round(w * 0.05), round(h * 0.05), w - round(w * 0.05), h - round(h * 0.05)


class RendererContract:
    """Subclasses set ``profile`` and implement ``make``."""

    profile = "hd"

    def make(self) -> Renderer:
        raise NotImplementedError

    @cache  # noqa: B019 - test classes live for the session; caching keeps the suite fast
    def item_pages(self) -> tuple[tuple[Document, Sequence[PageImage]], ...]:
        r = self.make()
        return tuple((d, r.render_item(d, CTX)) for d in all_docs())

    @cache  # noqa: B019
    def menu_pages(self) -> tuple[PageImage, ...]:
        r = self.make()
        entries = tuple(MenuEntry(f"item-{i}", t, None) for i, (t, _) in enumerate(table_doc().blocks[1].rows[1:]))
        home = Menu(
            "永康政务",
            tuple(MenuEntry(f"col{i}", n) for i, n in enumerate(["政务动态", "通知公告", "政策文件", "公开年报", "人事信息"])),
            "home",
        )
        return (*r.render_menu(Menu("信息公开目录", entries), CTX), *r.render_menu(home, CTX))

    @cache  # noqa: B019
    def alert_pages(self) -> tuple[PageImage, ...]:
        """Alerts, for renderers that draw them (optional: pusher.stages.alerts falls back to items)."""
        render_alert = getattr(self.make(), "render_alert", None)
        if render_alert is None:
            return ()
        text = "受强降雨影响，今日17时起金城路、华溪大桥实行交通管制，请市民绕行。防汛值班电话：0579-87101077。"
        return tuple(p for level in ("urgent", "warning", "info") for p in render_alert(text * (3 if level == "info" else 1), level, CTX))

    def all_pages(self) -> list[PageImage]:
        return [p for _, pages in self.item_pages() for p in pages] + list(self.menu_pages()) + list(self.alert_pages())

    # ------------------------------------------------------------ geometry --
    def test_pages_have_the_profile_size(self) -> None:
        r = self.make()
        for p in self.all_pages():
            w, h, _, ctype = png_header(p.png)
            assert (w, h) == (p.width, p.height) == (r.profile.width, r.profile.height)
            assert ctype == 3, "pages are palette PNGs"

    def test_nothing_but_background_outside_title_safe(self) -> None:
        allowed = {BG, BAND}
        for p in self.all_pages():
            im = Image.open(io.BytesIO(p.png))
            a, pal = np.asarray(im), im.getpalette() or []
            x0, y0, x1, y1 = safe_box(p.width, p.height)
            outside = np.concatenate([a[:y0].ravel(), a[y1:].ravel(), a[y0:y1, :x0].ravel(), a[y0:y1, x1:].ravel()])
            colours = {tuple(pal[3 * i : 3 * i + 3]) for i in np.unique(outside).tolist()}
            assert colours <= allowed, f"drawn outside title-safe: {colours - allowed}"

    # ------------------------------------------------------------- colour --
    def test_every_pixel_is_broadcast_legal(self) -> None:
        for p in self.all_pages():
            a = rgb(p)
            assert a.min() >= 16 and a.max() <= 235

    def test_text_pages_are_4_bit_palettes(self) -> None:
        for p in self.all_pages():
            _, _, depth, _ = png_header(p.png)
            plte = p.png.index(b"PLTE")
            (n,) = struct.unpack(">I", p.png[plte - 4 : plte])
            assert depth == 4 and n // 3 <= 16

    def test_same_input_same_bytes(self) -> None:
        again = self.make()
        doc = reference_doc()
        first = dict(self.item_pages())[doc]
        assert [p.png for p in again.render_item(doc, CTX)] == [p.png for p in first]

    # ------------------------------------------------------ line breaking --
    def test_no_line_starts_or_ends_with_forbidden_punctuation(self) -> None:
        bad = []
        for p in self.all_pages():
            for ln in p.lines:
                if ln and (ln[0] in FORBIDDEN_START or ln[-1] in FORBIDDEN_END):
                    bad.append(ln)
        assert not bad, bad[:5]

    def test_numbers_words_urls_and_paired_marks_stay_whole(self) -> None:
        for doc, pages in self.item_pages():
            lines = [ln for p in pages for ln in p.lines]
            for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9.@/:%_\-]*[A-Za-z0-9%]|——|……", doc.text):
                assert any(token in ln for ln in lines), f"{token!r} was split"

    def test_all_body_text_is_drawn_in_order(self) -> None:
        """Nothing lost or duplicated: the body lines joined give back the paragraphs' text."""
        doc = reference_doc()
        pages = dict(self.item_pages())[doc]
        drawn = re.sub(r"\s", "", "".join(ln for p in pages for ln in p.lines))
        cursor = 0
        for b in doc.blocks:
            want = re.sub(r"\s", "", b.text).translate(str.maketrans(",;:?!()", "，；：？！（）"))
            k = drawn.find(want[:12], cursor)
            assert k >= 0, f"paragraph missing or out of order: {b.text[:20]}"
            cursor = k

    # ---------------------------------------------------------------- fonts --
    def test_uncovered_character_fails_naming_it(self) -> None:
        doc = Document(url="http://x/a.html", title="测试", blocks=(Block("p", "正文\U000f0000字"),))
        with pytest.raises(FontError) as exc:
            self.make().render_item(doc, CTX)
        assert exc.value.char == "\U000f0000" and "U+F0000" in str(exc.value)

    # ---------------------------------------------------------------- menus --
    def test_menu_entries_are_numbered_for_digit_keys_and_inside_safe_area(self) -> None:
        r = self.make()
        entries = tuple(MenuEntry(f"k{i}", f"第{i}条通知", None) for i in range(23))
        pages = r.render_menu(Menu("通知公告", entries), CTX)
        keys = [e[1] for p in pages for e in p.entries]
        assert keys == [e.key for e in entries]
        for p in pages:
            assert [e[0] for e in p.entries] == list(range(1, len(p.entries) + 1)) and len(p.entries) <= 9
            x0, y0, x1, y1 = safe_box(p.width, p.height)
            for _, _, x, y, w, h in p.entries:
                assert x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1
        assert f"第{len(pages)}/{len(pages)}页" in pages[-1].lines

    def test_empty_menu_is_one_page(self) -> None:
        pages = self.make().render_menu(Menu("空栏目", ()), CTX)
        assert len(pages) == 1 and not pages[0].entries


class TvContract(RendererContract):
    def make(self) -> Renderer:
        return make_renderer(self.profile)

    def test_table_header_repeats_on_every_page(self) -> None:
        pages = dict(self.item_pages())[table_doc()]
        rows = table_doc().blocks[1].rows
        with_rows = [p for p in pages if any(d in p.lines for _, d in rows[1:])]
        assert len(with_rows) >= 2, "the long table should span pages"
        for p in with_rows:
            assert "标题" in p.lines and "发布日期" in p.lines
        dates = [ln for p in pages for ln in p.lines if re.fullmatch(r"\d{4}-\d\d-\d\d", ln)]
        assert len(dates) == len(rows) - 1, "every row drawn exactly once"

    def test_alerts_carry_their_heading_and_whole_text(self) -> None:
        pages = self.alert_pages()
        assert "紧急通知" in pages[0].lines and "预警信息" in pages[1].lines
        body = "".join(ln for ln in pages[0].lines[3:-2])
        assert body == "受强降雨影响，今日17时起金城路、华溪大桥实行交通管制，请市民绕行。防汛值班电话：0579-87101077。"

    def test_no_widows_or_orphans(self) -> None:
        r = make_renderer(self.profile)
        plan = r.plan_item(reference_doc())
        for n, page in enumerate(plan.pages):
            lines = [b for b in page if b.kind == "line" and b.para >= 0]
            if n and lines and page[0] is lines[0]:
                first = lines[0]
                assert not (first.count >= 2 and first.index == first.count - 1), f"widow on page {n + 1}: {first.text}"
            if n < len(plan.pages) - 1 and lines and page[-1] is lines[-1]:
                last = lines[-1]
                assert not (last.count >= 2 and last.index == 0), f"orphan on page {n + 1}: {last.text}"

    def test_body_text_size_and_spacing(self) -> None:
        r = make_renderer(self.profile)
        assert r.body.size >= r.profile.height * 0.05
        assert 1.4 <= r.styles["body"].line / r.body.size <= 1.6


class TestTvSD(TvContract):
    profile = "sd"

    def test_no_one_pixel_horizontal_lines(self) -> None:
        """Interlace flicker: no non-background run ≥ 3 px whose rows above and below are background."""
        for p in self.all_pages():
            idx = np.asarray(Image.open(io.BytesIO(p.png)))
            ground = np.isin(idx, [0, 1])  # theme indices of BG and BAND
            thin = ~ground[1:-1] & ground[:-2] & ground[2:]
            runs = np.convolve(thin.reshape(-1).astype(np.int8), np.ones(3, np.int8), "valid")
            assert runs.max(initial=0) < 3, "a 1-pixel horizontal line"


class TestTvHD(TvContract):
    profile = "hd"


class TestTvFHD(TvContract):
    profile = "fhd"


def test_fresh_process_gives_the_same_bytes() -> None:
    """Caches warm or cold, another process: the asset hash of a page never changes."""
    code = (
        "import hashlib,sys; sys.path.insert(0, 'tests/renderers');"
        "from render_corpus import CTX, reference_doc; from renderers import make_renderer;"
        "print(hashlib.sha256(b''.join(p.png for p in make_renderer('sd').render_item(reference_doc(), CTX))).hexdigest())"
    )
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout.strip()
    here = hashlib.sha256(b"".join(p.png for p in make_renderer("sd").render_item(reference_doc(), CTX))).hexdigest()
    assert out == here
