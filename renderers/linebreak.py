"""Chinese line breaking (GB/T 15834, W3C clreq) for fixed-width pixel lines.

Break opportunities come from two sources: between wide (CJK) characters a break is allowed
everywhere, as clreq says; inside runs of narrow text (Latin words, numbers, URLs) the Unicode
line breaking algorithm (UAX #14, via uniseg) decides, which keeps ``1,000.5%`` and ``e-mail``
whole. The Chinese rules are then laid on top of both, and they win:

* no line starts with closing punctuation ``，。、；：？！）》」』】〕〗…—·%`` (full or half width);
* no line ends with opening punctuation ``（《「『【〔〖``;
* ``——`` and ``……``, Latin words, numbers (full-width ones too), URLs and e-mail addresses
  are never split.

UAX #14 is pure Python in uniseg and slow (~60 µs a character), so it only ever sees the
narrow runs that could hold a break; CJK text takes the table-driven fast path.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from uniseg.linebreak import line_break_boundaries

# clreq / GB/T 15834 "not at line start", with the half-width forms and the halfwidth-katakana
# block's punctuation (｡｣､･).
NO_START = frozenset("，。、；：？！）》」』】〕〗〙〛〉’”…‥—·・ー｝］〞〟%‰℃°′″％,.;:?!)]}>｡｣､･")
# "not at line end".
NO_END = frozenset("（《「『【〔〖〘〚〈‘“｛［〝([{<｢")
# Runs that are one unit however long: URLs, e-mail addresses, the paired marks, full-width
# alphanumerics (ＡＢＣ１２３) which UAX #14 would otherwise break like ideographs.
_UNSPLIT = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+"
    # The look-behind starts an address only where its run of name characters starts: without
    # it a 100,000-letter word is scanned again from each of its letters (quadratic).
    r"|(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|—{2,}|…{2,}|\u2e3a+|\u2e3b+"
    r"|[０-９Ａ-Ｚａ-ｚ]{2,}"
)
_MAY_BREAK_INSIDE = re.compile(r"[\s\-‐/]")


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


#: uniseg (0.10) costs ~400 µs a character and slows down with the length of what it is given
#: (a 40,000-character run took 55 s), so it sees short pieces only, and each piece once:
#:
#: * a word is cut between two ASCII letters: for ASCII every UAX #14 rule that looks further
#:   than one pair runs through spaces, digits or marks (LB14-17, LB25), never through AL AL;
#: * a piece is read with letters as ``a`` and each run of digits as one ``0`` (same classes,
#:   same breaks), so ``ab-cd`` and ``xy-zw`` are one cached call;
#: * a piece still longer than a window is read in windows with ``_MARGIN`` characters of
#:   context either side (the rules' reach in portal text is a few characters).
_WINDOW, _MARGIN = 256, 32
_SPACES = re.compile(r"[^ ]+")
# Letters and digits only (UAX #14 classes AL and NU): nothing breaks inside.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
# What lies between two ASCII letter pairs: the rest, joined through single letters.
_PIECE = re.compile(r"[^A-Za-z]+(?:[A-Za-z][^A-Za-z]+)*")
_CANON = re.compile(r"[A-Za-z]|[0-9]+")


_UAX14: dict[str, tuple[int, ...]] = {}
#: Characters of new (uncached) pieces one text may send to uniseg (~3 s at worst); past it, the
#: rest of the text breaks after hyphens and slashes only. Real text repeats its pieces and stays
#: far below this; a paragraph of random digits and marks is what reaches it.
UAX14_BUDGET = 8000


class _Budget:
    def __init__(self) -> None:
        self.left = UAX14_BUDGET


def _uax14(span: str, budget: _Budget) -> tuple[int, ...] | None:
    """UAX #14 break positions strictly inside ``span`` (a short piece); None past the budget."""
    hit = _UAX14.get(span)
    if hit is not None:
        return hit
    if budget.left < len(span):
        return None
    budget.left -= len(span)
    if len(_UAX14) > 16384:
        _UAX14.clear()
    n = len(span)
    out = _UAX14[span] = tuple(b for b in line_break_boundaries(span) if 0 < b < n)
    return out


