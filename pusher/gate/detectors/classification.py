"""Classification marks (密级标志, GB/T 9704) and "not for publication" marks.

The words alone are everywhere in ordinary government prose — 商业秘密, 国家秘密, 秘密投票,
保守秘密, 依法不予公开 3 件 — so a word counts as a mark only where a mark stands:

- a level with its star, with or without a period: ``秘密★``, ``机密★5年``, ``绝密★长期``;
- a labelled level or period: ``密级：秘密``, ``保密期限：10年``, ``公开方式：不予公开``;
- a mark on a line (paragraph, heading, table cell) of its own, bracketed or not, possibly with
  ``注意保存``: ``机密``, ``【内部资料】``, ``内部资料 注意保存``, ``（不予公开）``;
- a level at the start of a line followed by a space (the header ``秘密 关于…``, flattened);
- ``不予公开`` alone on a line only among the first lines (the document's header): further down,
  a cell of that name heads a column of an annual report's statistics table;
- phrases that are marks wherever they are: ``此件不公开``, ``内部传阅``, ``内部资料，注意保存``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pusher.gate.detectors.base import DetectorBase, Match, mask_all

_LEVEL = r"(?:绝密|机密|秘密)"
_TERM = r"(?:\s*(?:\d{1,3}\s*(?:年|个月|月|天|日)|[一二三四五六七八九十]{1,3}\s*年|长期|永久))?"
_OPEN = r"[\s(（【\[〔〈《]*"
_CLOSE = r"[\s)）】\]〕〉》]*"
_KEEP = r"(?:\s*[,，、]?\s*(?:注意保存|注意保管|妥善保管|请勿外传|不得外传))?"

_PATTERNS = (
    rf"{_LEVEL}\s*[★☆*]{_TERM}",
    rf"密级\s*[:：]?\s*{_LEVEL}",
    r"保密期限\s*[:：]\s*(?:\d{1,3}\s*(?:年|个月|月)|长期|永久)",
    r"公开(?:方式|属性|形式|类型)\s*[:：]?\s*不予公开",
    rf"(?m:^){_OPEN}(?:{_LEVEL}|内部资料|内部传阅|内部文件|此件不公开){_KEEP}{_CLOSE}(?m:$)",
    rf"(?m:^)\s*{_LEVEL}(?=[ \t\u3000])",
    r"[(（【\[〔]\s*(?:内部资料|内部传阅|内部文件|不予公开|不公开|此件不(?:予)?公开)\s*[)）】\]〕]",
    r"此件不(?:予)?公开",
    r"内部传阅",
    r"内部资料\s*[,，、]?\s*(?:注意保存|注意保管|妥善保管|请勿外传|不得外传)",
)
_MARK = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_HEADER_ONLY = re.compile(rf"(?m:^){_OPEN}不予公开{_CLOSE}(?m:$)")
HEADER_LINES = 4


class ClassificationDetector(DetectorBase):
    """Classification marks (绝密/机密/秘密 with ★ and period) and 内部资料, 此件不公开 and the like."""

    name = "classification"
    contact = False

    def find(self, text: str) -> Iterator[Match]:
        header = text[: _nth_newline(text, HEADER_LINES)]
        seen: list[tuple[int, int]] = []
        for m in (*_MARK.finditer(text), *_HEADER_ONLY.finditer(header)):
            start, end = m.span()
            # Report the mark itself, not the whitespace and line ends that anchored it.
            g = m.group()
            start += len(g) - len(g.lstrip())
            end -= len(g) - len(g.rstrip())
            # One mark may match two rules ("（不予公开）" on its own line): report it once.
            if end > start and not any(s <= start and end <= e for s, e in seen):
                seen.append((start, end))
                yield Match(start, end)

    def mask(self, matched: str) -> str:
        return mask_all(matched)


def _nth_newline(text: str, n: int) -> int:
    pos = -1
    for _ in range(n):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return len(text)
    return pos
