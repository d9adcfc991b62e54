"""Page furniture: header band, footer with page x/y and key hints, QR code, pictures, menus."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from pusher.interfaces import Menu, MenuEntry, PageContext, PageImage
from renderers import qr
from renderers.canvas import Canvas
from renderers.fonts import Face
from renderers.layout import Metrics, Picture
from renderers.linebreak import NO_END, NO_START, fill, prepare, wrap
from renderers.theme import KEY_WORDS, PALETTE

if TYPE_CHECKING:
    from renderers.tv import TvRenderer

# Footer hints as segments: a page shows only the keys that do something on it, and a footer too
# narrow for all of them (SD in the 长辈版) drops the least needed first (see ``DROP_FIRST``).
TURN = "◀ ▶ 翻页"
ITEM_HINTS = (TURN, "返回 目录")
ITEM_HINTS_ONE = ("返回 目录",)  # a single page: nothing to turn to
ITEM_HINTS_LONG = (TURN, "数字键 输入页码", "返回")  # a long item: digits jump to a page
CONTENTS_HINTS = ("数字键 选择章节/页码", TURN, "OK 进入", "返回")  # one digit a section, more a page
COLUMN_HINTS = ("数字键 选择", TURN, "OK 进入", "返回")
HOME_HINTS = ("数字键 选择栏目", TURN, "OK 进入")
DROP_FIRST = ("OK 进入", "返回", "返回 目录", TURN)
CONTENTS = "目录"
CONTINUED = "（续）"
CONTENTS_MORE = CONTENTS + CONTINUED  # heads a contents page that goes on from the one before
CONTENTS_GOES_ON = "（下页续）"  # under a contents list that goes on
# The last page of an item cut at ``render.max_pages`` (the title block's QR code is the link).
REST_ON_PORTAL = "其余内容请扫码查看原文。本文篇幅较长，电视上只播出前面部分。"
QR_LABEL = "扫码看原文"
EMPTY = "暂无信息"
WEEKDAYS = "一二三四五六日"
_ALL_HINTS = " · ".join(ITEM_HINTS + ITEM_HINTS_LONG + CONTENTS_HINTS)
ITEM_STRINGS = (
    _ALL_HINTS,
    QR_LABEL,
    CONTENTS_MORE,
    CONTENTS_GOES_ON,
    REST_ON_PORTAL,
    "原文地址：",
    "第0123456789/页年月日星期…" + WEEKDAYS,
    "［图片］",
)
MENU_STRINGS = (" · ".join(COLUMN_HINTS + HOME_HINTS), EMPTY, "第0123456789/页年月日星期-…（）" + WEEKDAYS + "".join(KEY_WORDS.values()))


def turn_hints(hints: tuple[str, ...], pages: int) -> tuple[str, ...]:
    """``hints`` without the page turn on a page that has no other page."""
    return hints if pages > 1 else tuple(h for h in hints if h != TURN)


def today_label(ctx: PageContext) -> str:
    d = ctx.today
    return f"{d.year}年{d.month}月{d.day}日 星期{WEEKDAYS[d.weekday()]}"


def header(c: Canvas, m: Metrics, small: Face, ctx: PageContext) -> None:
    """Full-width band (background only outside title-safe); its text sits inside."""
    c.rect(0, 0, m.width, m.band, "band")
    lh = m.band - m.top
    base = m.top + small.baseline(lh)
    left = ctx.channel + (f" · {ctx.column}" if ctx.column else "")
    date = today_label(ctx)
    if small.width(left + date) + m.body > m.content_width:
        date = date[date.index("年") + 1 :]  # a narrow page (SD in the 长辈版): the year goes before the column's name does
    date_w = round(small.width(date))
    c.text(m.left, base, fit(left, m.content_width - date_w - m.body, small), small, "fg", "band", role="header")
    c.text(m.right - date_w, base, date, small, "fg", "band", role="header")


def footer(c: Canvas, m: Metrics, small: Face, page: str, hints: tuple[str, ...], ink: str = "dim") -> None:
    c.rect(m.left, m.footer_rule, m.right, m.footer_rule + m.rule, "rule")
    lh = m.bottom - m.footer_rule - m.rule
    base = m.footer_rule + m.rule + small.baseline(lh)
    c.text(m.left, base, page, small, ink, role="footer")
    room = m.content_width - small.width(page) - small.size
    shown = list(hints)
    for drop in DROP_FIRST:
        if small.width(" · ".join(shown)) <= room:
            break
        if drop in shown and len(shown) > 1:
            shown.remove(drop)
    text = fit(" · ".join(shown), room, small)
    if text:
        c.text(m.right - round(small.width(text)), base, text, small, ink, role="footer")


def legend_face(r: TvRenderer, keys: tuple[tuple[str, str], ...]) -> Face:
    """The legend's type: the page's small text when the keys fit one row in it, else the standard
    profile's small size (the 长辈版's is 1.3× and would wrap to a second row and cost entries)."""
    if len(_legend_rows(r.m, r.small, keys)) <= 1:
        return r.small
    return r.legend_small if len(_legend_rows(r.m, r.legend_small, keys)) <= 1 else r.small


def legend_height(m: Metrics, small: Face, keys: tuple[tuple[str, str], ...]) -> int:
    """Height the colour-key legend takes above the footer (0 without colour keys)."""
    if not keys:
        return 0
    return len(_legend_rows(m, small, keys)) * round(small.size * 1.5) + m.body // 4


# A key is its swatch (0.8 em), a gap, its word and column; keys stand 0.8 em apart: four keys
# of four-character columns fit one row at SD.
_SWATCH, _SWATCH_GAP, _KEY_GAP = 0.8, 1.1, 0.8


def _legend_rows(m: Metrics, small: Face, keys: tuple[tuple[str, str], ...]) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for colour, name in keys:
        label = f"{KEY_WORDS.get(colour, colour)} {name}"
        w = small.size * _SWATCH_GAP + small.width(label)
        if rows[-1] and used + small.size * _KEY_GAP + w > m.content_width:
            rows.append([])
            used = 0
        used += (small.size * _KEY_GAP if rows[-1] else 0) + w
        rows[-1].append((colour, label))
    return rows


def legend(c: Canvas, m: Metrics, small: Face, keys: tuple[tuple[str, str], ...], ink: str = "fg") -> None:
    """The colour keys above the footer: a swatch of each key's colour, then its word (红 绿 黄 蓝)
    and the column it opens, so that the key is told by its word as well as its colour."""
    if not keys:
        return
    lh = round(small.size * 1.5)
    y = m.footer_rule - legend_height(m, small, keys) + m.body // 4
    sw = round(small.size * _SWATCH)
    for row in _legend_rows(m, small, keys):
        x = m.left
        for colour, label in row:
            top = y + (lh - sw) // 2
            c.rect(x, top, x + sw, top + sw, f"key-{colour}" if f"key-{colour}" in PALETTE.index else "rule")
            x += round(small.size * _SWATCH_GAP)
            text = fit(label, m.right - x, small)
            x = c.text(x, y + small.baseline(lh), text, small, ink, record=False) + round(small.size * _KEY_GAP)
        c.record("  ".join(label for _, label in row), "legend")
        y += lh


def fit(text: str, width: float, f: Face) -> str:
    """Cut with an ellipsis to fit one line."""
    if f.width(text) <= width:
        return text
    ell = f.advance("…")
    while text and f.width(text) + ell > width:
        text = text[:-1]
    return text + "…"


def _lonely(line: str) -> bool:
    """A last line a typesetter would not sign: one character, or punctuation alone."""
    t = line.strip(" \u3000")
    return len(t) <= 1 or all(ch in NO_START or ch in NO_END for ch in t)


def balanced(text: str, width: float, advance: Callable[[str], float]) -> list[str]:
    """A title's lines: as few as the width allows, broken between words (jieba) and as even as
    they can be (the narrowest width that keeps their number), so that no last line holds a
    single character or a lone mark (``…年度报`` / ``告``). Character breaks only when word
    breaks still strand one (a word never breaks otherwise, even at the cost of a line)."""
    by_words = _even(text, width, advance, words=True)
    if len(by_words) <= 1 or not _lonely(by_words[-1]):
        return by_words
    by_chars = _even(text, width, advance, words=False)
    return by_chars if not _lonely(by_chars[-1]) else by_words


def _even(text: str, width: float, advance: Callable[[str], float], *, words: bool) -> list[str]:
    """``text`` wrapped at the narrowest width that needs no more lines than ``width`` does."""
    if not text:
        return []
    p = prepare(text, advance, words=words)  # measured once, filled at each width tried
    lines = fill(p, width, advance)
    if len(lines) <= 1:
        return lines
    n, lo, hi = len(lines), width / len(lines) - 1, width
    while hi - lo > 1:
        mid = (lo + hi) / 2
        if len(fill(p, mid, advance)) <= n:
            hi = mid
        else:
            lo = mid
    return fill(p, hi, advance)


# ---------------------------------------------------------------------- QR --


def qr_image(url: str, m: Metrics) -> Image.Image:
    """A QR code in theme indices: dark modules in the background colour on an off-white field.

    Module size is ≥ 2 px everywhere (never a 1-px line at SD) and grows with the screen, so
    a phone across the room still reads it; the light border is three modules wide.
    """
    return _qr_image(url, max(2, round(m.body / 12)))


@lru_cache(maxsize=64)
def _qr_image(url: str, scale: int) -> Image.Image:
    # Cached: an item cut at render.max_pages draws its QR code twice (title block and last
    # page), a redraw of the same item again. The image is only ever read (pasted).
    border = 3
    dark = qr.modules(url).astype(bool)
    field = np.full((dark.shape[0] + 2 * border,) * 2, PALETTE.index["fg"], np.uint8)
    field[border:-border, border:-border][dark] = PALETTE.index["bg"]
    n = field.shape[0]
    img = Image.frombytes("P", (n, n), field.tobytes())
    return img.resize((n * scale, n * scale), Image.Resampling.NEAREST)


def qr_column(qr: Image.Image, small: Face) -> int:
    """Width the QR code and its label take at the right of the title."""
    return max(qr.width, round(small.width(QR_LABEL)))


def draw_qr(c: Canvas, qr: Image.Image, m: Metrics, small: Face, label_h: int, ink: str = "dim") -> None:
    col = qr_column(qr, small)
    x = m.right - col
    c.paste_indices(qr, x + (col - qr.width) // 2, m.content_top)
    w = round(small.width(QR_LABEL))
    c.text(x + (col - w) // 2, m.content_top + qr.height + small.baseline(label_h), QR_LABEL, small, ink)


# ---------------------------------------------------------------- pictures --


def draw_picture(c: Canvas, pic: Picture, m: Metrics, y: int, small: Face, *, flicker_safe: bool) -> None:
    if pic.image is not None:
        from renderers.images import fit

        im = fit(pic.image, pic.width, pic.height, flicker_safe=flicker_safe)
        c.paste_photo(im, m.left + (m.content_width - im.width) // 2, y)
        return
    r = m.rule
    x0, x1, y1 = m.left, m.right, y + pic.height
    for box in ((x0, y, x1, y + r), (x0, y1 - r, x1, y1), (x0, y, x0 + r, y1), (x1 - r, y, x1, y1)):
        c.rect(*box, "rule")
    lh = round(small.size * 1.5)
    lines = wrap("［图片］" + pic.alt, m.content_width - 2 * small.size, small.advance)
    lines = lines[: max(1, (pic.height - 2 * r) // lh)]
    ty = y + (pic.height - len(lines) * lh) // 2
    for ln in lines:
        c.text(m.left + (m.content_width - round(small.width(ln))) // 2, ty + small.baseline(lh), ln, small, "dim")
        ty += lh


# ------------------------------------------------------------------- menus --


def _chunks(entries: tuple[MenuEntry, ...], per_page: int) -> list[tuple[MenuEntry, ...]]:
    return [entries[i : i + per_page] for i in range(0, len(entries), per_page)] or [()]


def _menu_title(r: TvRenderer, c: Canvas, title: str) -> int:
    m = r.m
    lh = round(m.title * 1.4)
    c.text(m.left, m.content_top + r.title.baseline(lh), fit(title, m.content_width, r.title), r.title, "accent", role="title")
    y = m.content_top + lh + m.body // 4
    c.rect(m.left, y, m.right, y + m.rule, "rule")
    return y + m.rule + m.body // 3


#: Titles whose menu lines a face remembers. A column's menu is drawn again whenever one of
#: its items changes, and a year's column (15,000 titles) broke them all again for one new
#: notice: about 50-70 µs a title, 9-17% of drawing the column again (bench/menu_bench.py).
ENTRY_LINES_CACHE = 32768


def _entry_lines(label: str, width: int, f: Face, most: int = 2) -> tuple[str, ...]:
    """A title on at most ``most`` lines, broken between words and balanced; only a title longer
    than that is cut, on its last line, with an ellipsis. Kept on the face (it lives as long as
    its renderer), so a discarded renderer takes its titles with it."""
    known: dict[str, tuple[int, ...] | tuple[str, ...]] = f.memo.setdefault(("entry", width, most), {})
    got = known.get(label)
    if got is None:
        if len(known) >= ENTRY_LINES_CACHE:
            known.clear()
        lines = _break_entry(label, width, f, most)
        # Most titles are split whole: their line lengths are kept, not a second copy of the
        # text (a year's column: 2 MB, not 5). A title cut with an ellipsis keeps its lines.
        known[label] = tuple(len(ln) for ln in lines) if "".join(lines) == label else lines
        return lines
    if isinstance(got[0], str):
        return got
    out, pos = [], 0
    for n in got:
        out.append(label[pos : pos + int(n)])
        pos += int(n)
    return tuple(out)


def _break_entry(label: str, width: int, f: Face, most: int) -> tuple[str, ...]:
    lines = balanced(label, width, f.advance) or [""]
    if len(lines) > most:
        lines = wrap(label, width, f.advance, words=True)
        head = lines[: most - 1]
        lines = [*head, fit(label[len("".join(head)) :].lstrip(), width, f)]
    return tuple(lines)


MIN_ENTRIES = 4  # entries a menu page shows when one-line titles make room for them
ONE_LINE_MIN_CHARS = 12  # …but not when one line holds so few characters that a title says nothing


def column_pages(r: TvRenderer, menu: Menu, ctx: PageContext) -> list[PageImage]:
    """Numbered entries (digit keys 1–9), in the order given: title on up to two lines, date at right.

    Each entry's rectangle (the viewer's focus frame) spans the content width and half the gap
    above and below; the text sits a little inside it, so the frame never touches a glyph.
    """
    m = r.m
    line_h = round(m.body * 1.3)
    gap = r.entry_gap
    pad = m.body // 4
    top = m.content_top + round(m.title * 1.4) + m.body // 4 + m.rule + m.body // 3
    key_face = legend_face(r, menu.keys)
    bottom = m.content_bottom - legend_height(m, key_face, menu.keys)
    num_w = round(r.bold.width("9") + m.body * 0.6)

    def date_of(e: MenuEntry) -> str:
        if e.date is None:
            return ""
        # The year only when it is not this year's: old notices must say so.
        return f"{e.date.month:02d}-{e.date.day:02d}" if e.date.year == ctx.today.year else e.date.isoformat()

    date_col = max((round(r.small.width(date_of(e))) for e in menu.entries), default=0)
    text_w = m.content_width - 2 * pad - num_w - (date_col + m.body // 2 if date_col else 0)
    rows = [(e, _entry_lines(e.label, text_w, r.body), date_of(e)) for e in menu.entries]

    def page_from(i: int, one_line: bool) -> list[tuple[MenuEntry, tuple[str, ...], str]]:
        page: list[tuple[MenuEntry, tuple[str, ...], str]] = []
        used = 0
        for e, lines, date in rows[i:]:
            if one_line and len(lines) > 1:
                lines = _entry_lines(e.label, text_w, r.body, 1)
            h = len(lines) * line_h + gap
            # The last entry of a page needs no gap under it.
            if page and (used + h - gap > bottom - top or len(page) == r.menu_entries):
                break
            page.append((e, lines, date))
            used += h
        return page

    # A page lists its titles whole (two lines at most); when that leaves fewer than
    # MIN_ENTRIES on a page (the 长辈版's large type), that page's titles take one line each.
    chunks: list[list[tuple[MenuEntry, tuple[str, ...], str]]] = []
    i = 0
    while i < len(rows) or not chunks:
        page = page_from(i, one_line=False)
        if len(page) < min(MIN_ENTRIES, len(rows) - i) and text_w >= r.body.size * ONE_LINE_MIN_CHARS:
            page = max(page, page_from(i, one_line=True), key=len)
        chunks.append(page)
        i += len(page)
        if not page:
            break
    out = []
    for n, chunk in enumerate(chunks, 1):
        c = r._canvas(ctx)
        y = _menu_title(r, c, menu.title)
        rects = []
        for i, (e, lines, date) in enumerate(chunk, 1):
            base = y + r.body.baseline(line_h)
            c.text(m.left + pad, base, str(i), r.bold, "accent", record=False)
            for k, ln in enumerate(lines):
                c.text(m.left + pad + num_w, base + k * line_h, ln, r.body, "fg", record=False)
            if date:
                c.text(m.right - pad - round(r.small.width(date)), base, date, r.small, r.secondary, record=False)
            c.record(f"{i} {''.join(lines)}" + (f" {date}" if date else ""), "entry")
            h = len(lines) * line_h
            rects.append((i, e.key, m.left, y - gap // 2, m.content_width, h + gap))
            y += h + gap
        if not chunk:
            c.text(m.left, y + r.body.baseline(line_h), EMPTY, r.body, r.secondary)
        legend(c, m, key_face, menu.keys)
        footer(c, m, r.small, f"第{n}/{len(chunks)}页", turn_hints(COLUMN_HINTS, len(chunks)), r.secondary)
        out.append(c.finish(tuple(rects)))
    return out


_COUNT = re.compile(r"[（(]\d+[）)]$")


def _tile_label(label: str, width: int, f: Face) -> str:
    """A column's name on its tile: a count that does not fit goes (``政务动态（3）`` →
    ``政务动态``) before the name is cut (``政务动态（…``)."""
    if f.width(label) > width and _COUNT.search(label):
        name = _COUNT.sub("", label)
        if f.width(name) <= width:
            return name
    return fit(label, width, f)


def home_pages(r: TvRenderer, menu: Menu, ctx: PageContext) -> list[PageImage]:
    """Columns as numbered tiles, two a row, that share the page's height: each says its
    column's name and, under it, the column's newest title. Fewer columns, larger tiles."""
    m = r.m
    gap = m.body // 2
    pad = m.body // 2  # across; up and down a tile keeps a quarter em
    cols = 2
    tile_w = (m.content_width - gap * (cols - 1)) // cols
    top = m.content_top + round(m.title * 1.4) + m.body // 4 + m.rule + m.body // 3
    key_face = legend_face(r, menu.keys)
    room = m.content_bottom - legend_height(m, key_face, menu.keys) - top
    name_lh, note_lh = round(m.body * 1.35), round(m.small * 1.4)
    notes = any(e.note for e in menu.entries)
    min_h = m.body // 2 + name_lh + (note_lh if notes else 0)
    rows_fit = max(1, (room + gap) // (min_h + gap))
    per_page = max(1, min(r.home_tiles, rows_fit * cols))
    chunks = _chunks(menu.entries, per_page)
    rows = max(1, -(-len(chunks[0]) // cols))
    # As tall as the page allows, but not so tall that a tile is mostly empty band.
    tile_h = max(min_h, min((room + gap) // rows - gap, round(min_h * 1.8)))
    num_w = round(r.title.width("9")) + pad
    text_w = tile_w - 2 * pad - num_w
    # The same number of note lines in every tile, so that the names line up across a row.
    note_n = max(1, min(2, (tile_h - m.body // 2 - name_lh) // note_lh)) if notes else 0
    block = name_lh + note_n * note_lh
    out = []
    for n, chunk in enumerate(chunks, 1):
        c = r._canvas(ctx)
        y0 = _menu_title(r, c, menu.title)
        rects = []
        for i, e in enumerate(chunk, 1):
            col, row = (i - 1) % cols, (i - 1) // cols
            x, y = m.left + col * (tile_w + gap), y0 + row * (tile_h + gap)
            c.rect(x, y, x + tile_w, y + tile_h, "band")
            c.text(x + pad, y + r.title.baseline(tile_h), str(i), r.title, "accent", "band", record=False)
            label = _tile_label(e.label, text_w, r.bold)
            note_lines = (
                list(_entry_lines(e.note, text_w, r.small)[:note_n])
                if e.note and note_n > 1
                else [fit(e.note, text_w, r.small)]
                if e.note
                else []
            )
            ty = y + (tile_h - block) // 2
            c.text(x + pad + num_w, ty + r.bold.baseline(name_lh), label, r.bold, "accent" if notes else "fg", "band", record=False)
            ty += name_lh
            for ln in note_lines:
                c.text(x + pad + num_w, ty + r.small.baseline(note_lh), ln, r.small, "fg", "band", record=False)
                ty += note_lh
            c.record(f"{i} {label}" + (f" {''.join(note_lines)}" if note_lines else ""), "entry")
            rects.append((i, e.key, x, y, tile_w, tile_h))
        if not chunk:
            c.text(m.left, y0 + r.body.baseline(m.line), EMPTY, r.body, r.secondary)
        legend(c, m, key_face, menu.keys)
        footer(c, m, r.small, f"第{n}/{len(chunks)}页", turn_hints(HOME_HINTS, len(chunks)), r.secondary)
        out.append(c.finish(tuple(rects)))
    return out


# ------------------------------------------------------------------ alerts --

ALERT_HEADINGS = {"urgent": "紧急通知", "warning": "预警信息", "info": "公告"}  # as pusher.stages.alerts names them
ALERT_KEYS = (TURN, "返回")
ALERT_HINTS = " · ".join(ALERT_KEYS)  # every character the alert footer may draw (font checks)


def alert_pages(r: TvRenderer, text: str, level: str, ctx: PageContext) -> list[PageImage]:
    """An alert: a framed page, heading by level, the text large; urgent ones framed thicker.

    No red: a saturated red is not broadcast-safe, so urgency is the gold frame and heading.
    """
    m = r.m
    heading = ALERT_HEADINGS.get(level, "公告")
    frame = m.rule * (3 if level == "urgent" else 1)
    pad = m.body // 2
    lh = round(m.title * 1.5)
    head_lh = round(m.title * 1.4)
    top = m.content_top + frame + pad + head_lh + m.body // 3
    width = m.content_width - 2 * (frame + pad)
    lines = [ln for para in text.split("\n") if para.strip() for ln in wrap(para.strip(), width, r.large.advance)]
    per_page = max(1, (m.content_bottom - frame - pad - top) // lh)
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    out = []
    for n, chunk in enumerate(chunks, 1):
        c = r._canvas(ctx)
        x0, y0, x1, y1 = m.left, m.content_top, m.right, m.content_bottom
        for box in ((x0, y0, x1, y0 + frame), (x0, y1 - frame, x1, y1), (x0, y0, x0 + frame, y1), (x1 - frame, y0, x1, y1)):
            c.rect(*box, "accent" if level in ("urgent", "warning") else "rule")
        hx = x0 + frame + pad
        c.text(hx, y0 + frame + pad + r.title.baseline(head_lh), heading, r.title, "accent")
        y = top
        for ln in chunk:
            c.text(hx, y + r.large.baseline(lh), ln, r.large, "fg")
            y += lh
        footer(c, m, r.small, f"第{n}/{len(chunks)}页", turn_hints(ALERT_KEYS, len(chunks)), r.secondary)
        out.append(c.finish())
    return out