def _cheap_breaks(piece: str) -> list[int]:
    """After a hyphen or slash between letters or digits: the fallback past the budget."""
    return [k + 1 for k in range(1, len(piece) - 1) if piece[k] in "-‐/" and piece[k - 1].isalnum() and piece[k + 1].isalnum()]


def _piece_breaks(piece: str, budget: _Budget) -> list[int]:
    """``_uax14`` of ``piece`` read in its canonical form, mapped back to ``piece``'s positions."""
    starts: list[int] = []  # where each canonical character starts in ``piece``
    canon: list[str] = []
    pos = 0
    for m in _CANON.finditer(piece):
        for k in range(pos, m.start()):
            starts.append(k)
            canon.append(piece[k])
        starts.append(m.start())
        canon.append("a" if piece[m.start()].isalpha() else "0")
        pos = m.end()
    for k in range(pos, len(piece)):
        starts.append(k)
        canon.append(piece[k])
    c = "".join(canon)
    n = len(c)
    if n <= _WINDOW + 2 * _MARGIN:
        got = _uax14(c, budget)
        return _cheap_breaks(piece) if got is None else [starts[b] for b in got]
    out: list[int] = []
    for a in range(0, n, _WINDOW):
        lo, hi = max(0, a - _MARGIN), min(n, a + _WINDOW + _MARGIN)
        got = _uax14(c[lo:hi], budget)
        if got is None:
            return out + [b for b in _cheap_breaks(piece) if b >= starts[a]]
        out += (starts[lo + b] for b in got if a <= lo + b < a + _WINDOW)
    return out


def _narrow_breaks(word: str, budget: _Budget) -> list[int]:
    """UAX #14 break positions strictly inside one space-free narrow word."""
    if _PLAIN_WORD.fullmatch(word):
        return []
    n = len(word)
    out: list[int] = []
    for m in _PIECE.finditer(word):
        lo, hi = max(0, m.start() - 1), min(n, m.end() + 1)  # with the letter either side
        out += (lo + b for b in _piece_breaks(word[lo:hi], budget))
    return out


def _run_breaks(text: str, i: int, j: int, ok: list[bool], budget: _Budget) -> None:
    """Marks UAX #14's breaks inside the narrow run ``text[i:j]``, word by word.

    Whether a line may start after a space is decided by the space rule below whatever UAX #14
    says, so only the positions inside each space-free word need it: one cached call per
    distinct word, linear in the run (the whole run at once was quadratic: 160,000 characters
    of Latin took 19.5 s).
    """
    if not _MAY_BREAK_INSIDE.search(text, i, j):
        return
    for m in _SPACES.finditer(text, i, j):
        for b in _narrow_breaks(m.group(), budget):
            ok[m.start() + b] = True


def break_opportunities(text: str) -> list[bool]:
    """``ok[i]`` is true when a line may start at ``text[i]`` (``ok[0]`` is always false)."""
    n = len(text)
    wide = [is_wide(c) for c in text]
    ok = [False] * (n + 1)
    budget = _Budget()
    i = 0
    while i < n:
        if wide[i]:
            if i > 0:
                ok[i] = True
            if i + 1 < n:
                ok[i + 1] = True
            i += 1
            continue
        j = i
        while j < n and not wide[j]:
            j += 1
        _run_breaks(text, i, j, ok, budget)
        i = j
    # Spaces: a line may start after them, never with them.
    for i, c in enumerate(text):
        if c == " " or c == "\u3000":
            ok[i] = False
            if i + 1 < n and text[i + 1] not in " \u3000":
                ok[i + 1] = True
    for m in _UNSPLIT.finditer(text):
        for k in range(m.start() + 1, m.end()):
            ok[k] = False
    for i in range(1, n):
        if text[i] in NO_START or text[i - 1] in NO_END:
            ok[i] = False
    ok[0] = False
    return ok[:n]


