"""The attachment as the body: an item whose page says little more than "详见附件" (see the
attachment) airs the attachment's text, under a heading that says which file it came from.

County portals publish a tender summary, a roster or a 印发 notice as a two-line page with the
substance in an XLSX, DOCX or PDF; on TV that page alone is a title and "详见附件". The text is
read with the gate's own reader (:mod:`pusher.gate.attachments`), so what airs is exactly what
was screened. The portal's own short body stays first; each readable attachment follows as a
heading ``附件内容：NAME`` and its paragraphs, a spreadsheet's (or DOCX table's) rows as a table.
Unreadable attachments add nothing here (the gate holds the item for them anyway).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pusher.gate.attachments import Extracted, Unreadable, extract
from pusher.interfaces import Block, Document

# "详见附件", "具体见附件", "请下载附件", "附件下载" …, and the 印发 notice whose document is the attachment.
SEE_ATTACHED = re.compile(
    r"(?:详见|请见|具体见|参见|见|请查看|查看|请下载|点击下载)(?:本页|文末)?附件|附件下载|现(?:将|把)?.{0,40}印发给你们"
)
# A body longer than this (non-space characters) says enough on its own.
SHORT_BODY = 200
HEADING = "附件内容："


def _squeezed_len(doc: Document) -> int:
    names = {a.name for a in doc.attachments}
    return sum(len("".join(t.split())) for b in doc.blocks for t in b.texts() if t not in names and not t.startswith("附件"))


def wants_attachment_body(doc: Document) -> bool:
    """Whether the page's body is only a pointer to its attachments (and holds none yet)."""
    if any(b.kind == "h" and b.text.startswith(HEADING) for b in doc.blocks):
        return False
    return bool(doc.attachments) and _squeezed_len(doc) <= SHORT_BODY and bool(SEE_ATTACHED.search(doc.text))


def blocks_of(got: Extracted) -> list[Block]:
    """Paragraphs for the free text, one table per run of spreadsheet / table rows."""
    out: list[Block] = []
    rows: list[tuple[str, ...]] = []
    spans, k, pos = got.rows, 0, 0  # spans are in text order: one pointer walks them
    for line in got.text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        while k < len(spans) and spans[k][1] < start:
            k += 1
        if k < len(spans) and spans[k][0] <= start and end <= spans[k][1]:
            if start == spans[k][0]:
                rows.append((line,))
            elif rows:
                rows[-1] = (*rows[-1], line)
            continue
        if rows:
            out.append(Block("table", rows=tuple(rows), header_rows=1))
            rows = []
        if line.strip():
            out.append(Block("p", line.strip()))
    if rows:
        out.append(Block("table", rows=tuple(rows), header_rows=1))
    return out


def with_attachment_body(doc: Document, files: Sequence[tuple[str, bytes | str]]) -> Document:
    """``doc`` with its readable attachments' text appended as body, each under its heading;
    ``doc`` itself when its body says enough or no attachment could be read."""
    if not wants_attachment_body(doc):
        return doc
    extra: list[Block] = []
    for name, data in files:
        if isinstance(data, str):
            continue  # not fetched: the gate makes it a finding
        try:
            got = extract(name, data)
        except Unreadable:
            continue
        blocks = blocks_of(got)
        if blocks:
            extra += [Block("h", HEADING + name), *blocks]
    if not extra:
        return doc
    return replace(doc, blocks=(*doc.blocks, *extra))
