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
    r"|[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|—{2,}|…{2,}|\u2e3a+|\u2e3b+"
    r"|[０-９Ａ-Ｚａ-ｚ]{2,}"
)
_MAY_BREAK_INSIDE = re.compile(r"[\s\-‐/]")


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


@functools.lru_cache(maxsize=4096)
def _narrow_breaks(span: str) -> tuple[int, ...]:
    """UAX #14 break positions strictly inside a narrow run."""
    if not _MAY_BREAK_INSIDE.search(span):
        return ()
    return tuple(b for b in line_break_boundaries(span) if 0 < b < len(span))


def break_opportunities(text: str) -> list[bool]:
    """``ok[i]`` is true when a line may start at ``text[i]`` (``ok[0]`` is always false)."""
    n = len(text)
    wide = [is_wide(c) for c in text]
    ok = [False] * (n + 1)
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
        for b in _narrow_breaks(text[i:j]):
            ok[i + b] = True
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
    ok = break_opportunities(text)
    if words:
        # Titles (menus) break between words only: 若干 and 处理 stay whole. Between two
        # ideographs the dictionary decides; elsewhere (Latin, numbers, marks) the rules above.
        starts = word_starts(text)
        ok = [o and (i in starts or not (is_wide(text[i]) and is_wide(text[i - 1]))) for i, o in enumerate(ok)]
    full = [advance(c) for c in text]
    adv = advances(text, advance)
    endw = [f * 0.5 if c in CLOSING else f for c, f in zip(text, full, strict=True)]
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
    for i, c in enumerate(text):
        if c not in _FULL:
            continue
        prev = out[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "(":
            if nxt and is_wide(nxt):
                out[i] = "（"
        elif c == ")":
            if (prev and is_wide(prev)) or _opened_wide(out, i):
                out[i] = "）"
        elif (prev and is_wide(prev)) or (nxt and is_wide(nxt)):
            out[i] = _FULL[c]
    return "".join(out)


def _opened_wide(out: list[str], i: int) -> bool:
    """True when the nearest unmatched opening parenthesis before ``i`` became full-width."""
    depth = 0
    for k in range(i - 1, -1, -1):
        c = out[k]
        if c in ")）":
            depth += 1
        elif c in "(（":
            if depth == 0:
                return c == "（"
            depth -= 1
    return False