# Full-width marks whose glyph sits in the left half of the em box (clreq §3.1.6 and GB/T 15834
# with mainland fonts: pause and closing marks), and those sitting in the right half (opening
# marks). Their empty half is what compression takes away.
CLOSING = frozenset("，。、；：）》」』】〕〗〙〛〉”’")
OPENING = frozenset("（《「『【〔〖〘〚〈“‘")
_SQUEEZE_LEFT = CLOSING
_MARKS = CLOSING | OPENING
MARKS_ALL, OPENING_ALL = _MARKS, OPENING  # for the drawing


def advances(text: str, advance: Callable[[str], float]) -> list[float]:
    """Per-character advances with adjacent punctuation compressed (clreq §3.1.6.1).

    A closing or pause mark before another mark gives up its empty right half (``》、《`` takes
    2.5 em, not 3; ``”）`` 1.5); an opening mark after an opening mark gives up its empty left
    half (``“《`` 1.5 em). Line edges are :func:`line_spacing`'s business.
    """
    adv = [advance(c) for c in text]
    for i in range(len(text) - 1):
        a, b = text[i], text[i + 1]
        if a in CLOSING and b in _MARKS:
            adv[i] *= 0.5
        elif a in OPENING and b in OPENING:
            adv[i + 1] *= 0.5
    return adv


def line_spacing(text: str, advance: Callable[[str], float]) -> tuple[list[float], list[float]]:
    """Advances and glyph shifts of one set line: adjacent marks compressed, an opening bracket
    at the line start and a closing or pause mark at the line end set half-width (clreq
    §3.1.6.2: 行首开括号、行尾标点 half-width). ``shift[i]`` moves a glyph left inside its
    advance: an opening mark keeps its ink where it is and loses its empty left half.
    """
    adv = advances(text, advance)
    shift = [0.0] * len(text)
    for i in range(1, len(text)):
        if text[i] in OPENING and text[i - 1] in OPENING:
            shift[i] = adv[i] - advance(text[i])
    if text and text[0] in OPENING:
        full = advance(text[0])
        adv[0] = full * 0.5
        shift[0] = -full * 0.5
    if text and text[-1] in CLOSING:
        adv[-1] = advance(text[-1]) * 0.5
    return adv, shift


def squeezable(text: str, adv: list[float], advance: Callable[[str], float]) -> float:
    """How much the marks of a set line can still give up (half of each uncompressed mark)."""
    return sum(advance(c) * 0.5 for c, a in zip(text, adv, strict=True) if c in _MARKS and a > advance(c) * 0.75)


