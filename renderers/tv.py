"""The TV page renderer: items and menus as paginated, title-safe, 4-bit palette PNG pages.

Pieces: :mod:`.layout` (geometry, flow, pagination), :mod:`.linebreak` (Chinese line
breaking), :mod:`.tables`, :mod:`.images`, :mod:`.fonts` (fontconfig, coverage, glyph cache),
:mod:`.canvas` and :mod:`.png` (drawing in palette indices, deterministic PNG bytes),
:mod:`.chrome` (header band, footer, QR code, menus' furniture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image

from pusher.errors import RenderError
from pusher.interfaces import Block, Document, Menu, PageContext, PageImage, Profile
from pusher.timeutil import local
from renderers import chrome
from renderers.canvas import Canvas
from renderers.fonts import face, font_chain
from renderers.images import ImageLoader, load_all
from renderers.layout import Box, Metrics, Style, flow, paginate
from renderers.linebreak import normalize_punctuation, wrap
from renderers.settings import RenderSettings
from renderers.tables import draw_row

PROFILES = {
    "sd": Profile("sd", 720, 576),
    "hd": Profile("hd", 1280, 720),
    "fhd": Profile("fhd", 1920, 1080),
}


# The whole 720 samples span the set's width, as MPEG-2's aspect flag (4:3 or 16:9) says and
# as the playout encoder signals (renderers.video.profiles): 16:15 and 64:45. BT.601's 12:11 and
# 16:11 assume 704 active samples, which would leave pages 2% wide on boxes that scale all 720.
SD_PIXEL_ASPECT = {"4:3": (16, 15), "16:9": (64, 45)}


@dataclass(frozen=True)
class Section:
    """One line of a contents page: a heading of the item and the page it is on."""

    number: int  # its digit key on its contents page
    label: str
    level: int
    page: int  # 1-based, over the whole item (contents pages counted)


@dataclass(frozen=True)
class ItemPlan:
    title: tuple[str, ...]
    title_lh: int
    meta: tuple[str, ...]
    meta_lh: int
    qr: Image.Image | None
    head_h: int  # height of the first page's title block, rule included
    pages: list[list[Box]]  # the body pages; the first holds the title block unless the contents page does
    # A long item's contents pages, before the body. The first of them holds the title block,
    # or — when that is what keeps the list on one page — the title alone (``contents_title``),
    # the whole title block then opening the body.
    contents: tuple[tuple[Section, ...], ...] = ()
    contents_title: tuple[str, ...] = ()
    # An item past ``render.max_pages``: the last page on air, saying the rest is on the portal.
    rest: ItemPlan | None = None
    contents_row_h: int = 0  # the height of a contents line

    @property
    def total(self) -> int:
        return len(self.contents) + len(self.pages) + (1 if self.rest is not None else 0)

    @property
    def head_on_body(self) -> bool:
        """Whether the title block opens the first body page."""
        return not self.contents or bool(self.contents_title)


class TvRenderer:
    """Renders with Pillow into palette indices; the same input always gives the same bytes.

    ``images`` fetches the bytes of a body image by its URL (the renderer never touches the
    network); without it, or when it returns nothing, a placeholder with the alt text is drawn.
    """

    def __init__(self, profile: Profile, settings: RenderSettings | None = None, *, images: ImageLoader | None = None) -> None:
        self.settings = settings = settings or RenderSettings()
        self.profile = profile
        # Anamorphic SD (BT.601, 704 active samples; H.264 Table E-1): lay out on the square
        # grid the set shows, store 720 samples a line.
        self.pixel_aspect = SD_PIXEL_ASPECT.get(settings.aspect, (1, 1)) if profile.width == 720 and profile.height == 576 else (1, 1)
        par = self.pixel_aspect[0] / self.pixel_aspect[1]
        shown = Profile(profile.name, round(profile.width * par / 2) * 2, profile.height)
        self.xscale = profile.width / shown.width
        elderly = settings.style == "elderly"
        # 长辈版 (MIIT 适老化): body text 1.3× with more leading, fewer entries a page, and the
        # secondary text (metadata, dates, footer) in the main ink rather than the dimmer one.
        self.m = m = Metrics.of(shown, scale=1.3 if elderly else 1.0, leading=1.65 if elderly else 1.5)
        self.secondary = "fg" if elderly else "dim"
        self.menu_entries = 6 if elderly else 9  # entries a column menu page lists at most
        # Space between menu entries: the 长辈版's larger lines need less air to stay apart.
        self.entry_gap = m.body // 3 if elderly else m.body // 2
        self.home_tiles = 4 if elderly else 8
        self.images = images
        self._blanks: dict[PageContext, Canvas] = {}  # see _canvas
        flicker = settings.flicker_safe if settings.flicker_safe is not None else profile.height <= 576
        self.flicker_safe = flicker
        regular, bold = font_chain(settings.fonts), font_chain(settings.bold_fonts or settings.fonts)
        self.chains = (regular, bold)
        xs = self.xscale
        self.body = face(regular, m.body, flicker, xs)
        self.bold = face(bold, m.body, flicker, xs)
        self.title = face(bold, m.title, flicker, xs)
        self.small = face(regular, m.small, flicker, xs)
        self.large = face(regular, m.title, flicker, xs)
        # The standard profile's small size: the colour-key legend drops to it rather than wrap.
        self.legend_small = face(regular, Metrics.of(shown).small, flicker, xs) if elderly else self.small
        h1 = round(m.body * 1.1)
        self.head1 = face(bold, h1, flicker, xs)
        # Headings differ by weight and size and, for the two upper levels, colour; the text
        # says the level too (一、 （一） 1.), so nothing depends on colour alone.
        self.styles = {
            "body": Style(self.body, "fg", m.line),
            "head": Style(self.bold, "accent", m.line),
            "head1": Style(self.head1, "accent", round(h1 * 1.45)),
            "head2": Style(self.bold, "accent", m.line),
            "head3": Style(self.bold, "fg", m.line),
            "cell": Style(self.body, "fg", m.line),
            "caption": Style(self.small, "dim", round(m.small * 1.5)),
        }

    # ------------------------------------------------------------------ items --
    def plan_item(self, doc: Document, *, whole: bool = False) -> ItemPlan:
        """Lay the item out: title block of the first page, then the body cut into pages; an item
        of more than ``contents_after`` pages opens with contents pages listing its sections, and
        one of more than ``max_pages`` keeps the pages before the limit and a last page saying
        the rest is on the portal (contents and page numbers count only the pages on air).
        ``whole``: neither contents nor a page limit."""
        m = self.m
        norm = normalize_punctuation if self.settings.normalize_punctuation else (lambda s: s)
        qr = chrome.qr_image(doc.url, m) if self.settings.qr and doc.url else None
        side = chrome.qr_column(qr, self.small) + m.body // 2 if qr is not None else 0
        title_lh, meta_lh = round(m.title * 1.35), round(m.small * 1.5)
        title_lines = chrome.balanced(norm(doc.title), m.content_width - side, self.title.advance)
        meta_lines = self._pack(self._meta(doc), m.content_width - side)
        head_h = len(title_lines) * title_lh + len(meta_lines) * meta_lh
        if qr is not None:
            head_h = max(head_h, qr.height + meta_lh)
        head_h += m.body // 2 + m.rule + m.body // 2
        area = m.content_bottom - m.content_top
        pictures = load_all(((i, b.src) for i, b in enumerate(doc.blocks) if b.kind == "img"), self.images, (m.content_width, area))
        boxes = flow(doc.blocks, self.styles, m, pictures, max_box=area - m.line * 2, normalize=self.settings.normalize_punctuation)
        head = (tuple(title_lines), title_lh, tuple(meta_lines), meta_lh, qr, head_h)
        under_head = paginate(boxes, area - head_h, area)
        after, limit = (0, 0) if whole else (self.settings.contents_after, self.settings.max_pages)
        on_air = min(len(under_head), limit) if limit else len(under_head)
        heads = [b for b in boxes if b.section and b.section <= 2] if after and on_air > after else []
        alone = tuple(chrome.balanced(norm(doc.title), m.content_width, self.title.advance))
        alone_h = len(alone) * title_lh + m.body // 2 + m.rule + m.body // 3
        plain: list[list[Box]] = []
        plan = ItemPlan(*head, under_head)
        # Cutting at the page limit drops the sections past it, which may shorten the contents
        # and so move every page number: settle in a few rounds.
        for _ in range(4):
            chunks, on_title, row_h = self._contents(heads, head_h, alone_h)
            if chunks and not on_title and not plain:
                plain = paginate(boxes, area, area)  # the body starts on a page of its own
            body = plain if chunks and not on_title else under_head
            k = len(chunks)
            cut = bool(limit) and k + len(body) > limit
            keep = limit - 1 - k if cut else len(body)
            if cut and keep < 1:  # no room for contents and a body: no contents
                heads, chunks, on_title, body, k, keep = [], [], False, under_head, 0, limit - 1
            page_of = {id(b): n for n, page in enumerate(body) for b in page}
            visible = [b for b in heads if page_of.get(id(b), 0) < keep]
            contents = tuple(
                tuple(Section(n, b.label, b.section, k + page_of.get(id(b), 0) + 1) for n, b in enumerate(chunk, 1)) for chunk in chunks
            )
            plan = ItemPlan(*head, body[:keep], contents, alone if on_title else (), self._rest(doc) if cut else None, row_h)
            if len(visible) == len(heads):
                break
            heads = visible
        return plan

    def _contents(self, heads: list[Box], head_h: int, alone_h: int) -> tuple[list[list[Box]], bool, int]:
        """The contents' pages of entries, whether the title alone heads them, and their row height.

        The list stays on one page when it can: the sections and sub-sections under the title
        block, else the sections alone, else either under the title alone; a list longer than any
        page is split evenly (no page left with one entry), each page past the first marked 目录（续）."""
        row_h, mark_h = self._contents_rows()
        if not heads:
            return [], False, row_h
        area = self.m.content_bottom - self.m.content_top
        tops = [b for b in heads if b.section == 1]
        lists = [heads, tops] if 2 <= len(tops) < len(heads) else [heads]

        def fits(room: int, row: int = row_h) -> int:
            return max(1, min(self.menu_entries, room // row))

        # Rows set a little tighter (1.2 em) when that is what keeps the list on one page.
        for row in (row_h, round(self.m.body * 1.2)):
            for on_title, room in ((False, area - head_h), (True, area - alone_h)):
                for entries in lists:
                    if len(entries) <= fits(room, row):
                        return [entries], on_title, row
        entries = lists[-1]
        # Split: under the title block if three entries fit there, else under the title alone.
        on_title = fits(area - head_h - mark_h) < 3
        first, other = fits(area - (alone_h if on_title else head_h) - mark_h), fits(area - row_h - mark_h)
        n = len(entries)
        pages = 1 + -(-max(0, n - first) // other)
        # Even pages: the first takes its share (no more than fits), the rest share what is left.
        share = min(first, -(-n // pages))
        out = [entries[:share]]
        rest = entries[share:]
        left = pages - 1
        while rest:
            take = min(other, -(-len(rest) // left))
            # A section does not end a page when its sub-sections start the next one.
            if take < len(rest) and take > 1 and rest[take - 1].section == 1 and rest[take].section > 1:
                take -= 1
            out.append(rest[:take])
            rest, left = rest[take:], max(1, left - 1)
        return out, on_title, row_h

    def _contents_rows(self) -> tuple[int, int]:
        """(height of one contents line, of the 续 mark under a list that goes on)."""
        m = self.m
        # The 长辈版's large type keeps its lines apart by itself: its rows take no extra air.
        return round(m.body * 1.3) + (0 if self.settings.style == "elderly" else m.body // 6), round(m.small * 1.5)

    def _rest(self, doc: Document) -> ItemPlan:
        """The last page on air of an item cut at ``max_pages``: its title marked 续, where the
        rest is, and (the title block's QR code) the link to the original. It must fit one page
        (the 长辈版 at SD is tight): without the metadata, then without the address, then the
        note's first sentence only."""
        note, address = Block("p", chrome.REST_ON_PORTAL), Block("p", f"原文地址：{doc.url}")
        short = Block("p", chrome.REST_ON_PORTAL.split("。")[0] + "。")
        plan = None
        for blocks in ((note, address), (note,), (short,)):
            rest = Document(url=doc.url, title=f"{doc.title}{chrome.CONTINUED}", blocks=blocks)
            plan = self.plan_item(rest, whole=True)
            if len(plan.pages) == 1 and (plan.pages[0] or blocks[0] is short):
                break
        assert plan is not None
        return replace(plan, pages=plan.pages[:1])

    def render_item(self, doc: Document, ctx: PageContext) -> Sequence[PageImage]:
        m = self.m
        self._check(
            [doc.title, *self._meta(doc), ctx.channel, ctx.column, *chrome.ITEM_STRINGS, *(t for b in doc.blocks for t in b.texts())],
            doc.url,
        )
        plan = self.plan_item(doc)
        total = plan.total
        after = self.settings.contents_after
        long_item = bool(plan.contents) or (after > 0 and total > after)
        hints = chrome.ITEM_HINTS_LONG if long_item else chrome.ITEM_HINTS if total > 1 else chrome.ITEM_HINTS_ONE
        out: list[PageImage] = []
        row_h, mark_h = plan.contents_row_h, self._contents_rows()[1]
        for n, sections in enumerate(plan.contents, 1):
            c = self._canvas(ctx)
            if n > 1:
                y = m.content_top
                c.text(m.left + m.body // 4, y + self.bold.baseline(row_h), chrome.CONTENTS_MORE, self.bold, "accent", role="title")
                y += row_h
            elif plan.contents_title:
                y = self._draw_title(c, plan.contents_title, plan.title_lh)
            else:
                y = self._draw_head(c, plan)
            rects = self._draw_contents(c, sections, y, row_h)
            if n < len(plan.contents):
                mark = chrome.CONTENTS_GOES_ON
                base = y + len(sections) * row_h + self.small.baseline(mark_h)
                c.text(m.right - m.body // 4 - round(self.small.width(mark)), base, mark, self.small, self.secondary, role="meta")
            chrome.footer(c, m, self.small, f"{chrome.CONTENTS} 第{n}/{total}页", chrome.CONTENTS_HINTS, self.secondary)
            out.append(c.finish(rects))
        first_body = len(plan.contents) + 1
        for n, page in enumerate(plan.pages, first_body):
            c = self._canvas(ctx)
            y = self._draw_head(c, plan) if n == first_body and plan.head_on_body else m.content_top
            self._draw_boxes(c, page, y)
            chrome.footer(c, m, self.small, f"第{n}/{total}页", hints, self.secondary)
            out.append(c.finish())
        if plan.rest is not None:
            c = self._canvas(ctx)
            y = self._draw_head(c, plan.rest)
            self._draw_boxes(c, plan.rest.pages[0] if plan.rest.pages else [], y)
            chrome.footer(c, m, self.small, f"第{total}/{total}页", hints, self.secondary)
            out.append(c.finish())
        return out

    def _draw_title(self, c: Canvas, lines: tuple[str, ...], lh: int) -> int:
        """The title alone, full width, and its rule (a contents page that needs the room)."""
        m = self.m
        y = m.content_top
        for ln in lines:
            c.text(m.left, y + self.title.baseline(lh), ln, self.title, "accent", role="title")
            y += lh
        y += m.body // 2
        c.rect(m.left, y, m.right, y + m.rule, "rule")
        return y + m.rule + m.body // 3

    def _draw_head(self, c: Canvas, plan: ItemPlan) -> int:
        """The first page's title block (title, metadata, QR code, rule); returns where the rest starts."""
        m = self.m
        y = m.content_top
        for ln in plan.title:
            c.text(m.left, y + self.title.baseline(plan.title_lh), ln, self.title, "accent", role="title")
            y += plan.title_lh
        for ln in plan.meta:
            c.text(m.left, y + self.small.baseline(plan.meta_lh), ln, self.small, self.secondary, role="meta")
            y += plan.meta_lh
        if plan.qr is not None:
            chrome.draw_qr(c, plan.qr, m, self.small, plan.meta_lh, self.secondary)
        y = m.content_top + plan.head_h - m.body // 2 - m.rule
        c.rect(m.left, y, m.right, y + m.rule, "rule")
        return y + m.rule + m.body // 2

    def _draw_contents(
        self, c: Canvas, sections: tuple[Section, ...], y: int, row_h: int
    ) -> tuple[tuple[int, str, int, int, int, int], ...]:
        """目录, then one line a section: digit key, heading, 第N页 at the right. The entries lead
        to ``page-N`` (the manifest turns them into the item's page ids)."""
        m = self.m
        # No 目录 heading (the footer says 目录): under a title block, every line counts.
        pad = m.body // 4
        num_w = round(self.bold.width("9") + m.body * 0.6)
        rects = []
        for s in sections:
            page = f"第{s.page}页"
            page_w = round(self.small.width(page))
            indent = m.body if s.level > 1 else 0
            x = m.left + pad + num_w + indent
            base = y + self.body.baseline(row_h)
            c.text(m.left + pad, base, str(s.number), self.bold, "accent", record=False)
            label = chrome.fit(s.label, m.right - pad - page_w - m.body // 2 - x, self.body)
            c.text(x, base, label, self.body, "fg", record=False)
            c.text(m.right - pad - page_w, base, page, self.small, self.secondary, record=False)
            c.record(f"{s.number} {label} {page}", "entry")
            rects.append((s.number, f"page-{s.page}", m.left, y, m.content_width, row_h))
            y += row_h
        return tuple(rects)

    def _pack(self, fields: list[str], width: int) -> list[str]:
        """Metadata fields side by side while they fit; a field never breaks unless it must."""
        sep = "　　"
        lines: list[str] = []
        for f in fields:
            if lines and self.small.width(lines[-1] + sep + f) <= width:
                lines[-1] += sep + f
            else:
                lines += wrap(f, width, self.small.advance)
        return lines

    def _meta(self, doc: Document) -> list[str]:
        parts = []
        if doc.publisher:
            parts.append(f"发布机构：{doc.publisher}")
        if doc.published:
            d = local(doc.published)
            parts.append(f"发布日期：{d.year}年{d.month}月{d.day}日")
        if doc.doc_no:
            parts.append(f"文号：{doc.doc_no}")
        norm = normalize_punctuation if self.settings.normalize_punctuation else (lambda s: s)
        return [norm(p) for p in parts]

    def _draw_boxes(self, c: Canvas, page: list[Box], y: int) -> None:
        m = self.m
        for k, b in enumerate(page):
            if b.kind == "line":
                st = self.styles[b.style]
                width = m.content_width - b.indent if b.justify else 0
                x = m.left + b.indent
                if b.style == "caption":  # captions sit centred under their picture
                    x = m.left + (m.content_width - round(st.face.width(b.text))) // 2
                role = "head" if b.style.startswith("head") else b.style
                fit = m.content_width - b.indent
                c.text(x, y + st.face.baseline(b.height), b.text, st.face, st.ink, justify_to=width, fit_to=fit, role=role)
            elif b.kind == "row" and b.row is not None:
                nxt = page[k + 1] if k + 1 < len(page) else None
                last = nxt is None or nxt.kind != "row"
                draw_row(c, b.row, m.left, y, self.body, self.bold, last)
            elif b.kind == "image" and b.picture is not None:
                chrome.draw_picture(c, b.picture, m, y, self.small, flicker_safe=self.flicker_safe)
            y += b.height

    # ------------------------------------------------------------------ menus --
    def render_menu(self, menu: Menu, ctx: PageContext) -> Sequence[PageImage]:
        self._check([menu.title, ctx.channel, ctx.column, *chrome.MENU_STRINGS, *(e.label for e in menu.entries)], None)
        if menu.kind == "home":
            return chrome.home_pages(self, menu, ctx)
        return chrome.column_pages(self, menu, ctx)

    # ----------------------------------------------------------------- alerts --
    def render_alert(self, text: str, level: str, ctx: PageContext) -> Sequence[PageImage]:
        """Alert pages (``level`` urgent / warning / info), in the large text size."""
        heading = chrome.ALERT_HEADINGS.get(level, "公告")
        text = normalize_punctuation(text) if self.settings.normalize_punctuation else text
        self._check([text, heading, ctx.channel, ctx.column, chrome.ALERT_HINTS, "第0123456789/页"], None)
        return chrome.alert_pages(self, text, level, ctx)

    # ---------------------------------------------------------------- helpers --
    def _canvas(self, ctx: PageContext) -> Canvas:
        """A blank page with its header band, copied from one drawn once per context (every
        page of an item, and of the items of a column, has the same band: 6% of a page's time)."""
        blank = self._blanks.get(ctx)
        if blank is None:
            stored = self.profile.width if self.xscale != 1.0 else 0
            m, aspect = self.m, self.pixel_aspect
            blank = Canvas(m.width, m.height, png_level=self.settings.png_level, stored_width=stored, pixel_aspect=aspect)
            chrome.header(blank, self.m, self.small, ctx)
            if len(self._blanks) >= 16:
                self._blanks.clear()
            self._blanks[ctx] = blank
        return blank.copy()

    def _check(self, texts: list[str], item: str | None) -> None:
        """Fail before drawing when a character has no glyph (bold text uses the second chain)."""
        joined = "".join(texts)
        for chain in self.chains:
            chain.check(joined, item=item)


def make_renderer(profile: str, settings: RenderSettings | None = None, *, images: ImageLoader | None = None) -> TvRenderer:
    try:
        p = PROFILES[profile]
    except KeyError:
        raise RenderError(f"unknown profile {profile!r} (have: {', '.join(PROFILES)})") from None
    return TvRenderer(p, settings, images=images)
