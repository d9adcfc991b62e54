"""Fonts: found through fontconfig, a fallback chain, and a loud error instead of tofu."""

from __future__ import annotations

import pytest
from render_corpus import CTX

from pusher.errors import FontError
from pusher.interfaces import Block, Document
from renderers import make_renderer
from renderers.fonts import find_font
from renderers.settings import RenderSettings

# ₹ (U+20B9) is in DejaVu Sans but not in Noto Sans CJK SC.
DOC = Document(url="", title="汇率说明", blocks=(Block("p", "本表以₹为单位。"),))


def test_default_font_is_noto_sans_cjk_sc_via_fontconfig() -> None:
    f = find_font("Noto Sans CJK SC")
    assert f.path.endswith((".ttc", ".otf", ".ttf"))


def test_fallback_font_covers_what_the_first_lacks() -> None:
    pages = make_renderer("hd").render_item(DOC, CTX)
    assert any("₹" in ln for p in pages for ln in p.lines)


def test_without_the_fallback_the_item_fails_naming_the_character() -> None:
    settings = RenderSettings(fonts=("Noto Sans CJK SC",), bold_fonts=("Noto Sans CJK SC:bold",))
    with pytest.raises(FontError) as exc:
        make_renderer("hd", settings).render_item(DOC, CTX)
    assert exc.value.char == "₹" and "U+20B9" in str(exc.value)


def test_a_missing_primary_font_is_a_clear_problem_and_drawn_around() -> None:
    # Issue 18: a missing font used to fail the whole push; now it is skipped with its reason
    # (check-config reports it) and fontconfig's Chinese font draws the pages.
    r = make_renderer("sd", RenderSettings(fonts=("No Such Font Family Zz",)))
    (regular, _) = r.chains
    assert any("not installed" in p for p in regular.problems)
    assert r.render_item(Document(url="", title="标题", blocks=(Block("p", "正文。"),)), CTX)


def test_a_missing_fallback_is_skipped() -> None:
    r = make_renderer("sd", RenderSettings(fonts=("Noto Sans CJK SC", "No Such Font Family Zz")))
    assert r.render_item(Document(url="", title="标题", blocks=(Block("p", "正文。"),)), CTX)
