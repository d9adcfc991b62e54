"""The national inspection's content checks (国办《政府网站与政务新媒体检查指标》): 严重错别字 and
严重表述错误 are a single-item veto, so an item that has one waits for review (policy ``hold``).

What is checked, against a registry of proper nouns — the shipped list
(``pusher/gate/data/content_checks.txt``: the country's and the state bodies' full names, serious
typos, outdated formulations with the date they went out of force) plus ``[gate.content]``:

- **near misses of a registered term**: a run of the term's length that differs from it in one
  character, where the two characters sound alike (same pinyin, tones ignored, any reading —
  pypinyin's offline dictionary) or look alike (the table below): 杜家毫 for 杜家豪, 中华人民共合国.
  A run jieba reads as part of a longer word across its edge (财政补贴 is not 财政部) is not one.
- **typos** from the list, and **outdated formulations** in an item dated on or after the day they
  went out of force (国家工商行政管理总局 after 2018-03-21);
- **leaders** (``[[gate.content.leaders]]`` name, title, since, until): a near miss of the name;
  the name with a title not theirs (副县长杜家豪 when he is 县长); the title used after their
  term ended (unless 原/时任/前 says it is the past).

The item's date is its publication date (else 成文日期, else today): an item from 2017 that
names the 国土资源部 was right when it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import ahocorasick

from pusher.gate.detectors.base import DetectorBase, Match, mask_all

if TYPE_CHECKING:
    from pusher.gate.settings import GateSettings

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "content_checks.txt"

#: Characters that are told apart by a stroke or a component (形近字), each group one line of sight.
SHAPES = (
    "己已巳",
    "戊戌戍",
    "未末",
    "拔拨",
    "候侯",
    "辨辩辫瓣",
    "即既",
    "毫豪",
    "政攻",
    "府腐付",
    "党觉常",
    "治冶",
    "贷货",
    "券卷",
    "壁璧",
    "绩积",
    "峰锋蜂",
    "晴睛情清",
    "泳咏",
    "杨扬",
    "萧肖",
    "斌赋",
    "王玉主",
    "大太犬",
    "人入八",
    "土士",
    "日曰",
    "干千于",
    "天夭",
    "申由甲",
    "习刁",
    "近进",
)
_SHAPE_OF = {c: group for group in SHAPES for c in group}
_PAST = re.compile(r"(?:原|时任|前|曾任|历任)\s*$")


@dataclass(frozen=True)
class Check:
    kind: str  # term, typo, outdated
    wrong: str
    right: str
    since: date | None = None
    not_before: str = ""


@dataclass(frozen=True)
class Leader:
    name: str
    titles: tuple[str, ...]
    since: date | None
    until: date | None


def read_checks(path: Path) -> list[Check]:
    out: list[Check] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [*line.split("|"), "", "", ""]
        kind, wrong, right, since, not_before = (p.strip() for p in parts[:5])
        if kind not in ("term", "typo", "outdated") or not right or (kind != "term" and not wrong):
            raise ValueError(f"{path}:{n}: not a content check: {line!r}")
        out.append(Check(kind, wrong, right, date.fromisoformat(since) if since else None, not_before))
    return out


@lru_cache(maxsize=4096)
def _readings(ch: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    got = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(got[0]) if got else frozenset()


def alike(a: str, b: str) -> str:
    """``"sound"`` or ``"shape"`` when ``a`` may be a slip for ``b``, else ``""``."""
    if a == b:
        return ""
    if _readings(a) & _readings(b):
        return "sound"
    if b in _SHAPE_OF.get(a, ""):
        return "shape"
    return ""


class ContentCheckDetector(DetectorBase):
    """Near misses of registered proper nouns and leaders' names, typos, outdated formulations,
    wrong or expired titles (the inspection's content checks)."""

    name = "content"
    contact = False
    uses_date = True  # the gate passes the item's date: outdated from when, terms that ended

    def __init__(self, settings: GateSettings | None = None) -> None:
        from pusher.gate.settings import ContentSettings

        cfg = settings.content if settings is not None else ContentSettings()
        checks = read_checks(SHIPPED) if cfg.shipped else []
        checks += [Check("term", "", t) for t in cfg.terms]
        checks += [Check("outdated" if t.since else "typo", t.wrong, t.right, t.since) for t in cfg.typos]
        self.leaders = tuple(Leader(lead.name, tuple(re.split(r"[、,，/]", lead.title)), lead.since, lead.until) for lead in cfg.leaders)
        self.terms = sorted({c.right for c in checks if c.kind == "term"} | {lead.name for lead in self.leaders})
        self.listed = [c for c in checks if c.kind != "term"]
        self._exact = ahocorasick.Automaton()
        by_word: dict[str, list[Check]] = {}
        for c in self.listed:
            by_word.setdefault(c.wrong, []).append(c)
        for word, cs in by_word.items():
            self._exact.add_word(word, tuple(cs))
        # Near misses: a run one character off a term shares with it, on one side of that
        # character, its longer part; those parts are the anchors the automaton looks for.
        self._anchors = ahocorasick.Automaton()
        spots: dict[str, list[tuple[str, int, int]]] = {}
        for term in self.terms:
            if len(term) < 2:
                continue
            for i in range(len(term)):
                left, right = term[:i], term[i + 1 :]
                anchor, at = (left, 0) if len(left) >= len(right) else (right, i + 1)
                if anchor:
                    spots.setdefault(anchor, []).append((term, i, at))
        for anchor, where in spots.items():
            self._anchors.add_word(anchor, tuple(where))
        if self.listed:
            self._exact.make_automaton()
        if spots:
            self._anchors.make_automaton()

    def find(self, text: str, *, when: date | None = None) -> Iterator[Match]:
        day = when or date.today()
        seen: set[tuple[int, int]] = set()
        for m in self._listed(text, day):
            if (m.start, m.end) not in seen:
                seen.add((m.start, m.end))
                yield m
        for m in (*self._near_misses(text), *self._titles(text, day)):
            if not any(s <= m.start and m.end <= e for s, e in seen):
                seen.add((m.start, m.end))
                yield m

    def _listed(self, text: str, day: date) -> Iterator[Match]:
        if not self.listed:
            return
        for end, checks in self._exact.iter(text):
            for c in checks:
                start = end - len(c.wrong) + 1
                if c.not_before and text[end + 1 : end + 2] and text[end + 1] in c.not_before:
                    continue
                if c.kind == "outdated":
                    if c.since and day < c.since:
                        continue
                    yield Match(start, end + 1, f"outdated since {c.since}: now {c.right}")
                else:
                    yield Match(start, end + 1, f"serious typo: {c.right}")

    def _near_misses(self, text: str) -> Iterator[Match]:
        if not self.terms:
            return
        for end, where in self._anchors.iter(text):
            for term, i, at in where:
                anchor_len = i if at == 0 else len(term) - i - 1
                start = end - anchor_len + 1 - at
                stop = start + len(term)
                if start < 0 or stop > len(text):
                    continue
                run = text[start:stop]
                if run == term or sum(a != b for a, b in zip(run, term, strict=True)) != 1:
                    continue
                how = alike(run[i], term[i])
                if how and not _crosses_word(text, start, stop):
                    yield Match(start, stop, f"near miss of {term} ({'same pinyin' if how == 'sound' else 'similar shape'})")

    def _titles(self, text: str, day: date) -> Iterator[Match]:
        for lead in self.leaders:
            for m in re.finditer(re.escape(lead.name), text):
                b = _title_rx().search(text, max(0, m.start() - 14), m.start())
                a = _title_after_rx().match(text, m.end())
                found: list[tuple[str, int, int, int]] = []  # title, span, where 原/时任 would stand
                if b:
                    found.append((b.group("t"), b.start(), m.end(), b.start()))
                if a:
                    found.append((a.group("t"), m.start(), a.end(), m.start()))
                for title, start, end, lead_at in found:
                    past = bool(_PAST.search(text, max(0, lead_at - 4), lead_at))
                    if not any(title == x or x.endswith(title) for x in lead.titles):
                        yield Match(start, end, f"wrong title: {lead.name} is {'、'.join(lead.titles)}")
                    elif lead.until and day > lead.until and not past:
                        yield Match(start, end, f"{lead.name}'s term as {title} ended {lead.until}")

    def mask(self, matched: str) -> str:
        return mask_all(matched)


def _names_titles() -> str:
    from pusher.gate.detectors.names import TITLES

    return TITLES


@lru_cache(maxsize=1)
def _title_rx() -> re.Pattern[str]:
    return re.compile(rf"(?P<t>(?:{_names_titles()}))\s*[:：]?\s*$")


@lru_cache(maxsize=1)
def _title_after_rx() -> re.Pattern[str]:
    return re.compile(rf"(?P<t>{_names_titles()})")


def _crosses_word(text: str, start: int, stop: int) -> bool:
    """jieba reads a word across an edge of ``text[start:stop]`` (财政补贴 for 财政部's 财政补)."""
    from pusher.gate.detectors.names import _posseg

    _posseg()
    import jieba

    lo, hi = max(0, start - 4), min(len(text), stop + 4)
    pos = lo
    for w in jieba.cut(text[lo:hi], HMM=False):
        s, e = pos, pos + len(w)
        if len(w) > 1 and ((s < start < e) or (s < stop < e)):
            return True
        pos = e
    return False
