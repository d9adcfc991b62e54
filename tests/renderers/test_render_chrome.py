"""Issue 17's page chrome and navigation, at SD, HD and FHD, on the reference report, the demo's
report and the samples: the contents page of a long item, the footer's hints (no 翻页 on a single
page, 输入页码 on a long item), the colour-key legend, the home tiles, and the 长辈版 profile
(text ≥ 1.3×, fewer lines and entries, 7:1 contrast measured from the PNG's palette)."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pytest
from PIL import Image
from render_corpus import CTX, all_docs, demo_doc, reference_doc

from pusher.interfaces import Block, Document, Menu, MenuEntry, PageContext, PageImage
from renderers import TvRenderer, make_renderer
from renderers.settings import RenderSettings
from renderers.theme import KEYS, PAIRS, PALETTE, contrast

PROFILES = ("sd", "hd", "fhd")
LEGEND = (("red", "通知公告"), ("green", "政策文件"), ("yellow", "政务动态"))
HOME = Menu(
    "永康政务",
    tuple(
        MenuEntry(f"c{i}", f"{n}（{i + 2}）", note=f"关于{n}的第{i + 1}条最新信息")
        for i, n in enumerate(["政务动态", "通知公告", "政策文件", "人事信息", "便民服务"])
    ),
    "home",
    keys=LEGEND,
)
COLUMN = Menu("通知公告", tuple(MenuEntry(f"k{i}", f"关于开展第{i}批次安全生产检查的通知", None) for i in range(14)), keys=LEGEND)


@cache
def renderer(profile: str, style: str = "standard", contents_after: int = 6) -> TvRenderer:
    r = make_renderer(profile, RenderSettings(style=style, contents_after=contents_after))  # type: ignore[arg-type]
    assert isinstance(r, TvRenderer)
    return r


@cache
def pages(profile: str, style: str = "standard", which: str = "demo") -> tuple[PageImage, ...]:
    doc = demo_doc() if which == "demo" else reference_doc()
    return tuple(renderer(profile, style).render_item(doc, CTX))


def footer(p: PageImage) -> list[str]:
    return [ln for ln, role in zip(p.lines, p.roles, strict=True) if role == "footer"]


def pixels(p: PageImage) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    im = Image.open(io.BytesIO(p.png))
    pal = im.getpalette() or []
    return np.asarray(im), [(pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]) for i in range(len(pal) // 3)]


# ---------------------------------------------------------------- contents --


@pytest.mark.parametrize("which", ["demo", "reference"])
@pytest.mark.parametrize("profile", PROFILES)
def test_a_long_item_opens_with_its_contents(profile: str, which: str) -> None:
    ps = pages(profile, which=which)
    assert len(ps) > 6
    first = ps[0]
    assert footer(first)[0].startswith("目录 第1/") and first.lines[first.roles.index("title")]
    assert first.entries and [e[0] for e in first.entries] == list(range(1, len(first.entries) + 1)) and len(first.entries) <= 9
    for number, key, *_ in first.entries:
        assert key.startswith("page-")
        n = int(key[5:])
        assert 2 <= n <= len(ps)
        # The section's heading is on the page the contents says, the first heading there or later.
        label = next(ln for ln, role in zip(first.lines, first.roles, strict=True) if role == "entry" and ln.startswith(f"{number} "))
        heading = label.split(" ", 1)[1].rsplit(" ", 1)[0].rstrip("…")
        heads = [ln for ln, role in zip(ps[n - 1].lines, ps[n - 1].roles, strict=True) if role == "head"]
        assert any(h.startswith(heading[: len(h)]) or heading.startswith(h) for h in heads), (heading, heads)
        assert label.endswith(f"第{n}页")
    # Entries in reading order, pages never going back.
    numbers = [int(e[1][5:]) for e in first.entries]
    assert numbers == sorted(numbers)
    # The body starts on the page after the contents; it opens with the title block (metadata,
    # QR code) only when the contents page carried the title alone to keep its list whole.
    k = next(i for i, p in enumerate(ps) if not p.entries)
    alone = "meta" not in first.roles
    assert ("meta" in ps[k].roles) == alone and ("扫码看原文" in ps[k].lines) == alone


def test_contents_only_past_the_limit_and_never_when_off() -> None:
    doc = reference_doc()
    off = renderer("hd", contents_after=0).render_item(doc, CTX)
    assert "目录" not in footer(off[0])[0] and not off[0].entries
    high = renderer("hd", contents_after=1000).render_item(doc, CTX)
    assert "目录" not in footer(high[0])[0]
    # The same body (the title block moves to the contents), after one or two contents pages.
    ps = pages("hd", which="reference")
    k = next(i for i, p in enumerate(ps) if not p.entries)
    assert 1 <= k <= 2 and len(ps) - k <= len(off)


# ------------------------------------------------------------------ footer --


@pytest.mark.parametrize("profile", PROFILES)
def test_footer_hints_say_only_what_the_keys_do(profile: str) -> None:
    r = renderer(profile)
    one = r.render_item(Document(url="http://x/a.html", title="公告", blocks=(Block("p", "本周六上午停水。"),)), CTX)
    assert len(one) == 1 and "翻页" not in "".join(footer(one[0])) and "返回" in "".join(footer(one[0]))
    two = r.render_item(
        Document(url="http://x/b.html", title="公告", blocks=tuple(Block("p", "本周六上午停水，请提前储水。" * 12) for _ in range(4))), CTX
    )
    assert 1 < len(two) <= 6 and all("翻页" in "".join(footer(p)) and "输入页码" not in "".join(footer(p)) for p in two)
    long = pages(profile)
    k = next(i for i, p in enumerate(long) if not p.entries)
    assert all("选择章节" in "".join(footer(p)) for p in long[:k])
    assert all("输入页码" in "".join(footer(p)) for p in long[k:])
    menu = r.render_menu(Menu("通知公告", (MenuEntry("k", "一条"),)), CTX)
    assert "翻页" not in "".join(footer(menu[0]))


@pytest.mark.parametrize("profile", PROFILES)
def test_footer_fits_the_title_safe_width_in_both_styles(profile: str) -> None:
    for style in ("standard", "elderly"):
        r = renderer(profile, style)
        for p in pages(profile, style)[:3]:
            idx, _ = pixels(p)
            m = r.m
            band = idx[m.footer_rule + m.rule : m.bottom]
            ink = np.nonzero((band != PALETTE.index["bg"]).any(axis=0))[0]
            sx = p.width / m.width
            assert ink.min() >= round(m.left * sx) - 1 and ink.max() <= round(m.right * sx) + 1


# ------------------------------------------------------------------ legend --


@pytest.mark.parametrize("profile", PROFILES)
def test_colour_keys_have_a_legend_with_their_words(profile: str) -> None:
    r = renderer(profile)
    for ps in (r.render_menu(HOME, PageContext(CTX.channel, "", CTX.today)), r.render_menu(COLUMN, CTX)):
        for p in ps:
            legend = " ".join(ln for ln, role in zip(p.lines, p.roles, strict=True) if role == "legend")
            assert "红 通知公告" in legend and "绿 政策文件" in legend and "黄 政务动态" in legend and "蓝" not in legend
            idx, pal = pixels(p)
            for colour in ("red", "green", "yellow"):
                k = PALETTE.index[f"key-{colour}"]
                assert pal[k] == KEYS[colour] and (idx == k).sum() > r.small.size**2 // 2
            assert not (idx == PALETTE.index["key-blue"]).any()
            # The legend sits under every entry: no entry rectangle reaches into it.
            ys, _ = np.nonzero(idx == PALETTE.index["key-red"])
            assert max(y + h for *_, y, _w, h in p.entries) <= ys.min()
    plain = r.render_menu(Menu("通知公告", COLUMN.entries), CTX)[0]
    assert "legend" not in plain.roles


# ------------------------------------------------------------------- home --


@pytest.mark.parametrize("profile", PROFILES)
def test_home_tiles_carry_the_newest_title_and_use_the_page(profile: str) -> None:
    r = renderer(profile)
    ctx = PageContext(CTX.channel, "", CTX.today)
    ps = r.render_menu(HOME, ctx)
    lines = [ln for p in ps for ln, role in zip(p.lines, p.roles, strict=True) if role == "entry"]
    assert len(lines) == 5 and all("最新信息" in ln or "…" in ln for ln in lines)
    few = r.render_menu(Menu("永康政务", HOME.entries[:2], "home"), ctx)[0]
    many = ps[0]
    assert few.entries[0][5] > many.entries[0][5], "fewer tiles are larger"
    m = r.m
    bottom = max(y + h for *_, y, _w, h in many.entries)
    assert bottom >= m.content_bottom - (m.content_bottom - m.content_top) // 3, "the tiles fill the page"


# ---------------------------------------------------------------- elderly --


@pytest.mark.parametrize("profile", PROFILES)
def test_elderly_text_is_larger_with_fewer_lines_and_entries(profile: str) -> None:
    std, old = renderer(profile), renderer(profile, "elderly")
    assert old.body.size >= 1.3 * std.body.size and old.small.size >= 1.3 * std.small.size - 1
    assert old.m.line / old.body.size >= std.m.line / std.body.size
    body = [sum(1 for role in p.roles if role == "body") for p in pages(profile)]
    body_old = [sum(1 for role in p.roles if role == "body") for p in pages(profile, "elderly")]
    assert max(body_old) < max(body)
    menus = [len(p.entries) for p in std.render_menu(COLUMN, CTX)]
    menus_old = [len(p.entries) for p in old.render_menu(COLUMN, CTX)]
    assert max(menus_old) <= 6 < max(menus) or max(menus_old) < max(menus)
    tiles = [len(p.entries) for p in old.render_menu(HOME, PageContext(CTX.channel, "", CTX.today))]
    assert max(tiles) <= 4


@pytest.mark.parametrize("profile", PROFILES)
def test_elderly_contrast_is_seven_to_one_measured_from_the_palette(profile: str) -> None:
    """Every text ink of the page, as its PNG's palette stores it, against the ground it is drawn
    on: ≥ 7:1 (WCAG AAA). Only the theme's indices appear on text pages, and secondary text is
    drawn in the main ink."""
    r = renderer(profile, "elderly")
    ps = [*pages(profile, "elderly")[:4], *r.render_menu(HOME, PageContext(CTX.channel, "", CTX.today)), *r.render_menu(COLUMN, CTX)]
    inks = set()
    for p in ps:
        idx, pal = pixels(p)
        used = set(np.unique(idx).tolist())
        assert used <= set(range(len(PALETTE.colors)))
        for ink, ground in PAIRS:
            i, g = PALETTE.index[ink], PALETTE.index[ground]
            if i in used:
                assert contrast(pal[i], pal[g]) >= 7.0, (ink, ground)
                inks.add(ink)
        assert PALETTE.index["dim"] not in used, "the 长辈版 draws no text in the dimmer ink"
    assert {"fg", "accent"} <= inks


def test_all_samples_render_in_the_elderly_style() -> None:
    r = renderer("sd", "elderly")
    for d in all_docs():
        assert r.render_item(d, CTX)
