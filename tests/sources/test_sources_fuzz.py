"""Odd and hostile input never escapes as anything but a :mod:`pusher.errors` error.

Property tests over the parsing functions (arbitrary bytes, HTML made of portal-ish pieces),
plus the cases they found, pinned. Kept small: the whole file runs in a few seconds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.charset import decode_html
from feeds.dates import parse_date

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces portal pages are made of, and the odd values that break naive code.
_ODD = st.sampled_from(
    [
        "http://[x/a.png",
        "http://[::1",
        "//[",
        "http://127.0.0.1:abc/x.pdf",
        "javascript:void(0)",
        "./a.pdf",
        "0001-01-01",
        "0001年01月01日",
        "9999-12-31T23:59:59-01:00",
        "²",
        "1" * 5000,
        "\x00",
        "<?xml version='1.0' encoding='utf-8'?>",
        "]]>",
        "&#0;",
        "&lt;",
        "索引号：",
        "发布日期：",
        "<!--<$[信息来源]>begin-->",
        "<!--<$[信息来源]>end-->",
        "中文",
        "",
    ]
)
_TAGS = st.sampled_from(
    ["p", "div", "table", "tr", "td", "h1", "h2", "span", "strong", "li", "ul", "br", "script", "title", "meta", "article"]
)
_ATTRS = st.sampled_from(["href", "src", "alt", "title", "id", "class", "name", "content"])


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    parts = ["<html><head><title>", draw(_ODD), "</title></head><body><div id='zoom'>"]
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(_TAGS)
        attrs = " ".join(f'{draw(_ATTRS)}="{draw(_ODD)}"' for _ in range(draw(st.integers(0, 2))))
        parts.append(f"<{tag} {attrs}>{draw(st.one_of(_ODD, st.text(max_size=20)))}")
        if draw(st.booleans()):
            parts.append(f"<a href='{draw(_ODD)}'>{draw(_ODD)}</a><img src='{draw(_ODD)}' alt='{draw(_ODD)}'>")
        if draw(st.booleans()):
            parts.append(f"</{tag}>")
    parts.append("</div></body></html>")
    return "".join(parts)


@FAST
@given(st.binary(max_size=2000), st.sampled_from(["", "text/html; charset=gbk", "text/html; charset=x-nope", "text/html; charset=utf-16"]))
def test_decode_html_never_raises(body: bytes, content_type: str) -> None:
    assert isinstance(decode_html(body, content_type), str)


@FAST
@given(st.one_of(_ODD, st.text(max_size=40), st.from_regex(r"\d{4}[-年/]\d{1,2}[-月/]\d{1,2}( \d{1,2}:\d{2})?", fullmatch=True)))
def test_parse_date_never_raises(text: str) -> None:
    got = parse_date(text)
    assert got is None or got.tzinfo is not None


def test_dates_at_the_edge_of_the_calendar_are_no_dates() -> None:
    # 0001-01-01 in Shanghai is before 0001-01-01 UTC: no datetime holds it.
    for text in ("0001-01-01", "0001年01月01日", "0001-01-01T00:00:00+01:00"):
        assert parse_date(text) is None, text
    # Past UTC's end as written; its calendar day is still read, as local time.
    assert parse_date("9999-12-31T23:59:59-01:00") is not None
    assert parse_date("0002-01-01") is not None
