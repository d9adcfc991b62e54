"""Attachments screened like the body: the text of PDF, DOCX and XLSX files, and a finding for
any attachment that cannot be read (never silently passed).

The rosters county sites are cited for (低保, 公租房, 补贴 lists with names, ID numbers, phones,
bank accounts) are usually the attached spreadsheet or PDF, not the page. Each attachment's text
is screened by the same gate as the body; a spreadsheet's row (its cells, tab-separated) is one
unit for the names-beside-personal-data detector, like a table row of the body. An attachment
cannot be masked on air (the channel lists it by name), so any finding in one holds the item.

Limits: ``MAX_PAGES`` PDF pages, ``MAX_ROWS`` spreadsheet rows, ``MAX_CHARS`` of text; what lies
beyond them is not screened and the finding list says so (``attachment`` finding, "truncated").
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_PAGES = 200
MAX_ROWS = 20000
MAX_CHARS = 2_000_000


class Unreadable(Exception):
    """The attachment's text cannot be had: the message is the finding's note."""


@dataclass(frozen=True)
class Extracted:
    text: str
    rows: tuple[tuple[int, int], ...] = ()  # spans of spreadsheet / table rows in ``text``
    truncated: bool = False
    #: Cells under a column header that says what they hold (身份证号码, 银行账号, 联系电话):
    #: start, end, header. The header labels the cell as ``账号：`` does in prose.
    labelled: tuple[tuple[int, int, str], ...] = ()


def kind_of(name: str, data: bytes) -> str:
    """``pdf``, ``docx``, ``xlsx``, or the file's extension: by content first (portals serve
    downfile.jsp?id=… with no useful name), then by name."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "zip"
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"  # .doc / .xls / .wps / .et of the old binary formats
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return ext or "unknown"


def _cell_text(c: object) -> str:
    """A cell as the spreadsheet shows it. An ID typed into a number cell is a float that
    ``str()`` writes ``3.301271988021544e+17``; Excel shows (and a reader copies) the integer,
    whose region and birth date are intact even though its last digits are rounded."""
    if c is None:
        return ""
    if isinstance(c, float) and c.is_integer() and abs(c) >= 1e9:
        # Excel keeps 15 significant digits: 620700195304193988 shows as 620700195304194000.
        mantissa, exp = f"{abs(c):.14e}".split("e")
        digits = mantissa.replace(".", "").rstrip("0") or "0"
        return ("-" if c < 0 else "") + digits.ljust(int(exp) + 1, "0")
    return str(c).strip()


_LABEL_HEADER = re.compile(r"身份证|证件号|公民身份|账号|卡号|账户|帐号|电话|手机|联系方式")


def _rows_text(rows: Iterable[Iterable[object]]) -> Extracted:
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    labelled: list[tuple[int, int, str]] = []
    header: dict[int, str] = {}
    pos, n, truncated = 0, 0, False
    for row in rows:
        n += 1
        if n > MAX_ROWS or pos > MAX_CHARS:
            truncated = True
            break
        cells = [_cell_text(c) for c in row]
        if not any(cells):
            continue
        if not spans:
            header = {i: c for i, c in enumerate(cells) if _LABEL_HEADER.search(c)}
        at = pos
        for i, c in enumerate(cells):
            if c:
                if spans and i in header:
                    labelled.append((at, at + len(c), header[i]))
                at += len(c) + 1
        line = "\n".join(c for c in cells if c)  # one cell a line, as table cells in the body
        spans.append((pos, pos + len(line)))
        parts.append(line)
        pos += len(line) + 1
    return Extracted("\n".join(parts), tuple(spans), truncated, tuple(labelled))


def _xlsx(data: bytes) -> Extracted:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return _rows_text(row for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    finally:
        wb.close()


def _docx(data: bytes) -> Extracted:
    import docx

    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs if p.text.strip()]
    head = "\n".join(parts)
    table_rows = [[c.text for c in r.cells] for t in d.tables for r in t.rows]
    tables = _rows_text(table_rows)
    offset = len(head) + 1 if head else 0
    return Extracted(
        (head + "\n" + tables.text) if head and tables.text else head or tables.text,
        tuple((s + offset, e + offset) for s, e in tables.rows),
        tables.truncated,
        tuple((s + offset, e + offset, h) for s, e, h in tables.labelled),
    )


def _pdf(data: bytes) -> Extracted:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise Unreadable(f"encrypted PDF: {exc}") from exc
    texts: list[str] = []
    truncated = len(reader.pages) > MAX_PAGES
    for page in reader.pages[:MAX_PAGES]:
        texts.append(page.extract_text() or "")
    text = "\n".join(texts)
    if len(reader.pages) and not text.strip():
        raise Unreadable("PDF with no text layer (a scan): nothing to screen")
    # A PDF table comes out one row a line: each line is a unit.
    return Extracted(text[:MAX_CHARS], (), truncated or len(text) > MAX_CHARS)


READERS: dict[str, Callable[[bytes], Extracted]] = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx}


def extract(name: str, data: bytes) -> Extracted:
    """The text of an attachment, or :class:`Unreadable` with why."""
    kind = kind_of(name, data)
    reader = READERS.get(kind)
    if reader is None:
        raise Unreadable(f"no reader for this kind of file ({kind})")
    try:
        return reader(data)
    except Unreadable:
        raise
    except Exception as exc:  # a broken or hostile file: a finding, never a pass
        raise Unreadable(f"{kind} cannot be read: {type(exc).__name__}: {exc}") from exc