@functools.lru_cache(maxsize=8192)
def word_starts(text: str) -> frozenset[int]:
    """Positions where a word starts, by jieba's dictionary (loaded on first use, ~1 s)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    out, pos = set(), 0
    for w in jieba.lcut(text, HMM=False):
        out.add(pos)
        pos += len(w)
    return frozenset(out)


def wrap(
    text: str,
    width: float,
    advance: Callable[[str], float],
    first_indent: float = 0.0,
    *,
    squeeze: bool = False,
    words: bool = False,
) -> list[str]:
    """Greedy line filling at the allowed breaks; spaces at a break are dropped.

    Lines are measured as :func:`line_spacing` sets them (half-width marks at the edges). With
    ``squeeze``, a line that would otherwise be broken early because a mark may not start the
    next one (leaving a wide justification gap) takes up to two more characters when squeezing
    its punctuation makes room (clreq 标点挤压; the drawing squeezes to the same width).

    A unit wider than a whole line (a very long URL) is cut by characters, still never
    starting a line with closing punctuation.
    """
    if not text:
        return []
    return fill(prepare(text, advance, words=words), width, advance, first_indent, squeeze=squeeze)


@dataclass(frozen=True)
class Prepared:
    """What :func:`wrap` measures of a text before filling lines at a width: breaks and advances
    (a title balanced by bisecting its width fills the same text a dozen times)."""

    text: str
    ok: list[bool]
    full: list[float]
    adv: list[float]
    endw: list[float]


def prepare(text: str, advance: Callable[[str], float], *, words: bool = False) -> Prepared:
    ok = break_opportunities(text)
    if words:
        # Titles (menus) break between words only: 若干 and 处理 stay whole. Between two
        # ideographs the dictionary decides; elsewhere (Latin, numbers, marks) the rules above.
        starts = word_starts(text)
        ok = [o and (i in starts or not (is_wide(text[i]) and is_wide(text[i - 1]))) for i, o in enumerate(ok)]
    full = [advance(c) for c in text]
    adv = advances(text, advance)
    endw = [f * 0.5 if c in CLOSING else f for c, f in zip(text, full, strict=True)]
    return Prepared(text, ok, full, adv, endw)


def fill(p: Prepared, width: float, advance: Callable[[str], float], first_indent: float = 0.0, *, squeeze: bool = False) -> list[str]:
    """:func:`wrap` of a prepared text (``advance`` the one it was prepared with)."""
    text, ok, full, adv, endw = p.text, p.ok, p.full, p.adv, p.endw
    if not text:
        return []
    lines: list[str] = []
    start, avail = 0, width - first_indent
    n = len(text)
    while start < n:
        i = start
        x = -full[start] * 0.5 if text[start] in OPENING else 0.0
        last_ok = -1
        # The last character of a line is never squeezed by its neighbour (nothing follows it there).
        while i < n and x + endw[i] <= avail + 0.01:
            x += adv[i]
            i += 1
            if i < n and ok[i]:
                last_ok = i
        if i >= n:
            end = n
        elif squeeze and not ok[i] and (k := _squeeze_end(text, ok, start, i, x, adv, endw, avail, advance)):
            end = k
        elif last_ok > start:
            end = last_ok
        else:
            # No allowed break fits: cut by characters, but not before closing punctuation.
            end = max(i, start + 1)
            while end - 1 > start and text[end] in NO_START:
                end -= 1
        lines.append(text[start:end].rstrip(" \u3000"))
        start = end
        while start < n and text[start] in " \u3000":
            start += 1
        avail = width
    return [ln for ln in lines if ln] if lines else []


def _squeeze_end(
    text: str,
    ok: list[bool],
    start: int,
    i: int,
    x: float,
    adv: list[float],
    endw: list[float],
    avail: float,
    advance: Callable[[str], float],
) -> int:
    """The end of the line if squeezing its marks lets it run to the next break (≤ 2 more characters)."""
    n = len(text)
    for k in range(i + 1, min(n, i + 2) + 1):
        if k < n and not ok[k]:
            continue
        need = x + sum(adv[i : k - 1]) + endw[k - 1] - avail
        line = text[start:k]
        set_adv, _ = line_spacing(line, advance)
        if need <= squeezable(line, set_adv, advance) + 0.01:
            return k
        return 0
    return 0


# Half-width punctuation that a CJK neighbour makes full-width (portals mix them freely).
_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


def normalize_punctuation(text: str) -> str:
    """Half-width ``,;:?!()`` beside Chinese text become their full-width forms.

    ``12:30``, ``1,000`` and ``(a)`` are left alone: only a mark with a wide character beside it
    changes (for ``(`` the one after it, for ``)`` the one before it or its partner).
    """
    if not any(c in _FULL for c in text):
        return text
    out = list(text)
    n = len(text)
    # The unmatched opening parentheses so far (their index in ``out``), for ``)``: a stack kept
    # while walking, as searching back from each ``)`` was quadratic in a run of them.
    opened: list[int] = []
    for i, c in enumerate(text):
        if c not in _FULL:
            if c == "（":
                opened.append(i)
            elif c == "）" and opened:
                opened.pop()
            continue
        prev = out[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "(":
            if nxt and is_wide(nxt):
                out[i] = "（"
            opened.append(i)
        elif c == ")":
            if (prev and is_wide(prev)) or (opened and out[opened[-1]] == "（"):
                out[i] = "）"
            if opened:
                opened.pop()
        elif (prev and is_wide(prev)) or (nxt and is_wide(nxt)):
            out[i] = _FULL[c]
    return "".join(out)
