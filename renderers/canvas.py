"""A page being drawn: a palette-index image plus the text lines put on it.

Everything is drawn in palette indices (see :mod:`renderers.theme`): rectangles as solid
indices, text as cached glyph bitmaps, QR codes as two indices, photographs quantised into
palette slots after the 16 of the theme. ``finish`` writes the PNG.
"""

from __future__ import annotations

import copy

from PIL import Image, ImageDraw

from pusher.interfaces import PageImage
from renderers.fonts import Face
from renderers.linebreak import MARKS_ALL, OPENING_ALL, line_spacing
from renderers.png import encode_palette_png
from renderers.theme import PALETTE, RGB


class Canvas:
    def __init__(
        self, width: int, height: int, *, png_level: int = 5, stored_width: int = 0, pixel_aspect: tuple[int, int] = (1, 1)
    ) -> None:
        """``width`` × ``height`` in display (square) pixels; with ``stored_width`` the image is
        that many (non-square) pixels wide and every x is scaled on the way in (anamorphic SD)."""
        self.width, self.height = width, height
        self.stored = stored_width or width
        self.sx = self.stored / width
        self.pixel_aspect = pixel_aspect
        self.img = Image.new("P", (self.stored, height), PALETTE.index["bg"])
        self.img.load()
        self.draw = ImageDraw.Draw(self.img)
        self.colors: list[RGB] = list(PALETTE.colors)
        self.lines: list[str] = []
        self.roles: list[str] = []  # what each line is: header, title, meta, head, body, cell, menu, footer…
        self.marks: list[tuple[int, int, float]] = []
        self.png_level = png_level

    def copy(self) -> Canvas:
        """A canvas that goes on from this one (its pixels, palette and recorded lines copied)."""
        c = copy.copy(self)
        c.img = self.img.copy()
        c.draw = ImageDraw.Draw(c.img)
        c.colors, c.lines, c.roles, c.marks = list(self.colors), list(self.lines), list(self.roles), list(self.marks)
        return c

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: str) -> None:
        """Fill the half-open box [x0, x1) × [y0, y1)."""
        if self.sx != 1.0:
            x0, x1 = round(x0 * self.sx), round(x1 * self.sx)
        if x1 > x0 and y1 > y0:
            self.draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=PALETTE.index[color])

    def text(
        self,
        x: int,
        baseline: int,
        text: str,
        face: Face,
        ink: str = "fg",
        ground: str = "bg",
        *,
        justify_to: int = 0,
        fit_to: int = 0,
        record: bool = True,
        role: str = "text",
    ) -> int:
        """Draw one line; returns its right edge.

        Punctuation is set by :func:`line_spacing` (compressed pairs, half-width marks at the
        line edges). ``justify_to`` spreads a modest shortfall to that width; a line wider than
        ``fit_to`` (or ``justify_to``) squeezes its marks, never its ideographs. What was
        compressed is recorded in ``marks`` (line number, column, advance in em) for
        ``layout.json``.
        """
        ramp = PALETTE.ramps[(ink, ground)]
        adv, shift = line_spacing(text, face.advance)
        natural = sum(adv)
        limit = justify_to or fit_to
        if limit and natural > limit + 0.5:
            _squeeze(text, adv, shift, face, natural - limit)
            natural = sum(adv)
        extra = 0.0
        if justify_to and len(text) > 1:
            gap = (justify_to - natural) / (len(text) - 1)
            # Spread only a modest shortfall: a line cut before a long URL stays ragged.
            if 0 < gap <= face.size * 0.35:
                extra = gap
        paste = self.img.im.paste  # the core: ~4× faster than Image.paste for small glyphs
        pos = float(x)
        sx, xmin, stored = self.sx, round(x * self.sx), self.stored
        for ch, a, sh in zip(text, adv, shift, strict=True):
            g = face.glyph(ch, ramp)
            if g is not None:
                # Even x (rounded down, so never past the measured right edge): with two
                # pixels a byte, a repeated glyph repeats its bytes for deflate to find.
                gx = (int((pos + sh) * sx) & ~1) + g.dx
                if sh and gx + g.ink < xmin:
                    gx = xmin - g.ink  # a half-width mark at the line start never inks left of the margin
                gy = baseline + g.dy
                if gx >= 0 and gy >= 0 and gx + g.w <= stored and gy + g.h <= self.height:
                    paste(g.pixels, (gx, gy, gx + g.w, gy + g.h), g.mask)
            pos += a + extra
        if record:
            n = len(self.lines)
            for col, (ch, a) in enumerate(zip(text, adv, strict=True)):
                if ch in MARKS_ALL and a < face.advance(ch) - 0.01:
                    self.marks.append((n, col, round(a / face.size, 2)))
            self.lines.append(text)
            self.roles.append(role)
        return round(pos - extra)

    def record(self, text: str, role: str) -> None:
        """Record a line drawn in pieces (a menu entry: number, title lines, date)."""
        self.lines.append(text)
        self.roles.append(role)

    def paste_indices(self, img: Image.Image, x: int, y: int) -> None:
        """Paste a mode-``P`` image already holding theme indices (a QR code)."""
        if self.sx != 1.0:
            img = img.resize((round(img.width * self.sx), img.height), Image.Resampling.NEAREST)
        self.img.paste(img, (round(x * self.sx), y))

    def paste_photo(self, rgb: Image.Image, x: int, y: int, max_colors: int = 128) -> None:
        """Quantise a broadcast-legal RGB image into free palette slots and paste it."""
        free = 256 - len(self.colors)
        if free < 2:
            return
        if self.sx != 1.0:
            rgb = rgb.resize((max(1, round(rgb.width * self.sx)), rgb.height), Image.Resampling.LANCZOS)
            x = round(x * self.sx)
        q = rgb.quantize(colors=min(max_colors, free), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        pal = q.getpalette() or []
        hi = q.getextrema()[1]
        used = int(hi if isinstance(hi, (int, float)) else 0) + 1
        offset = len(self.colors)
        self.colors.extend((pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]) for i in range(used))
        shifted = Image.frombytes("L", q.size, q.tobytes()).point([min(255, i + offset) for i in range(256)])
        self.img.paste(Image.frombytes("P", q.size, shifted.tobytes()), (x, y))

    def finish(self, entries: tuple[tuple[int, str, int, int, int, int], ...] = ()) -> PageImage:
        """The PNG and its record; entry boxes are given in display pixels and stored in image pixels."""
        if self.sx != 1.0:
            sx = self.sx
            entries = tuple((n, k, round(x * sx), y, round((x + w) * sx) - round(x * sx), h) for n, k, x, y, w, h in entries)
        palette = bytes(c for rgb in self.colors for c in rgb)
        png = encode_palette_png(self.img, palette, level=self.png_level)
        return PageImage(
            png=png,
            width=self.stored,
            height=self.height,
            lines=tuple(self.lines),
            entries=entries,
            roles=tuple(self.roles),
            marks=tuple(self.marks),
            pixel_aspect=self.pixel_aspect,
        )


def _squeeze(text: str, adv: list[float], shift: list[float], face: Face, over: float) -> None:
    """Take ``over`` px out of the line's marks, evenly, at most half of each (clreq 标点挤压)."""
    marks = enumerate(zip(text, adv, strict=True))
    room = [(i, face.advance(c) * 0.5) for i, (c, a) in marks if c in MARKS_ALL and a > face.advance(c) * 0.75]
    total = sum(r for _, r in room)
    if total <= 0:
        return
    t = min(1.0, over / total)
    for i, r in room:
        adv[i] -= r * t
        if text[i] in OPENING_ALL:
            shift[i] -= r * t  # an opening mark loses its left half: the ink moves left
