"""The rest of issue 17's typesetting, and issue 18's page limit, at SD, HD and FHD in both styles:
the 长辈版 menu's legend on one row and at least four entries a page, the contents kept on one
page (else split evenly, marked 续), bold-run headings from the portal's HTML, balanced titles
(never a lone last character), and the footers of an item cut at ``render.max_pages``."""

from __future__ import annotations

import itertools
from datetime import date
from functools import cache

import pytest
from render_corpus import CTX, all_docs, demo_doc, reference_doc, table_doc

from feeds.extract import extract_document
from feeds.xmlsafe import parse_html
from pusher.interfaces import Block, Document, Menu, MenuEntry, PageImage
from renderers import TvRenderer, make_renderer
from renderers.chrome import CONTENTS_GOES_ON, CONTENTS_MORE, REST_ON_PORTAL, _entry_lines, _lonely, balanced
from renderers.layout import heading_level
from renderers.linebreak import NO_END, NO_START, normalize_punctuation, word_starts
from renderers.settings import RenderSettings

PROFILES = ("sd", "hd", "fhd")
STYLES = ("standard", "elderly")
KEYS = (("red", "通知公告"), ("green", "政策文件"), ("yellow", "政务动态"), ("blue", "便民服务"))


@cache
def renderer(profile: str, style: str = "standard", max_pages: int = 0) -> TvRenderer:
    r = make_renderer(profile, RenderSettings(style=style, max_pages=max_pages))  # type: ignore[arg-type]
    assert isinstance(r, TvRenderer)
    return r


def of_role(p: PageImage, role: str) -> list[str]:
    return [ln for ln, r in zip(p.lines, p.roles, strict=True) if r == role]


def dingxi_menu() -> Menu:
    """The real Dingxi list (45 titles of 12–66 characters) as a column menu with colour keys."""
    rows = table_doc().blocks[1].rows[1:]
    return Menu("信息公开目录", tuple(MenuEntry(f"i{i}", t, date.fromisoformat(d)) for i, (t, d) in enumerate(rows)), keys=KEYS)


# ------------------------------------------------------------ elderly menu --


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_legend_takes_one_row(profile: str, style: str) -> None:
    r = renderer(profile, style)
    for p in r.render_menu(dingxi_menu(), CTX)[:2]:
        (row,) = of_role(p, "legend")
        assert all(f"{word} {name}" in row for word, (_, name) in zip("红绿黄蓝", KEYS, strict=True))


@pytest.mark.parametrize("profile", ["hd", "fhd"])
def test_elderly_menu_shows_at_least_four_entries(profile: str) -> None:
    """At HD and up every page but the last lists four entries or more (it listed two: the legend
    took two rows and the titles two lines each); a title cut to one line ends with …"""
    r = renderer(profile, "elderly")
    pages = r.render_menu(dingxi_menu(), CTX)
    assert all(len(p.entries) >= 4 for p in pages[:-1]) and len(pages) <= 12
    assert sum(len(p.entries) for p in pages) == len(dingxi_menu().entries)
    # Still the 长辈版: no more entries than its limit, larger than the standard menu's type.
    assert all(len(p.entries) <= r.menu_entries for p in pages) and r.body.size >= 1.3 * renderer(profile).body.size
    # Entries do not overlap, and all sit above the legend.
    for p in pages:
        boxes = sorted((y, h) for *_, y, _w, h in p.entries)
        assert all(a[0] + a[1] <= b[0] for a, b in itertools.pairwise(boxes))


def test_short_titles_keep_two_lines_on_a_narrow_elderly_page() -> None:
    """At SD in the 长辈版 a line holds under 12 characters: titles stay whole on two lines rather
    than be cut to a few characters."""
    r = renderer("sd", "elderly")
    first = r.render_menu(dingxi_menu(), CTX)[0]
    assert "定西市“春节”文明祭祀倡议书" in "".join(of_role(first, "entry"))


# ---------------------------------------------------------------- contents --


