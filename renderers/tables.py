"""Tables as readable grids: column widths from content, cells wrapped, rows split by page.

Widths follow the usual automatic table layout: every column gets at least its widest
unbreakable unit and shares the rest in proportion to how much more its longest cell wants.
A row taller than a page is cut into several row boxes (rare in government reports, but a
cell with a whole paragraph exists). Header rows are repeated by the paginator.
"""

from __future__ import annotations

from dataclasses import dataclass

from renderers.canvas import Canvas
from renderers.fonts import Face
from renderers.linebreak import break_opportunities, normalize_punctuation, wrap


@dataclass(frozen=True)
class TableRow:
    table: int  # which table of the document, for repeating its header
    header: bool
    cells: tuple[tuple[str, ...], ...]  # wrapped lines of each cell
    col_x: tuple[int, ...]  # left edge of each column, relative to the table
    col_w: tuple[int, ...]
    line_h: int
    pad: int
    rule: int
    height: int


def _min_width(text: str, face: Face) -> float:
    """Width of the widest piece the line breaker will not split."""
    if not text:
        return 0.0
    ok = break_opportunities(text)
    best = cur = 0.0
    for i, ch in enumerate(text):
        if ok[i]:
            best, cur = max(best, cur), 0.0
        cur += face.advance(ch)
    return max(best, cur)


def column_widths(rows: list[list[str]], face: Face, width: int, pad: int, rule: int) -> list[int]:
    ncols = max(len(r) for r in rows)
    inner = width - rule * (ncols + 1) - 2 * pad * ncols
    lo = [0.0] * ncols
    hi = [0.0] * ncols
    for r in rows:
        for c, text in enumerate(r):
            natural = face.width(text)
            # A short cell (a label such as 索引号, a date) is one unit: wrapping it reads badly.
            unit = natural if natural <= face.size * 6 else _min_width(text, face)
            lo[c] = max(lo[c], min(unit, inner / ncols * 1.5))
            hi[c] = max(hi[c], natural)
    lo = [max(v, face.size * 2.0) for v in lo]
    hi = [max(h, lo_) for h, lo_ in zip(hi, lo, strict=True)]
    if sum(hi) <= inner:
        # Everything fits on one line: share the spare width in proportion.
        out = [h + (inner - sum(hi)) * h / sum(hi) for h in hi]
    elif sum(lo) >= inner:
        out = [inner * v / sum(lo) for v in lo]
    else:
        spare, want = inner - sum(lo), sum(h - v for h, v in zip(hi, lo, strict=True))
        out = [v + spare * (h - v) / want for h, v in zip(hi, lo, strict=True)]
    widths = [int(w) for w in out]
    widths[-1] += inner - sum(widths)
    return widths


def layout_table(
    table_id: int, rows: tuple[tuple[str, ...], ...], header_rows: int, face: Face, width: int, max_height: int, rule: int
) -> list[TableRow]:
    """Row boxes for one table; none taller than ``max_height``."""
    grid = [[normalize_punctuation(c) for c in r] for r in rows if any(c.strip() for c in r)]
    if not grid:
        return []
    ncols = max(len(r) for r in grid)
    grid = [r + [""] * (ncols - len(r)) for r in grid]
    pad = max(4, face.size // 4)
    widths = column_widths(grid, face, width, pad, rule)
    col_x, x = [], rule
    for w in widths:
        col_x.append(x)
        x += w + 2 * pad + rule
    line_h = round(face.size * 1.35)
    out: list[TableRow] = []
    max_lines = max(1, (max_height - 2 * pad - rule) // line_h)
    for n, r in enumerate(grid):
        wrapped = [wrap(text, w, face.advance) or [""] for text, w in zip(r, widths, strict=True)]
        tall = max(len(c) for c in wrapped)
        for start in range(0, tall, max_lines):
            cells = tuple(tuple(c[start : start + max_lines]) for c in wrapped)
            nlines = max(len(c) for c in cells) or 1
            out.append(
                TableRow(
                    table=table_id,
                    header=n < header_rows,
                    cells=cells,
                    col_x=tuple(col_x),
                    col_w=tuple(widths),
                    line_h=line_h,
                    pad=pad,
                    rule=rule,
                    height=nlines * line_h + 2 * pad + rule,
                )
            )
    return out


def draw_row(canvas: Canvas, row: TableRow, x: int, y: int, face: Face, bold: Face, last: bool) -> None:
    """Draw a row box with its top rule (and bottom rule when it ends the table or the page)."""
    r = row.rule
    right = x + row.col_x[-1] + row.col_w[-1] + 2 * row.pad
    ground = "band" if row.header else "bg"
    if row.header:
        canvas.rect(x, y, right + r, y + row.height + r, "band")
    canvas.rect(x, y, right + r, y + r, "rule")
    if last:
        canvas.rect(x, y + row.height, right + r, y + row.height + r, "rule")
    bottom = y + row.height + (r if last else 0)
    canvas.rect(x, y, x + r, bottom, "rule")
    for cx, cw in zip(row.col_x, row.col_w, strict=True):
        canvas.rect(x + cx + cw + 2 * row.pad, y, x + cx + cw + 2 * row.pad + r, bottom, "rule")
    f = bold if row.header else face
    base = f.baseline(row.line_h)
    for cx, cw, lines in zip(row.col_x, row.col_w, row.cells, strict=True):
        ty = y + r + row.pad
        for ln in lines:
            if ln:
                # Header cells and short numeric cells are centred; text reads from the left.
                w = round(f.width(ln))
                centred = row.header or (len(lines) == 1 and _numeric(ln))
                tx = x + cx + row.pad + ((cw - w) // 2 if centred else 0)
                canvas.text(tx, ty + base, ln, f, "fg", ground, role="cell")
            ty += row.line_h


def _numeric(s: str) -> bool:
    return bool(s) and all(c.isdigit() or c in ".,%-+％ " for c in s)
