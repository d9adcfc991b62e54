"""Fonts, found through fontconfig, with glyph coverage checked before anything is drawn.

A set-top box cannot substitute fonts, and a tofu box on a government notice is a defect the
viewer cannot work around: a character no font in the chain covers is a :class:`FontError`
naming it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

from pusher.errors import FontError

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


class FontChain:
    """Fonts in fallback order; ``check`` fails on the first character none of them has."""

    def __init__(self, specs: tuple[str, ...]) -> None:
        if not specs:
            raise FontError("no font configured")
        self.fonts = tuple(find_font(s) for s in specs)
        self._cover = [coverage(f) for f in self.fonts]

    @property
    def primary(self) -> FontFile:
        return self.fonts[0]

    def font_for(self, ch: str) -> FontFile:
        cp = ord(ch)
        for font, cover in zip(self.fonts, self._cover, strict=True):
            if cp in cover:
                return font
        raise FontError(f"no configured font has a glyph for {ch!r} (U+{cp:04X})", char=ch)

    def check(self, text: str, item: str | None = None) -> None:
        for ch in set(text):
            if ch in _IGNORABLE:
                continue
            try:
                self.font_for(ch)
            except FontError as exc:
                raise FontError(str(exc), char=ch, item=item) from None
