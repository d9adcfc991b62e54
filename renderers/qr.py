"""QR code modules, the same as segno's (``segno.make(url, error="m", micro=False,
boost_error=False)``), ~4× cheaper.

segno encodes the data once and then scores each of the 8 data masks (ISO/IEC 18004 7.8.3)
with a Python loop over every module, twice: 3.6 ms an item of the render stage's 4.5 ms of
QR code. Here segno encodes with mask 0 (no scoring), the mask is taken off the encoding
region again, and the 8 candidates are scored at once with numpy by segno's own rules (the
same N1–N4 penalties, the same first-lowest pick), so the chosen mask, and so every module of
the symbol and the page's bytes, stay what segno gives (``tests/renderers/test_render_qr.py``
compares the two). Keeping segno's choice keeps its readability: every mask decodes, the
penalties only steer away from patterns a scanner may confuse with a finder.

What it reads of segno beyond ``make`` (the matrix template and the format information writer
of ``segno.encoder``) is checked on import; without it the modules come from ``segno.make``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import segno

try:
    from segno import consts as _consts
    from segno import encoder as _enc

    _FAST = all(
        hasattr(_enc, name)
        for name in (
            "prepare_data", "find_version", "normalize_errorlevel", "version_range", "Buffer", "write_segment", "write_terminator",
            "write_padding_bits", "write_pad_codewords", "make_final_message", "calc_matrix_size", "make_matrix",
            "add_finder_patterns", "add_alignment_patterns", "add_codewords", "get_data_mask_functions", "add_format_info",
            "add_version_info",
        )
    )  # fmt: skip
except ImportError:  # pragma: no cover - a segno without the encoder module
    _FAST = False

Modules = npt.NDArray[np.uint8]  # square, 1 = dark, without the quiet zone

_N3 = bytes((1, 0, 1, 1, 1, 0, 1))  # the finder-like 1:1:3:1:1 run


def modules(url: str) -> Modules:
    """The symbol of ``url`` at error level M: what ``segno.make(...).matrix`` holds."""
    if not _FAST:
        return _segno(url)
    version, error, bits = _message(url)
    n = _enc.calc_matrix_size(version)
    template, masks, (rows, cols) = _template(n), _masks(n), _placement(version)
    data = template == 2  # the encoding region: what masks apply to
    plain = template.copy()
    plain[rows, cols] = np.frombuffer(bits, np.uint8)
    # Each mask's symbol as segno scores it: format and version areas still blank (0).
    candidates = np.where(data, plain[None] ^ masks, template[None])
    best = int(np.argmin(penalties(candidates)))  # the first lowest, as segno's strict "<"
    symbol = tuple(bytearray(r.tobytes()) for r in candidates[best])
    _enc.add_format_info(symbol, version, error, best)
    _enc.add_version_info(symbol, version)
    return np.frombuffer(b"".join(symbol), np.uint8).reshape(n, n)


def _segno(url: str) -> Modules:
    return np.array(segno.make(url, error="m", micro=False, boost_error=False).matrix, dtype=np.uint8)


def _message(url: str) -> tuple[int, int, bytes]:
    """(version, error level, the final message's bits): segno's ``encode`` and ``_encode`` up
    to the codewords' placement, for a QR code (not micro) at level M without boosting."""
    error = _enc.normalize_errorlevel("m")
    segments = _enc.prepare_data(url, None, None)
    version = _enc.find_version(segments, error, eci=False, micro=False)
    buff = _enc.Buffer()
    ver_range = _enc.version_range(version)
    for segment in segments:
        _enc.write_segment(buff, segment, None, ver_range, False)
    capacity: int = _consts.SYMBOL_CAPACITY[version][error]  # type: ignore[index]  # typed as object by segno
    _enc.write_terminator(buff, capacity, None, len(buff))
    _enc.write_padding_bits(buff, version, len(buff))
    _enc.write_pad_codewords(buff, version, capacity, len(buff))
    return version, error, bytes(_enc.make_final_message(version, error, buff).getbits())


@lru_cache(maxsize=8)
def _template(n: int) -> Modules:
    """Finder, separator, timing and alignment patterns of an ``n``-module symbol, the format
    and version areas 0, and 2 in the encoding region (segno's matrix before the codewords)."""
    m = _enc.make_matrix(n, n)
    _enc.add_finder_patterns(m, n, n)
    _enc.add_alignment_patterns(m, n, n)
    out = np.frombuffer(b"".join(m), np.uint8).reshape(n, n).copy()
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def _placement(version: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Where each bit of the message goes (rows, columns, in the message's order): segno's
    ``add_codewords`` run once on the bits' own numbers."""
    n = _enc.calc_matrix_size(version)
    grid = [list(r) for r in _template(n)]
    cells = sum(r.count(2) for r in grid)
    _enc.add_codewords(grid, [3 + k for k in range(cells)], version)
    order = np.array(grid, dtype=np.intp) - 3
    rows, cols = np.nonzero(order >= 0)
    by_bit = np.argsort(order[rows, cols])
    return rows[by_bit], cols[by_bit]


@lru_cache(maxsize=8)
def _masks(n: int) -> Modules:
    """The 8 data masks over an ``n``-module grid (1 where a module flips), from segno's own functions."""
    i, j = np.indices((n, n))
    out = np.stack([np.vectorize(fn, otypes=[bool])(i, j) for fn in _enc.get_data_mask_functions(False)]).astype(np.uint8)
    out.setflags(write=False)
    return out


def penalties(symbols: Modules) -> list[int]:
    """segno's ``evaluate_mask`` of each ``(k, n, n)`` symbol: N1 + N2 + N3 + N4 (ISO/IEC 18004
    Table 11), by whole-array operations on the rows and columns of all of them at once."""
    k, n, _ = symbols.shape
    lines = np.concatenate([symbols, symbols.transpose(0, 2, 1)], axis=1).astype(bool)  # rows, then columns
    # N1: a run of L ≥ 5 modules of one colour scores L - 2: the L - 4 windows of 5 equal
    # modules in it, plus 2 for the window where it starts.
    same = lines[:, :, 1:] == lines[:, :, :-1]
    w = n - 4
    five = same[:, :, :w] & same[:, :, 1 : w + 1] & same[:, :, 2 : w + 2] & same[:, :, 3 : w + 3]
    first = five.copy()
    first[:, :, 1:] &= ~same[:, :, : w - 1]
    n1 = five.sum(axis=(1, 2)) + 2 * first.sum(axis=(1, 2))
    # N2: 2 × 2 blocks of one colour, 3 each.
    a = symbols
    corner = a[:, 1:, 1:]
    n2 = 3 * ((corner == a[:, 1:, :-1]) & (corner == a[:, :-1, 1:]) & (corner == a[:, :-1, :-1])).sum(axis=(1, 2))
    # N3: 1:1:3:1:1 (dark light dark dark dark light dark) with 4 light modules before or after
    # it, 40 each; past a line's end counts as light (segno's slices stop there).
    pad = np.zeros((k, 2 * n, n + 8), bool)
    pad[:, :, 4 : n + 4] = lines
    m = n - 6

    def at(o: int) -> npt.NDArray[np.bool_]:  # module p + o - 4 for each start p of a run
        return pad[:, :, o : o + m]

    hit = at(4) & ~at(5) & at(6) & at(7) & at(8) & ~at(9) & at(10)
    light_before = ~(at(0) | at(1) | at(2) | at(3))
    light_after = ~(at(11) | at(12) | at(13) | at(14))
    counts = hit & (light_before | light_after)
    n3 = 40 * counts.sum(axis=(1, 2))
    # segno's walk skips the 6 modules after a run that counts, so of two runs 4 or 6 apart the
    # second may not count: the (rare) lines with such a pair are walked its way.
    close = (hit[:, :, 4:] & hit[:, :, :-4]).any(axis=2) | (hit[:, :, 6:] & hit[:, :, :-6]).any(axis=2)
    for mask, line in zip(*np.nonzero(close), strict=True):
        n3[mask] += _n3_line(lines[mask, line].astype(np.uint8).tobytes(), n) - 40 * int(counts[mask, line].sum())
    # N4: the share of dark modules away from half, 10 a step of 5%.
    dark = a.reshape(k, -1).sum(axis=1)
    n4 = [10 * int(abs(float(d) / (n**2) * 100 - 50) / 5) for d in dark.tolist()]
    return [int(n1[i]) + int(n2[i]) + int(n3[i]) + n4[i] for i in range(k)]


def _n3_line(seq: bytes, size: int) -> int:
    """segno's ``n3_pattern_occurrences`` of one line."""
    count = 0
    idx = seq.find(_N3)
    while idx != -1:
        offset = idx + 7
        if idx in (0, size - 7) or not any(seq[max(idx - 4, 0) : min(idx, size)]) or not any(seq[max(offset, 0) : min(offset + 4, size)]):
            count += 40
        else:
            offset = idx + 4
        idx = seq.find(_N3, offset)
    return count
