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
        out.append(masked[pos : pos + len(p)])
        pos += len(p) + 1
    return out
