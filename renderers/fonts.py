"""Fonts, found through fontconfig, with glyph coverage checked before anything is drawn.

A set-top box cannot substitute fonts, and a tofu box on a government notice is a defect the
viewer cannot work around: a character no font in the chain covers is a :class:`FontError`
naming it.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageFont

from pusher.errors import FontError
from renderers.linebreak import advances
from renderers.theme import COVERAGE_STEP

log = logging.getLogger(__name__)

COVERAGE_LUT = list(COVERAGE_STEP)

# Characters that are layout, not glyphs.
_IGNORABLE = {"\n", "\r", "\t", "\u200b", "\ufeff"}


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int


@functools.lru_cache(maxsize=64)
def find_font(spec: str) -> FontFile:
    """A fontconfig pattern (``Noto Sans CJK SC:bold``) or a file path (``/x/y.ttc#2``)."""
    path, _, idx = spec.partition("#")
    if Path(path).is_file():
        return FontFile(path, int(idx or 0))
    if not shutil.which("fc-match"):
        raise FontError(f"cannot look up font {spec!r}: fontconfig (fc-match) is not installed")
    out = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", spec], capture_output=True, text=True, check=False).stdout
    file, _, rest = out.partition("|")
    index, _, family = rest.partition("|")
    wanted = spec.split(":")[0].strip().lower()
    if not file or wanted not in family.lower():
        raise FontError(
            f"font {spec!r} is not installed (fontconfig offers {family or 'nothing'}); on Debian: apt-get install fonts-noto-cjk"
        )
    return FontFile(file, int(index or 0))


@functools.lru_cache(maxsize=64)
def coverage(font: FontFile) -> frozenset[int]:
    tt = TTFont(font.path, fontNumber=font.index, lazy=True)
    try:
        return frozenset(tt.getBestCmap())
    finally:
        tt.close()


@functools.lru_cache(maxsize=256)
def pil_font(font: FontFile, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font.path, size, index=font.index)


def _usable(spec: str) -> tuple[FontFile, frozenset[int]]:
    """The font and its coverage, or a FontError saying why it cannot be used (not installed, or
    a file fontTools or FreeType cannot read: a truncated download, a font package half-removed)."""
    font = find_font(spec)
    try:
        cover = coverage(font)
        pil_font(font, 16)
    except Exception as exc:  # fontTools and FreeType raise many kinds (TTLibError, OSError, struct.error…)
        raise FontError(f"font {spec!r} ({font.path}) cannot be read: {type(exc).__name__}: {exc}") from None
    if not cover:
        raise FontError(f"font {spec!r} ({font.path}) has no character map")
    return font, cover


#: What fontconfig is asked for when a configured font cannot be used: its choice for Chinese.
SYSTEM_FALLBACK = "sans-serif:lang=zh-cn"


def _system_fallback() -> FontFile | None:
    """fontconfig's font for Chinese, if it has one (its family name need not match the pattern)."""
    if not shutil.which("fc-match"):
        return None
    out = subprocess.run(["fc-match", "-f", "%{file}|%{index}", SYSTEM_FALLBACK], capture_output=True, text=True, check=False).stdout
    file, _, index = out.partition("|")
    return FontFile(file, int(index or 0)) if file and Path(file).is_file() else None


class FontChain:
    """Fonts in fallback order; ``check`` fails on the first character none of them has.

    A configured font that is missing or unreadable is skipped, the first one too, with the
    reason kept in ``problems`` (check-config reports them) and logged: one bad font file must
    not stop the channel. When one is skipped, fontconfig's font for Chinese joins the end of the
    chain, so the pages are still drawn (in a substitute face) rather than every item failing.
    With no usable font at all the chain is empty and every drawing fails with a FontError
    naming the problems: only what cannot be drawn fails, never the construction.
    """

    def __init__(self, specs: tuple[str, ...]) -> None:
        fonts: list[FontFile] = []
        covers: list[frozenset[int]] = []
        problems: list[str] = [] if specs else ["no font configured"]
        for spec in specs:
            try:
                font, cover = _usable(spec)
            except FontError as exc:
                problems.append(str(exc))
                log.error("font skipped: %s", exc)
                continue
            if font not in fonts:
                fonts.append(font)
                covers.append(cover)
        if problems:
            sub = _system_fallback()
            if sub is not None and sub not in fonts:
                try:
                    cover = coverage(sub)
                    pil_font(sub, 16)
                except Exception as exc:  # as in _usable
                    problems.append(f"fontconfig's fallback {sub.path} cannot be read either: {exc}")
                else:
                    fonts.append(sub)
                    covers.append(cover)
                    log.error("drawing with fontconfig's %s (%s) in place of the fonts skipped", sub.path, SYSTEM_FALLBACK)
        self.fonts = tuple(fonts)
        self.problems = tuple(problems)
        self._cover = covers
        self._which: dict[str, FontFile] = {}

    @property
    def primary(self) -> FontFile:
        if not self.fonts:
            raise FontError(f"no usable font: {'; '.join(self.problems)}")
        return self.fonts[0]

    def font_for(self, ch: str) -> FontFile:
        hit = self._which.get(ch)
        if hit is not None:
            return hit
        cp = ord(ch)
        for font, cover in zip(self.fonts, self._cover, strict=True):
            if cp in cover:
                self._which[ch] = font
                return font
        if not self.fonts:
            raise FontError(f"no usable font: {'; '.join(self.problems)}", char=ch)
        raise FontError(f"no configured font has a glyph for {ch!r} (U+{cp:04X})", char=ch)

    def check(self, text: str, item: str | None = None) -> None:
        # In the text's order, not a set's: the reason names the first character without a
        # glyph, the same in every process (a set's order follows each interpreter's hash seed,
        # so render workers and the stage named different characters for the same item).
        for ch in dict.fromkeys(text):
            if ch in _IGNORABLE:
                continue
            try:
                self.font_for(ch)
            except FontError as exc:
                raise FontError(str(exc), char=ch, item=item) from None


@dataclass(frozen=True)
class Glyph:
    """A glyph in one ink/ground ramp: Pillow cores (pasted without the Python wrapper's checks)."""

    pixels: Any  # ImagingCore, mode P
    mask: Any  # ImagingCore, mode L (0 or 255)
    dx: int  # offset from the pen position on the baseline
    dy: int
    w: int
    h: int
    ink: int = 0  # first inked column: a mark moved into its own blank half must not pass the margin


class Face:
    """One text style at one pixel size: advances, baseline, and glyph bitmaps in palette indices.

    Every glyph is rasterised once (FreeType, anti-aliased), reduced to three coverage steps and,
    per ink/ground ramp, turned into a small palette-index image plus a mask, so drawing a line
    is one ``paste`` per glyph and no page ever needs colour quantising.

    ``flicker_safe`` (SD): each glyph is thickened by one pixel downwards, so that no stroke is
    a single scan line tall — on an interlaced picture a 1-px horizontal line flickers at 25 Hz.
    """

    def __init__(self, chain: FontChain, size: int, *, flicker_safe: bool = False, xscale: float = 1.0) -> None:
        self.chain = chain
        self.size = size
        self.flicker_safe = flicker_safe
        # Anamorphic SD: advances stay in display pixels, bitmaps are squeezed to storage pixels.
        self.xscale = xscale
        self._adv: dict[str, float] = {}
        self._steps: dict[str, tuple[Image.Image, int, int] | None] = {}
        self._glyphs: dict[tuple[str, tuple[int, ...]], Glyph | None] = {}
        # What callers worked out for this face and want again (menu title lines): it goes with it.
        self.memo: dict[tuple[Any, ...], Any] = {}

    def advance(self, ch: str) -> float:
        a = self._adv.get(ch)
        if a is None:
            font = self.chain.font_for(ch)
            try:
                a = self._adv[ch] = pil_font(font, self.size).getlength(ch)
            except OSError as exc:  # FreeType on a damaged glyph: this text fails, not the process
                raise FontError(f"font {font.path} cannot draw {ch!r} (U+{ord(ch):04X}): {exc}", char=ch) from None
        return a

    def width(self, text: str) -> float:
        return sum(advances(text, self.advance))

    def baseline(self, box_height: int) -> int:
        """Baseline offset that centres the ideographic em box in a line box."""
        return round((box_height - self.size) / 2 + self.size * 0.88)

    def _step_image(self, ch: str) -> tuple[Image.Image, int, int] | None:
        if ch in self._steps:
            return self._steps[ch]
        file = self.chain.font_for(ch)
        try:
            core, (dx, dy) = pil_font(file, self.size).getmask2(ch, "L", anchor="ls")
        except OSError as exc:  # as in advance
            raise FontError(f"font {file.path} cannot draw {ch!r} (U+{ord(ch):04X}): {exc}", char=ch) from None
        out: tuple[Image.Image, int, int] | None = None
        if core.size[0] and core.size[1]:
            cov = Image.frombytes("L", core.size, bytes(core))
            if self.xscale != 1.0:
                cov = cov.resize((max(1, round(cov.width * self.xscale)), cov.height), Image.Resampling.BOX)  # area coverage
                dx = round(dx * self.xscale)
            if self.flicker_safe:
                tall = Image.new("L", (cov.width, cov.height + 1), 0)
                tall.paste(cov, (0, 0))
                low = Image.new("L", tall.size, 0)
                low.paste(cov, (0, 1))
                cov = ImageChops.lighter(tall, low)
            steps = cov.point(COVERAGE_LUT)
            out = (steps, dx, dy) if steps.getbbox() else None
        self._steps[ch] = out
        return out

    def glyph(self, ch: str, ramp: tuple[int, ...]) -> Glyph | None:
        """``ch`` drawn with ``ramp`` as palette indices plus a mask, or None if blank."""
        key = (ch, ramp)
        hit = self._glyphs.get(key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        st = self._step_image(ch)
        out = None
        if st is not None:
            steps, dx, dy = st
            idx = steps.point(list(ramp) + [0] * (256 - len(ramp)))
            pimg = Image.frombytes("P", steps.size, idx.tobytes())
            mask = steps.point([0] + [255] * 255)
            bbox = steps.getbbox()
            out = Glyph(pimg.im, mask.im, dx, dy, steps.width, steps.height, bbox[0] if bbox else 0)
        self._glyphs[key] = out
        return out


@functools.lru_cache(maxsize=64)
def face(chain: FontChain, size: int, flicker_safe: bool = False, xscale: float = 1.0) -> Face:
    return Face(chain, size, flicker_safe=flicker_safe, xscale=xscale)


@functools.lru_cache(maxsize=16)
def font_chain(specs: tuple[str, ...]) -> FontChain:
    return FontChain(specs)