def contents_of(pages: list[PageImage]) -> list[PageImage]:
    return [p for p in pages if of_role(p, "footer") and of_role(p, "footer")[0].startswith("目录")]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_contents_on_one_page_when_they_fit_one(profile: str, style: str) -> None:
    """The demo's and the reference report's six sections: one contents page wherever six rows
    fit a page under the title (all but SD in the 长辈版), every section listed once, in order."""
    r = renderer(profile, style)
    area = r.m.content_bottom - r.m.content_top
    for doc in (demo_doc(), reference_doc()):
        plan = r.plan_item(doc)
        pages = list(r.render_item(doc, CTX))
        cps = contents_of(pages)
        sections = [s for chunk in plan.contents for s in chunk]
        levels = {1} if all(s.level == 1 for s in sections) else {1, 2}
        heads = [normalize_punctuation(b.text) for b in doc.blocks if heading_level(b) in levels]
        assert [s.label for s in sections] == heads
        assert len(sections) >= 6
        one_page = len(sections) * round(r.m.body * 1.2) <= area - 2 * round(r.m.title * 1.35) - r.m.body
        if one_page:
            assert len(cps) == 1, f"{profile} {style}: {[len(c) for c in plan.contents]}"
        assert len(cps) == len(plan.contents) and sum(len(p.entries) for p in cps) == len(sections)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_long_contents_splits_evenly_with_continued_marks(profile: str) -> None:
    """Twenty sections: several contents pages, none with a single entry, the ones that go on
    marked （下页续） and the ones that continue headed 目录（续）; the digit keys restart at 1."""
    blocks = []
    for n in range(20):
        blocks += [
            Block("h", f"第{n + 1}部分　专项工作情况"),
            *(Block("p", "全市各级行政机关认真贯彻落实条例，主动公开政府信息。" * 6) for _ in range(2)),
        ]
    doc = Document(url="http://x/long.html", title="关于2026年度全市重点工作推进情况的报告", blocks=tuple(blocks))
    for style in STYLES:
        r = renderer(profile, style)
        pages = list(r.render_item(doc, CTX))
        cps = contents_of(pages)
        assert len(cps) >= 2, style
        counts = [len(p.entries) for p in cps]
        assert sum(counts) == 20 and min(counts) >= 2 and max(counts) - min(counts) <= max(counts) // 2 + 1, counts
        for k, p in enumerate(cps):
            assert [e[0] for e in p.entries] == list(range(1, len(p.entries) + 1))
            assert (CONTENTS_GOES_ON in p.lines) == (k < len(cps) - 1)
            assert (CONTENTS_MORE in p.lines) == (k > 0)
            assert all(int(e[1][5:]) > len(cps) for e in p.entries)
        # The continued mark sits under the last entry and above the footer rule.
        y_last = max(y + h for *_, y, _w, h in cps[0].entries)
        assert y_last <= r.m.content_bottom


# ---------------------------------------------------------- bold headings --

BOLD_HTML = """<html><head><title>t</title></head><body><div id="zoom">
<p><strong>工作目标</strong></p>
<p>到2027年，全市政务公开标准化规范化水平明显提升。</p>
<p><b>一、总体要求</b><br>坚持以人民为中心的发展思想，推进政务公开。</p>
<p><strong>（一）强化组织领导。</strong>成立由市长任组长的领导小组，统筹推进。</p>
<p><strong>请各单位于3月1日前报送材料，逾期不予受理。</strong></p>
<p>本栏目<b>每周更新</b>。</p>
<div><strong>二、保障措施</strong><p>各部门要加强协作。</p></div>
</div></body></html>"""


def test_bold_runs_are_headings() -> None:
    """A short paragraph bold throughout, or a bold lead line before ``<br>``, is a heading; a bold
    run-in lead, a bold sentence of emphasis and a bold word inside a paragraph are not."""
    doc = extract_document(parse_html(BOLD_HTML), "http://www.yk.gov.cn/art/1.html", title_hint="关于推进政务公开的实施意见")
    kinds = [(b.kind, b.text) for b in doc.blocks]
    assert kinds == [
        ("h", "工作目标"),
        ("p", "到2027年，全市政务公开标准化规范化水平明显提升。"),
        ("h", "一、总体要求"),
        ("p", "坚持以人民为中心的发展思想，推进政务公开。"),
        ("p", "（一）强化组织领导。成立由市长任组长的领导小组，统筹推进。"),
        ("p", "请各单位于3月1日前报送材料，逾期不予受理。"),
        ("p", "本栏目每周更新。"),
        ("h", "二、保障措施"),
        ("p", "各部门要加强协作。"),
    ]
    for profile in PROFILES:
        pages = renderer(profile).render_item(doc, CTX)
        assert [h for p in pages for h in of_role(p, "head")] == ["工作目标", "一、总体要求", "二、保障措施"]
        assert "（一）强化组织领导。成立由市长任组长的领导" in "".join(t for p in pages for t in of_role(p, "body"))


# ---------------------------------------------------------- balanced titles --


