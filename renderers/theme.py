"""The page palette: 16 broadcast-legal colours, and the anti-aliasing ramps between them.

Pages are drawn straight into palette indices, never in RGB: every glyph is a cached bitmap of
indices (background, one anti-aliasing step, ink), so a text page needs no colour quantising
and is a 4-bit PNG. At body sizes (≥ 29 px) three levels per ramp look the same as 256 on a
television (DVB subtitles use four) and compress better: with 16 median-cut colours a dense
HD page took 51 KB, with four levels per ramp 40 KB, with three 33 KB.

All colours keep every RGB channel within 16–235 (ITU-R BT.601/709 nominal range), there is no
pure white and no saturated red, and each ink reaches at least 7:1 contrast on the backgrounds
it is drawn on (checked by the tests with the WCAG formula).
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]

BG = (22, 36, 66)  # page background, navy
BAND = (34, 54, 96)  # header band, table header cells, menu tiles
RULE = (96, 116, 150)  # separators and table grid (never 1 px tall)
FG = (232, 232, 222)  # body text, off-white
DIM = (184, 196, 212)  # metadata, footer, dates
ACCENT = (234, 202, 108)  # titles, headings, entry numbers: gold, not red
# The remote's colour keys, for the legend's swatches only (never text): muted enough to stay
# legal, told apart by the word beside them (红/绿/黄/蓝), not by hue alone.
KEYS = {"red": (196, 64, 56), "green": (48, 160, 72), "yellow": (220, 196, 40), "blue": (56, 110, 210)}
KEY_WORDS = {"red": "红", "green": "绿", "yellow": "黄", "blue": "蓝"}

INKS = {"fg": FG, "dim": DIM, "accent": ACCENT}
GROUNDS = {"bg": BG, "band": BAND}
# Which inks are drawn on which grounds; every pair gets a ramp, and only these may be used.
PAIRS: tuple[tuple[str, str], ...] = (("fg", "bg"), ("dim", "bg"), ("accent", "bg"), ("fg", "band"), ("accent", "band"))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


@dataclass(frozen=True)
class Palette:
    colors: tuple[RGB, ...]
    index: dict[str, int]  # solid colours by name
    ramps: dict[tuple[str, str], tuple[int, int, int]]  # (ink, ground) → ground, ½, ink

    def rgb_bytes(self) -> bytes:
        return bytes(c for rgb in self.colors for c in rgb)


def build_palette() -> Palette:
    colors: list[RGB] = [BG, BAND, RULE, FG, DIM, ACCENT]
    index = {"bg": 0, "band": 1, "rule": 2, "fg": 3, "dim": 4, "accent": 5}
    ramps: dict[tuple[str, str], tuple[int, int, int]] = {}
    for ink, ground in PAIRS:
        colors.append(_mix(GROUNDS[ground], INKS[ink], 0.5))
        ramps[(ink, ground)] = (index[ground], len(colors) - 1, index[ink])
    for name, rgb in KEYS.items():  # after the ramps: the indices of text pages stay as they were
        index[f"key-{name}"] = len(colors)
        colors.append(rgb)
    assert len(colors) <= 16, "text pages must stay 4-bit"
    assert all(16 <= v <= 235 for c in colors for v in c), "every colour broadcast-legal"
    return Palette(tuple(colors), index, ramps)


PALETTE = build_palette()

# Coverage (0–255) → ramp step (0–2). The faintest third is dropped: fringe pixels cost
# bytes and, on a TV, only blur.
COVERAGE_STEP = bytes(0 if v < 96 else 1 if v < 176 else 2 for v in range(256))


def luminance(rgb: RGB) -> float:
    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def legal(rgb: RGB) -> RGB:
    """Clamp into the broadcast-legal 16–235 range."""
    return (min(235, max(16, rgb[0])), min(235, max(16, rgb[1])), min(235, max(16, rgb[2])))
