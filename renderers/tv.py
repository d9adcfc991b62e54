"""The TV page renderer: items and menus as paginated, title-safe, palette PNG pages."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from pusher.errors import FontError, RenderError
from pusher.interfaces import Document, Menu, PageContext, PageImage, Profile
from pusher.timeutil import local

from .fonts import FontChain, pil_font
from .linebreak import wrap
from .settings import RenderSettings

PROFILES = {
    "sd": Profile("sd", 720, 576),
    "hd": Profile("hd", 1280, 720),
    "fhd": Profile("fhd", 1920, 1080),
}

# Broadcast-legal colours: every channel within 16–235.
BG = (24, 40, 72)
FG = (230, 230, 222)
DIM = (170, 182, 200)
BAND = (40, 64, 110)
ACCENT = (235, 200, 96)


@dataclass(frozen=True)
class Metrics:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    body: int
    title: int
    small: int
    line: int

    @classmethod
    def of(cls, p: Profile) -> Metrics:
        # Title-safe area: the central 90% of each dimension.
        mx, my = round(p.width * 0.05), round(p.height * 0.05)
        body = max(28, round(p.height * 0.05))
        return cls(p.width, p.height, mx, p.width - mx, my, p.height - my, body, round(body * 1.25), round(body * 0.72), round(body * 1.5))


class TvRenderer:
    """Renders with Pillow; the same input always gives the same bytes."""

    def __init__(self, profile: Profile, settings: RenderSettings | None = None) -> None:
        settings = settings or RenderSettings()
        self.profile = profile
        self.m = Metrics.of(profile)
        self.fonts = FontChain(settings.fonts)
        self.bold = FontChain(settings.bold_fonts) if settings.bold_fonts else self.fonts

    # ------------------------------------------------------------- items ----
    def render_item(self, doc: Document, ctx: PageContext) -> Sequence[PageImage]:
        m = self.m
        try:
            self.fonts.check(doc.text + doc.title + doc.publisher + doc.doc_no, item=doc.url)
        except FontError:
            raise
        body_font = pil_font(self.fonts.primary, m.body)
        title_font = pil_font(self.bold.primary, m.title)
        width = m.right - m.left

        def measure(s: str) -> float:
            return body_font.getlength(s)

        title_lines = wrap(doc.title, width, title_font.getlength)
        meta = "　".join(
            p for p in (doc.publisher, local(doc.published).strftime("%Y年%m月%d日") if doc.published else "", doc.doc_no) if p
        )
        lines: list[tuple[str, str, int]] = []  # (kind, text, indent px)
        for block in doc.blocks:
            if block.kind == "table":
                for row in block.rows:
                    for ln in wrap(" │ ".join(row), width, measure):
                        lines.append(("body", ln, 0))
            elif block.kind == "img":
                if block.text:
                    lines.append(("dim", f"［图］{block.text}", 0))
            elif block.kind == "h":
                for ln in wrap(block.text, width, measure):
                    lines.append(("head", ln, 0))
            else:
                indent = m.body * 2
                for i, ln in enumerate(wrap(block.text, width, measure, first_indent=indent)):
                    lines.append(("body", ln, indent if i == 0 else 0))
        header_h = m.small * 2
        footer_h = m.small * 2
        first_top = m.top + header_h + len(title_lines) * round(m.title * 1.4) + (m.line if meta else 0) + m.body // 2
        other_top = m.top + header_h + m.body // 2
        bottom = m.bottom - footer_h
        pages: list[list[tuple[str, str, int]]] = []
        cur: list[tuple[str, str, int]] = []
        y = first_top
        for ln in lines:
            if y + m.line > bottom and cur:
                pages.append(cur)
                cur, y = [], other_top
            cur.append(ln)
            y += m.line
        pages.append(cur)
        out = []
        for n, page_lines in enumerate(pages, 1):
            img, draw = self._canvas(ctx)
            drawn: list[str] = []
            y = m.top + header_h
            if n == 1:
                for tl in title_lines:
                    draw.text((m.left, y), tl, font=title_font, fill=ACCENT)
                    drawn.append(tl)
                    y += round(m.title * 1.4)
                if meta:
                    draw.text((m.left, y), meta, font=pil_font(self.fonts.primary, m.small), fill=DIM)
                    drawn.append(meta)
                    y += m.line
            y += m.body // 2
            for kind, text, indent in page_lines:
                fill = {"body": FG, "head": ACCENT, "dim": DIM}[kind]
                draw.text((m.left + indent, y), text, font=body_font, fill=fill)
                drawn.append(text)
                y += m.line
            drawn += self._footer(draw, f"第{n}/{len(pages)}页", "◀ ▶ 翻页　返回 目录")
            out.append(self._encode(img, drawn))
        return out

    # ------------------------------------------------------------- menus ----
    def render_menu(self, menu: Menu, ctx: PageContext) -> Sequence[PageImage]:
        m = self.m
        self.fonts.check("".join(e.label for e in menu.entries) + menu.title)
        font = pil_font(self.fonts.primary, m.body)
        title_font = pil_font(self.bold.primary, m.title)
        header_h = m.small * 2
        top = m.top + header_h + round(m.title * 1.6)
        per_page = max(1, (m.bottom - m.small * 2 - top) // m.line)
        chunks = [menu.entries[i : i + per_page] for i in range(0, len(menu.entries), per_page)] or [()]
        out = []
        for n, chunk in enumerate(chunks, 1):
            img, draw = self._canvas(ctx)
            draw.text((m.left, m.top + header_h), menu.title, font=title_font, fill=ACCENT)
            drawn = [menu.title]
            rects = []
            y = top
            width = m.right - m.left
            for i, e in enumerate(chunk, 1):
                label = f"{i}. {e.label}"
                date = e.date.strftime("%m-%d") if e.date else ""
                avail = width - (font.getlength(date) + m.body if date else 0)
                while label and font.getlength(label) > avail:
                    label = label[:-2] + "…"
                draw.text((m.left, y), label, font=font, fill=FG)
                if date:
                    draw.text((m.right - font.getlength(date), y), date, font=font, fill=DIM)
                drawn.append(label + (" " + date if date else ""))
                rects.append((i, e.key, m.left, y, width, m.line))
                y += m.line
            if not chunk:
                draw.text((m.left, y), "暂无信息", font=font, fill=DIM)
                drawn.append("暂无信息")
            hint = "数字键 选择　OK 进入　返回" if menu.kind == "column" else "数字键 选择栏目　OK 进入"
            drawn += self._footer(draw, f"第{n}/{len(chunks)}页", "◀ ▶ 翻页　" + hint)
            out.append(self._encode(img, drawn, tuple(rects)))
        return out

    # ----------------------------------------------------------- helpers ----
    def _canvas(self, ctx: PageContext) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        m = self.m
        img = Image.new("RGB", (m.width, m.height), BG)
        draw = ImageDraw.Draw(img)
        band_bottom = m.top + round(m.small * 1.6)
        draw.rectangle((0, 0, m.width, band_bottom), fill=BAND)
        small = pil_font(self.fonts.primary, m.small)
        left = ctx.channel + (f" · {ctx.column}" if ctx.column else "")
        draw.text((m.left, m.top), left, font=small, fill=FG)
        date = ctx.today.strftime("%Y年%m月%d日")
        draw.text((m.right - small.getlength(date), m.top), date, font=small, fill=FG)
        return img, draw

    def _footer(self, draw: ImageDraw.ImageDraw, left: str, right: str) -> list[str]:
        m = self.m
        small = pil_font(self.fonts.primary, m.small)
        y = m.bottom - round(m.small * 1.3)
        draw.text((m.left, y), left, font=small, fill=DIM)
        draw.text((m.right - small.getlength(right), y), right, font=small, fill=DIM)
        return [left, right]

    def _encode(self, img: Image.Image, lines: list[str], entries: tuple[tuple[int, str, int, int, int, int], ...] = ()) -> PageImage:
        pal = img.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buf = io.BytesIO()
        pal.save(buf, format="PNG", optimize=True)
        return PageImage(png=buf.getvalue(), width=img.width, height=img.height, lines=tuple(lines), entries=entries)


def make_renderer(profile: str, settings: RenderSettings | None = None) -> TvRenderer:
    try:
        return TvRenderer(PROFILES[profile], settings)
    except KeyError:
        raise RenderError(f"unknown profile {profile!r} (have: {', '.join(PROFILES)})") from None