def titles() -> list[str]:
    rows = table_doc().blocks[1].rows[1:]
    return [d.title for d in all_docs()] + [demo_doc().title] + [t for t, _ in rows] + ["永康市2012年度政府信息公开年度报告（续）"]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_titles_balanced_no_lone_last_character(profile: str, style: str) -> None:
    """Item titles at the width beside the QR code: no last line of one character or of marks
    alone, lines as even as their number allows (the last at least a third of the first), and
    never more lines than greedy filling, never a break inside a jieba word between ideographs
    unless that alone avoids a lone character."""
    r = renderer(profile, style)
    side = r.m.content_width - r.m.body * 5
    multi = 0
    for title in titles():
        title = normalize_punctuation(title)
        lines = balanced(title, side, r.title.advance)
        assert "".join(lines) == title.replace(" ", "") or " ".join(lines) == title or "".join(lines) == title
        if len(lines) < 2:
            continue
        multi += 1
        assert not _lonely(lines[-1]), (title, lines)
        assert r.title.width(lines[-1]) >= r.title.width(lines[0]) / 3, (title, lines)
        starts, cut = [*sorted(word_starts(title)), len(title)], 0
        for ln in lines[:-1]:
            cut += len(ln)
            wide = "\u4e00" <= title[cut - 1] <= "\u9fff" and "\u4e00" <= title[cut] <= "\u9fff"
            # Only a word wider than the line itself (人民代表大会常务委员会 at SD) is cut inside.
            word = next(title[a:b] for a, b in itertools.pairwise(starts) if a < cut < b) if cut not in starts else ""
            assert not wide or not word or r.title.width(word) > side, (title, lines)
        assert lines[0][0] not in NO_START and lines[0][-1] not in NO_END
    assert multi >= 10


def test_the_annual_report_title_no_longer_strands_a_character() -> None:
    """The screenshot that showed it: 《永康市2012年度政府信息公开年度报 / 告》 in the 长辈版 at HD."""
    for style in STYLES:
        for profile in PROFILES:
            r = renderer(profile, style)
            pages = r.render_item(reference_doc(), CTX)
            title = [ln for p in pages[:2] for ln in of_role(p, "title")]
            assert title and all(len(t) >= 2 for t in title), (profile, style, title)


@pytest.mark.parametrize("profile", PROFILES)
def test_two_line_menu_titles_are_balanced(profile: str) -> None:
    r = renderer(profile)
    width = r.m.content_width - 5 * r.m.body
    for title, _ in table_doc().blocks[1].rows[1:]:
        lines = _entry_lines(title, width, r.body)
        if len(lines) == 2 and not lines[1].endswith("…"):
            assert not _lonely(lines[1]) and r.body.width(lines[1]) >= r.body.width(lines[0]) / 3, lines


# ----------------------------------------------------------- max_pages --


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_an_item_cut_at_max_pages_numbers_the_pages_on_air(profile: str, style: str) -> None:
    """Issue 18: an item past ``render.max_pages`` takes exactly that many pages, numbered 第N/M页
    with M the pages on air, its contents list only sections on those pages, and its last page is
    《…（续）》 with the QR code and where the rest is."""
    doc = reference_doc()
    whole = list(renderer(profile, style).render_item(doc, CTX))
    for limit in (3, 8, 12):
        r = renderer(profile, style, limit)
        pages = list(r.render_item(doc, CTX))
        assert len(pages) == limit < len(whole)
        numbers = [next(f for f in of_role(p, "footer") if "页" in f and "第" in f) for p in pages]
        assert [n.split("第")[1] for n in numbers] == [f"{k}/{limit}页" for k in range(1, limit + 1)], numbers
        last = pages[-1]
        assert of_role(last, "title")[-1].endswith("（续）") and "扫码看原文" in last.lines
        assert REST_ON_PORTAL.split("。")[0] in "".join(of_role(last, "body"))
        for p in contents_of(pages):
            assert all(1 < int(e[1][5:]) < limit for e in p.entries)
        # The pages before the cut are the start of the item's text, nothing skipped.
        kept = "".join(t for p in pages[:-1] for t in of_role(p, "body"))
        assert kept and "".join(t for p in whole for t in of_role(p, "body")).startswith(kept)


# ------------------------------------------------------------------ chrome --


def test_a_narrow_header_drops_the_year_before_the_column_name() -> None:
    """SD in the 长辈版: 永康政务 · 信息公开目录 whole, the date as 11月27日 星期五."""
    menu_ctx = type(CTX)(CTX.channel, "信息公开目录", CTX.today)
    page = renderer("sd", "elderly").render_menu(dingxi_menu(), menu_ctx)[0]
    assert of_role(page, "header") == ["永康政务 · 信息公开目录", "11月27日 星期五"]
    wide = renderer("hd", "elderly").render_menu(dingxi_menu(), menu_ctx)[0]
    assert of_role(wide, "header") == ["永康政务 · 信息公开目录", "2026年11月27日 星期五"]


def test_a_tile_drops_its_count_before_cutting_the_name() -> None:
    home = Menu(
        "永康政务", tuple(MenuEntry(f"c{i}", f"{n}（{i + 3}）", note="最新") for i, n in enumerate(["政务动态", "通知公告"])), "home"
    )
    page = renderer("sd", "elderly").render_menu(home, type(CTX)(CTX.channel, "", CTX.today))[0]
    names = [e.split(" ")[1] for e in of_role(page, "entry")]
    assert names == ["政务动态", "通知公告"] or names == ["政务动态（3）", "通知公告（4）"]
    assert not any(n.endswith("…") for n in names)
