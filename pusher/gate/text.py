"""The text the gate screens, and how a masked text goes back into a document.

Offsets convention (what every :class:`~pusher.interfaces.Finding` means):

    ``screened_text(doc) = doc.title + "\\n" + doc.text``

so that ``screened_text(doc)[f.start:f.end] == f.text``. ``Document.text`` joins the texts of
all blocks (paragraphs, headings, every table cell, image alt texts) with ``"\\n"``; the title
comes first because it is on air too. Metadata fields (发布机构, 文号, 索引号) are the portal's
public catalogue and are not screened.

Detectors never see newlines inside a match: a number split across two cells is two numbers.
Masks replace characters one for one, so offsets stay valid in the masked text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from pusher.interfaces import Block, Document

# Full-width digits, letters and the symbols numbers and addresses are written with (and the
# ideographic space, dashes, minus) map one character to one character: detectors run on the
# folded text and offsets stay those of the original. Chinese punctuation (，。：) is left alone:
# patterns name both forms where they need them, and folding every comma would cost time.
_WIDE = "".join(chr(c) for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))) + "＋－＠．（）＿％＊／"
_FOLD = str.maketrans(_WIDE + "\u3000\u2013\u2014\u2212", "".join(chr(ord(c) - 0xFEE0) for c in _WIDE) + " ---")
_TO_FOLD = re.compile("[" + re.escape(_WIDE) + "\u3000\u2013\u2014\u2212]+")


def fold(text: str) -> str:
    """Full-width digits, letters, ``＋－＠．（）`` and spaces to ASCII, same length."""
    # Runs of such characters are few in Chinese prose: translating only them is ~10× faster
    # than translating the whole text through a dict.
    return _TO_FOLD.sub(lambda m: m.group().translate(_FOLD), text)


def pieces(doc: Document) -> list[str]:
    """Title, then every block text in the order of ``Document.text``."""
    return [doc.title, *(t for b in doc.blocks for t in b.texts())]


def screened_text(doc: Document) -> str:
    return "\n".join(pieces(doc))


def rebuild(doc: Document, masked: str) -> Document:
    """The document with its title and block texts taken from ``masked`` (same shape as
    :func:`screened_text`). Blocks whose text did not change are kept as they are."""
    # Slice by lengths rather than split on "\n": a cell may itself hold a newline.
    parts = iter(_slice_by_lengths(doc, masked))
    title = next(parts)
    blocks: list[Block] = []
    for b in doc.blocks:
        if b.kind == "table":
            rows = tuple(tuple(next(parts) for _ in row) for row in b.rows)
            blocks.append(b if rows == b.rows else replace(b, rows=rows))
        elif b.text:
            text = next(parts)
            blocks.append(b if text == b.text else replace(b, text=text))
        else:
            blocks.append(b)
    return replace(doc, title=title, blocks=tuple(blocks)) if title != doc.title or blocks != list(doc.blocks) else doc


def _slice_by_lengths(doc: Document, masked: str) -> list[str]:
    out, pos = [], 0
    for p in pieces(doc):
        out.append(drawable(masked[pos : pos + len(p)]))
        pos += len(p) + 1
    return out


# ------------------------------------------------------------ as the viewer reads it ----
#
# A number or a mark with an invisible character between its characters (U+2063 INVISIBLE
# SEPARATOR, U+200E LRM, U+034F COMBINING GRAPHEME JOINER, U+FE0F VARIATION SELECTOR-16, U+180E
# MONGOLIAN VOWEL SEPARATOR…) or a thin space (U+2009, U+202F) is drawn as the plain number: the
# detectors must see it that way. Wider spaces become a plain space (a gap the viewer sees), and
# digits of other scripts and styles (math bold 𝟏, Arabic-Indic ١, full-width) become ASCII digits,
# as NFKC would read them. Everything else stays: Chinese punctuation, ①, ㎡ — folding those
# would change what a viewer reads.

_SPACE_LIKE_GONE = "\u2006\u2008\u2009\u200a\u202f\u205f"  # narrower than a digit: no visible gap
_SPACE_LIKE_GAP = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2007\u3000"


def _invisible() -> str:
    import unicodedata

    # Format characters live below U+20000 and in the tag block (E0000–E0FFF): scanning only
    # those keeps the import fast.
    planes = (*range(0x20000), *range(0xE0000, 0xE1000))
    out = [chr(c) for c in planes if unicodedata.category(chr(c)) == "Cf" and c not in (0x0600, 0x0601, 0x0602, 0x0603)]
    # Joiners and selectors that never show on their own: CGJ, variation selectors, Mongolian FVS.
    out += ["\u034f", "\u180b", "\u180c", "\u180d", "\u180e", "\u115f", "\u1160", "\u3164", "\uffa0"]
    out += [chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))]
    return "".join(dict.fromkeys(out))


def _digit_map() -> dict[int, str]:
    import unicodedata

    m: dict[int, str] = {}
    for c in range(0x80, 0x20000):
        ch = chr(c)
        if unicodedata.category(ch) == "Nd":
            m[c] = str(unicodedata.decimal(ch))
    # Math alphanumerics (𝐗 𝐱 …) and full-width letters: an X in a styled ID number is an X.
    for c in range(0x1D400, 0x1D800):
        n = unicodedata.normalize("NFKC", chr(c))
        if len(n) == 1 and n.isascii() and n.isalnum():
            m[c] = n
    for c in range(0xFF01, 0xFF5F):
        if chr(c) in _WIDE:
            m[c] = chr(c - 0xFEE0)
    m.update({0x2013: "-", 0x2014: "-", 0x2212: "-", 0x2010: "-", 0x2011: "-", 0xFE63: "-"})
    return m


@functools.cache
def _tables() -> tuple[frozenset[str], dict[int, str], dict[int, str], re.Pattern[str]]:
    """Built on first use (a scan of the Unicode database, ~0.2 s), not at import."""
    invisible = _invisible()
    mapping = _digit_map()
    # On air only what cannot be drawn changes: spaces, dashes and full-width forms stay as written.
    air = {c: v for c, v in mapping.items() if c > 0xFFFF or not (0xFF00 <= c <= 0xFFEF or 0x2010 <= c <= 0x2212 or c == 0xFE63)}
    mapping.update({ord(c): " " for c in _SPACE_LIKE_GAP})
    drop = frozenset(invisible + _SPACE_LIKE_GONE)
    odd = "".join(dict.fromkeys(invisible + _SPACE_LIKE_GONE + _SPACE_LIKE_GAP + "".join(chr(c) for c in mapping if 0x80 <= c < 0x10000)))
    return drop, mapping, air, re.compile("[" + re.escape(odd) + "\U0001d400-\U0001d7ff]")


class Normalized:
    """``text`` as the detectors see it (:func:`normalize`), and the way back to the original:
    ``origin[i]`` is the original offset of character ``i``; a span ``[s, e)`` of the normalised
    text covers ``[origin[s], origin[e - 1] + 1)`` of the original."""

    __slots__ = ("origin", "text")

    def __init__(self, text: str, origin: list[int] | None) -> None:
        self.text = text
        self.origin = origin  # None: same as the original

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        if end <= start:
            at = self.origin[start] if start < len(self.origin) else (self.origin[-1] + 1 if self.origin else 0)
            return at, at
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> Normalized:
    """The text as a viewer reads it: invisible and hair-thin characters gone, other spaces plain,
    every style of digit ASCII, full-width forms folded. Offsets map back through ``origin``."""
    drop, mapping, _, odd = _tables()
    if not odd.search(text):
        return Normalized(text, None)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in drop:
            continue
        out.append(mapping.get(ord(ch), ch))
        origin.append(i)
    return Normalized("".join(out), origin)


def drawable(text: str) -> str:
    """What goes on air: the characters no renderer draws removed, styled digits made plain, so
    that an invisible character is neither a way around the gate nor a page that fails to draw.
    Line breaks and ordinary text are untouched."""
    drop, _, air, odd = _tables()
    if not odd.search(text):
        return text
    return "".join(air.get(ord(ch), ch) for ch in text if ch not in drop)


def char_fold(ch: str) -> str:
    """One character as the detectors read it (``"𝟏"`` → ``"1"``, ``"Ｘ"`` → ``"X"``)."""
    return _tables()[1].get(ord(ch), ch)
