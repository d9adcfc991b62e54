"""Chinese line breaking (GB/T 15834, W3C clreq) for fixed-width pixel lines.

Text is cut into unbreakable runs: one CJK character each, except that Latin words, numbers
(with their decimal points, percent signs and units), URLs, and the paired dashes ``——`` and
ellipses ``……`` stay whole. A closing punctuation mark sticks to the run before it and an
opening one to the run after it, so that no line starts with ``，。、`` … or ends with ``（《``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NO_START = set("，。、；：？！）》」』】〕〗〙〛’”…—·%‰℃,.;:?!)]}>·・ー｝〉")
NO_END = set("（《「『【〔〖〘〚‘“([{<〈｛")
# Latin words, numbers, URLs and runs of the two paired marks are indivisible.
_RUN = re.compile(r"https?://[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+|[A-Za-z0-9][A-Za-z0-9.,:/%+\-_@&=?#~]*|——+|……+|\u2026+|.", re.S)


def runs(text: str) -> list[str]:
    """Split into indivisible runs with the kinsoku rules applied."""
    raw = [m.group(0) for m in _RUN.finditer(text)]
    out: list[str] = []
    for r in raw:
        if out and (r[0] in NO_START or out[-1][-1] in NO_END):
            out[-1] += r
        else:
            out.append(r)
    return out


def wrap(text: str, width: int, measure: Callable[[str], float], first_indent: float = 0.0) -> list[str]:
    """Greedy line filling; a run wider than a whole line is cut by characters."""
    lines: list[str] = []
    cur = ""
    avail = width - first_indent
    for run in runs(text):
        if cur and measure(cur + run) > avail:
            lines.append(cur)
            cur, avail = "", width
            run = run.lstrip(" ")
        if not cur and measure(run) > avail:
            for ch in run:
                if cur and measure(cur + ch) > avail:
                    lines.append(cur)
                    cur, avail = "", width
                cur += ch
            continue
        cur += run
    if cur.strip():
        lines.append(cur)
    return lines
