"""Page geometry, the flow of an item body into boxes, and pagination.

Geometry follows the television facts of DESIGN.md §3: everything but the background sits in
the title-safe area (the central 90%), body text is at least 5% of the screen height with
1.5 line spacing, paragraphs are indented two ems.

Pagination is greedy with the usual typographic repairs: a paragraph never leaves its last
line alone at the top of a page (widow) nor its first line alone at the bottom (orphan) when
moving a line avoids it; headings stay with what follows; a table continued on a new page
repeats its header rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from PIL import Image

from pusher.interfaces import Block, Profile
from renderers.fonts import Face
from renderers.linebreak import normalize_punctuation, wrap
from renderers.tables import TableRow, layout_table


@dataclass(frozen=True)
class Metrics:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    body: int  # body text size, px
    line: int  # body line box height
    title: int
    small: int
    rule: int  # thickness of every rule: never 1 px (interlace flicker at SD)
    band: int  # bottom of the header band
    content_top: int
    content_bottom: int
    footer_rule: int

    @classmethod
    def of(cls, p: Profile, *, scale: float = 1.0, leading: float = 1.5) -> Metrics:
        """``scale`` enlarges every text size (the 长辈版 draws 1.3×), ``leading`` is the body's
        line box in ems."""
        left, top = round(p.width * 0.05), round(p.height * 0.05)
        body = math.ceil(max(28, math.ceil(p.height * 0.05)) * scale)
        small = round(body * 0.8)
        band = top + round(small * 1.7)
        footer_rule = p.height - top - round(small * 1.7)
        return cls(
            width=p.width,
            height=p.height,
            left=left,
            right=p.width - left,
            top=top,
            bottom=p.height - top,
            body=body,
            line=round(body * leading),
            title=round(body * 1.2),
            small=small,
            rule=max(2, round(p.height / 360)),
            band=band,
            content_top=band + round(body * 0.5),
            content_bottom=footer_rule - round(body * 0.25),
            footer_rule=footer_rule,
        )

    @property
    def content_width(self) -> int:
        return self.right - self.left


# The numbering of government documents (GB/T 9704 党政机关公文格式): 一、 then （一） then 1. then （1）.
_LEVELS = (
    (1, re.compile(r"^[一二三四五六七八九十]+、")),
    (2, re.compile(r"^[（(][一二三四五六七八九十]+[）)]")),
    (3, re.compile(r"^\d{1,2}[.．](?!\d)")),
    (3, re.compile(r"^[（(]\d{1,2}[）)]")),
)
_SENTENCE_INSIDE = re.compile(r"[。！？；][^”’）)]")


def heading_level(block: Block) -> int:
    """1–3 for a section heading, else 0: ``h`` blocks, and paragraphs that are a numbered
    heading on their own (short, one sentence at most; ``（一）强化组织领导。成立由…`` is a
    paragraph with a run-in lead, not a heading)."""
    if block.kind not in ("h", "p"):
        return 0
    text = block.text.strip()
    for level, pat in _LEVELS:
        if pat.match(text):
            if block.kind == "h" or (len(text) <= 40 and not _SENTENCE_INSIDE.search(text) and "，" not in text[:-1] and "," not in text):
                return level
            return 0
    return 2 if block.kind == "h" else 0


@dataclass(frozen=True)
class Style:
    face: Face
    ink: str
    line: int  # line box height


@dataclass(frozen=True)
class Picture:
    image: Image.Image | None  # None: draw a placeholder
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class Box:
    kind: Literal["line", "gap", "row", "image"]
    height: int
    text: str = ""
    style: str = "body"
    indent: int = 0
    justify: bool = False
    para: int = -1  # paragraph id (lines only), for widow/orphan control
    index: int = 0  # line number within the paragraph
    count: int = 1  # lines in the paragraph
    keep_with_next: bool = False
    row: TableRow | None = None
    picture: Picture | None = None
    section: int = 0  # on a heading's first line: the heading's level (1–3), for the contents page
    label: str = ""  # …and the whole heading


def flow(
    blocks: Sequence[Block],
    styles: dict[str, Style],
    m: Metrics,
    pictures: dict[int, Image.Image | None],
    *,
    max_box: int,
    normalize: bool = True,
) -> list[Box]:
    """The body as boxes, in reading order. ``pictures`` maps block index → decoded image."""
    body = styles["body"]
    width = m.content_width
    norm = normalize_punctuation if normalize else (lambda s: s)
    out: list[Box] = []
    para_gap = Box("gap", round(m.body * 0.3))
    for bi, block in enumerate(blocks):
        level = heading_level(block)
        if level:
            # Space before (more for a section than a sub-section), no first-line indent, and
            # the heading stays with what follows (never the last line of a page).
            st = f"head{level}"
            out.append(Box("gap", round(m.body * (0.8 if level == 1 else 0.5))))
            text = norm(block.text)
            lines = wrap(text, width, styles[st].face.advance, squeeze=True)
            out += [
                Box("line", styles[st].line, ln, st, keep_with_next=True, section=0 if k else level, label="" if k else text.strip())
                for k, ln in enumerate(lines)
            ]
            out.append(Box("gap", round(m.body * 0.15), keep_with_next=True))
        elif block.kind == "p":
            indent = m.body * 2
            lines = wrap(norm(block.text), width, body.face.advance, first_indent=indent, squeeze=True)
            for i, ln in enumerate(lines):
                last = i == len(lines) - 1
                out.append(Box("line", body.line, ln, "body", indent if i == 0 else 0, not last, bi, i, len(lines)))
            out.append(para_gap)
        elif block.kind == "table":
            rows = layout_table(bi, block.rows, block.header_rows, styles["cell"].face, width, max_box, m.rule)
            out.append(Box("gap", round(m.body * 0.4)))
            out += [Box("row", r.height, row=r, keep_with_next=r.header) for r in rows]
            out.append(Box("gap", round(m.body * 0.6)))
        elif block.kind == "img":
            alt = norm(block.text or "")
            cap = styles["caption"]
            caption = wrap(alt, width, cap.face.advance) if alt else []
            room = max_box - len(caption) * cap.line
            im = pictures.get(bi)
            if im is not None:
                scale = min(width / im.width, room / im.height, 2.0)
                pic = Picture(im, max(1, round(im.width * scale)), max(1, round(im.height * scale)), alt)
            else:
                pic = Picture(None, width, min(room, m.line * 3), alt)
                caption = []  # the placeholder shows the alt text itself
            out.append(Box("image", pic.height + m.body // 2, picture=pic, keep_with_next=bool(caption)))
            out += [Box("line", cap.line, ln, "caption", keep_with_next=i < len(caption) - 1) for i, ln in enumerate(caption)]
            out.append(para_gap)
    return out


def paginate(boxes: list[Box], first: int, other: int) -> list[list[Box]]:
    """Cut boxes into pages of at most ``first`` (then ``other``) pixels of height."""
    boxes = list(boxes)  # pictures may be shrunk in place
    headers: dict[int, list[Box]] = {}
    for b in boxes:
        if b.kind == "row" and b.row is not None and b.row.header:
            headers.setdefault(b.row.table, []).append(replace(b, keep_with_next=False))
    pages: list[list[Box]] = []
    i, n, cap = 0, len(boxes), first
    while i < n:
        while i < n and boxes[i].kind == "gap":
            i += 1
        if i >= n:
            break
        prefix: list[Box] = []
        b = boxes[i]
        if pages and b.kind == "row" and b.row is not None and not b.row.header and b.row.table in headers:
            prefix = headers[b.row.table]
        used = sum(p.height for p in prefix)
        j = i
        while j < n:
            if used + boxes[j].height > cap:
                smaller = _shrink(boxes, j, cap - used)
                if smaller is None:
                    break
                boxes[j] = smaller
            used += boxes[j].height
            j += 1
        if j < n and j > i:
            j = _repair(boxes, i, j)
            j = _table_break(boxes, i, j, other, first_page=not pages)
        if j > i or pages:
            j = max(j, i + 1)
        page = prefix + boxes[i:j]
        while page and page[-1].kind == "gap":
            page.pop()
        pages.append(page)
        i, cap = j, other
    return pages or [[]]


MIN_TABLE_ROWS = 3  # body rows a split table leaves on either side of the break


def _table_break(boxes: list[Box], start: int, brk: int, other: int, *, first_page: bool = False) -> int:
    """Move a break that falls inside a table: a table that fits on a page goes whole to the next
    one; a table that must be split leaves at least ``MIN_TABLE_ROWS`` body rows on each page
    (headers repeat, so they do not count). On the first page, below the title block, a table
    that fits a whole page may leave the body empty there: the title page says what follows."""
    b = boxes[brk]
    if b.kind != "row" or b.row is None:
        return brk
    t = b.row.table

    def in_table(k: int) -> bool:
        r = boxes[k].row
        return boxes[k].kind == "row" and r is not None and r.table == t

    a = brk
    while a > start and in_table(a - 1):
        a -= 1
    if a == brk:
        return brk  # the break is before the table already
    e = brk
    while e < len(boxes) and in_table(e):
        e += 1
    whole = sum(boxes[k].height for k in range(a, e))
    body = [k for k in range(a, e) if (r := boxes[k].row) is not None and not r.header]
    before = sum(1 for k in body if k < brk)
    after = len(body) - before
    j = brk
    if (a > start or first_page) and whole <= other:
        j = a
    elif before < MIN_TABLE_ROWS:
        j = a if a > start else brk
    elif 0 < after < MIN_TABLE_ROWS:
        j = brk - (MIN_TABLE_ROWS - after)
        if before - (MIN_TABLE_ROWS - after) < MIN_TABLE_ROWS:
            j = a if a > start else brk
    if j == a:
        # Whatever introduces the table (a heading, a caption) goes with it.
        while j - 1 > start and (boxes[j - 1].keep_with_next or (boxes[j - 1].kind == "gap" and boxes[j - 2].keep_with_next)):
            j -= 1
        if j <= start:
            return start if first_page and a == start else brk
    return j


def _shrink(boxes: list[Box], j: int, room: int) -> Box | None:
    """A picture that half fits is scaled down to the room left (caption included), not moved."""
    b = boxes[j]
    pic = b.picture
    if b.kind != "image" or pic is None or pic.image is None:
        return None
    k, tail = j + 1, 0
    while k < len(boxes) and boxes[k - 1].keep_with_next:
        tail += boxes[k].height
        k += 1
    pad = b.height - pic.height
    h = room - tail - pad
    if h < pic.height * 0.5:
        return None
    scaled = Picture(pic.image, max(1, round(pic.width * h / pic.height)), h, pic.alt)
    return replace(b, height=h + pad, picture=scaled)


def _repair(boxes: list[Box], start: int, brk: int) -> int:
    """Move the page break ``brk`` earlier to avoid a widow, an orphan or a stranded heading."""
    j = brk
    b = boxes[j]
    if b.kind == "line" and b.para >= 0:
        on_page = sum(1 for k in range(start, j) if boxes[k].para == b.para)
        if b.count - b.index == 1 and on_page >= 2:
            j -= 1  # widow: take one more line over
            if on_page - 1 == 1 and boxes[j - 1].index == 0:
                j -= 1  # …which would leave an orphan: move the whole paragraph
        elif b.index == 1 and on_page == 1 and b.count > 1:
            j -= 1  # orphan: the first line goes over with the rest
    while j - 1 > start and (boxes[j - 1].keep_with_next or (boxes[j - 1].kind == "gap" and boxes[j - 2].keep_with_next)):
        j -= 1
    return j if j > start else brk
