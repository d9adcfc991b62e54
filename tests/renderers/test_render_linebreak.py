"""Chinese line breaking on hand-made cases: each rule of GB/T 15834 / clreq in isolation."""

from __future__ import annotations

import pytest
from render_corpus import FORBIDDEN_END, FORBIDDEN_START

from renderers.linebreak import normalize_punctuation, wrap


def em(ch: str) -> float:
    """A monospace measure: wide characters 1 em, narrow ones half."""
    import unicodedata

    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def lines(text: str, width: float, indent: float = 0.0) -> list[str]:
    out = wrap(text, width, em, first_indent=indent)
    assert "".join(out).replace(" ", "") == text.replace(" ", ""), "text lost or changed"
    return out


@pytest.mark.parametrize("mark", sorted(FORBIDDEN_START - {"—", "…"}))
def test_closing_mark_never_starts_a_line(mark: str) -> None:
    # The mark falls exactly at a line start when breaking naively at 5 ems.
    text = "一二三四五" + mark + "六七八九十"
    for ln in lines(text, 5):
        assert ln[0] != mark


@pytest.mark.parametrize("mark", sorted(FORBIDDEN_END))
def test_opening_mark_never_ends_a_line(mark: str) -> None:
    text = "一二三四" + mark + "五六七八九"
    for ln in lines(text, 5):
        assert ln[-1] != mark


@pytest.mark.parametrize("pair", ["——", "……"])
def test_paired_marks_are_not_split_nor_start_a_line(pair: str) -> None:
    text = "一二三四" + pair + "五六七八"
    out = lines(text, 5)
    assert any(pair in ln for ln in out)
    assert all(not ln.startswith(pair[0]) for ln in out)


@pytest.mark.parametrize(
    "token",
    ["www.yk.gov.cn", "https://www.yk.gov.cn/col/col1229/index.html", "gkb1416@126.com", "1,000.5%", "2012", "ＡＢＣ１２３", "GB/T"],
)
def test_numbers_words_and_urls_stay_whole(token: str) -> None:
    text = "请访问" + token + "查看详细信息和下载附件"
    # Wide enough to hold the token, placed so that a naive break would cut it.
    out = lines(text, max(6, int(sum(em(c) for c in token)) + 1))
    assert any(token in ln for ln in out), out


def test_a_unit_longer_than_the_line_is_cut_but_not_before_a_closing_mark() -> None:
    url = "https://www.yk.gov.cn/" + "a" * 40
    out = lines("见" + url + "，谢谢", 8)
    assert all(ln[0] not in FORBIDDEN_START for ln in out)
    assert max(sum(em(c) for c in ln) for ln in out) <= 8


def test_latin_phrases_break_at_spaces_and_drop_them() -> None:
    out = lines("the quick brown fox jumps over the lazy dog", 6)
    assert all(not ln.startswith(" ") and not ln.endswith(" ") for ln in out)
    assert "quick" in " ".join(out).split()


def test_first_line_indent_takes_width() -> None:
    out = lines("一二三四五六七八九十", 5, indent=2)
    assert out[0] == "一二三" and out[1] == "四五六七八"


def test_lines_fill_the_width() -> None:
    out = lines("一二三四五六七八九十" * 3, 7)
    assert all(sum(em(c) for c in ln) <= 7 for ln in out)
    assert all(sum(em(c) for c in ln) >= 6 for ln in out[:-1])


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("开展情况,主动公开", "开展情况，主动公开"),
        ("邮编:321300,电话", "邮编：321300，电话"),
        ("(一)强化组织", "（一）强化组织"),
        ("时间12:30,地点", "时间12:30，地点"),
        ("共1,000条", "共1,000条"),
        ("see (a), b", "see (a), b"),
        ("(地址:金城路25号,邮编:321300)", "（地址：金城路25号，邮编：321300）"),
    ],
)
def test_half_width_punctuation_beside_chinese_becomes_full_width(raw: str, want: str) -> None:
    assert normalize_punctuation(raw) == want
