"""Pages a typesetter would sign (issue 17), at SD, HD and FHD, on the reference report, the
demo portal's report (numbered headings, the 4-row statistics table), the long Dingxi table and
the portal samples: pagination (headings, tables, page fill), punctuation compression checked
from ``layout.json``, headings recognised, menu titles broken between words.

The punctuation oracle is written out here from clreq §3.1.6 / GB/T 15834, not imported.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import jieba
import numpy as np
import pytest
from PIL import Image
from render_corpus import CTX, all_docs, demo_doc, reference_doc, table_doc

from pusher.interfaces import Document, Menu, MenuEntry, PageImage
from renderers import TvRenderer, make_renderer
from renderers.chrome import _entry_lines
from renderers.files import write_pages
from renderers.fonts import face
from renderers.layout import Box
from renderers.linebreak import normalize_punctuation
from renderers.settings import RenderSettings
from renderers.theme import PALETTE
from renderers.tv import ItemPlan

PROFILES = ("sd", "hd", "fhd")
# Marks with an empty right half in mainland fonts (pause and closing), and with an empty left half.
RIGHT_BLANK = set("，。、；：）》」』】〕〗”’")
LEFT_BLANK = set("（《「『【〔〖“‘")


@cache
def renderer(profile: str) -> TvRenderer:
    r = make_renderer(profile)
    assert isinstance(r, TvRenderer)
    return r


def docs() -> list[Document]:
    return [demo_doc(), *all_docs()]


@cache
def plans(profile: str) -> tuple[tuple[Document, ItemPlan], ...]:
    r = renderer(profile)
    return tuple((d, r.plan_item(d)) for d in docs())


def capacity(r: TvRenderer, plan: ItemPlan, k: int) -> int:
    area = r.m.content_bottom - r.m.content_top
    # The title block is on the first body page, unless a contents page carries it.
    return area - plan.head_h if k == 0 and plan.head_on_body else area


def first_box(page: list[Box]) -> Box | None:
    return next((b for b in page if b.kind != "gap"), None)


@pytest.mark.parametrize("profile", PROFILES)
def test_no_heading_ends_a_page(profile: str) -> None:
    for doc, plan in plans(profile):
        for k, page in enumerate(plan.pages[:-1]):
            if not page:
                continue  # a first page that is the title block only (its table is on the next)
            last = [b for b in page if b.kind != "gap"][-1]
            assert not (last.kind == "line" and last.style.startswith("head")), f"{doc.title} page {k + 1} ends with heading {last.text!r}"


@pytest.mark.parametrize("profile", PROFILES)
def test_headings_recognised_and_set_apart(profile: str) -> None:
    """The demo's 一、 and （一） paragraphs are headings: bold styles, no indent, space before."""
    plan = dict((d.url, p) for d, p in plans(profile))[demo_doc().url]
    heads = [b for page in plan.pages for b in page if b.kind == "line" and b.style.startswith("head")]
    texts = "".join(b.text for b in heads)
    for h in ("一、政府信息公开工作开展情况", "六、主要问题和改进措施", "（一）市政府门户网站。", "（四）努力夯实基础性工作。"):
        assert h in texts
    assert "成立由" not in texts, "a paragraph with a run-in lead is not a heading"
    assert {b.style for b in heads} == {"head1", "head2"} and all(b.indent == 0 for b in heads)
    r = renderer(profile)
    assert r.styles["head1"].face.size > r.body.size and r.styles["head1"].ink != r.styles["body"].ink
    pages = r.render_item(demo_doc(), CTX)
    assert sum(p.roles.count("head") for p in pages) == len(heads)


def _tables(plan: ItemPlan) -> dict[int, list[tuple[int, Box]]]:
    out: dict[int, list[tuple[int, Box]]] = {}
    for k, page in enumerate(plan.pages):
        for b in page:
            if b.kind == "row" and b.row is not None and not b.row.header:
                out.setdefault(b.row.table, []).append((k, b))
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_tables_not_split_when_they_fit_and_no_fragment_under_three_rows(profile: str) -> None:
    r = renderer(profile)
    area = r.m.content_bottom - r.m.content_top
    seen_small = False
    for doc, plan in plans(profile):
        for t, rows in _tables(plan).items():
            pages = sorted({k for k, _ in rows})
            whole = sum(b.height for _, b in rows) + sum(b.height for b in plan.pages[pages[0]] if b.row is not None and b.row.header)
            if whole <= area:
                seen_small = True
                assert len(pages) == 1, f"{doc.title}: table {t} fits a page but is split over {pages}"
                continue
            for k in pages:
                n = sum(1 for kk, _ in rows if kk == k)
                if n >= 3:
                    continue
                # Allowed only when three rows do not fit there: the page is full.
                page = plan.pages[k]
                used = sum(b.height for b in page)
                nxt = next((b for kk, b in rows if kk > k), None)
                assert nxt is not None and used + nxt.height > capacity(r, plan, k), f"{doc.title} p{k + 1}: {n} rows of table {t}"
    assert seen_small  # the demo's statistics table


@pytest.mark.parametrize("profile", PROFILES)
def test_demo_statistics_table_whole_on_one_page(profile: str) -> None:
    plan = dict((d.url, p) for d, p in plans(profile))[demo_doc().url]
    ((_, rows),) = _tables(plan).items()
    assert len(rows) == 4 and len({k for k, _ in rows}) == 1


@pytest.mark.parametrize("profile", PROFILES)
def test_no_page_under_half_full_without_cause(profile: str) -> None:
    r = renderer(profile)
    for doc, plan in plans(profile):
        for k, page in enumerate(plan.pages[:-1]):
            used = sum(b.height for b in page)
            if used * 2 >= capacity(r, plan, k):
                continue
            nxt = first_box(plan.pages[k + 1])
            assert nxt is not None and nxt.kind in ("row", "image"), f"{doc.title} page {k + 1} is {used}/{capacity(r, plan, k)} full"


def _expected_marks(line: str) -> set[int]:
    """Columns clreq compresses on a set line (adjacent marks, the line's edges)."""
    out = set()
    for i in range(len(line) - 1):
        if line[i] in RIGHT_BLANK and line[i + 1] in RIGHT_BLANK | LEFT_BLANK:
            out.add(i)
        elif line[i] in LEFT_BLANK and line[i + 1] in LEFT_BLANK:
            out.add(i + 1)
    if line and line[0] in LEFT_BLANK:
        out.add(0)
    if line and line[-1] in RIGHT_BLANK:
        out.add(len(line) - 1)
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_punctuation_compression_from_layout_json(profile: str, tmp_path: Path) -> None:
    r = renderer(profile)
    checked = 0
    for n, doc in enumerate(docs()):
        path = write_pages(r.render_item(doc, CTX), tmp_path / str(n), r.profile)
        for page in json.loads(path.read_text(encoding="utf-8"))["pages"]:
            marks = {(ln, col): em for ln, col, em in page.get("marks", [])}
            assert len(page["roles"]) == len(page["lines"])
            for ln, (text, role) in enumerate(zip(page["lines"], page["roles"], strict=True)):
                if role not in ("body", "head"):
                    continue
                for col in _expected_marks(text):
                    assert (ln, col) in marks, f"{text!r}: {text[col]!r} at {col} not compressed"
                    assert marks[(ln, col)] <= 0.55
                    checked += 1
                for (mln, col), em in marks.items():
                    if mln == ln:
                        assert em >= 0.45, f"{text!r}: {text[col]!r} squeezed below half width"
    assert checked > 200


def test_the_issue_example_is_compressed() -> None:
    """（以下简称“《条例》”）编制: “《 and 》”） each take 1.5 em, not 2 and 3."""
    r = renderer("hd")
    pages = r.render_item(demo_doc(), CTX)
    p = next(p for p in pages if any("以下简称“《条例》”）" in t for t in p.lines))  # after the contents page
    ln = next(i for i, t in enumerate(p.lines) if "以下简称“《条例》”）" in t)
    col = p.lines[ln].index("“《")
    got = {c for li, c, _ in p.marks if li == ln}
    assert {col + 1, col + 4, col + 5} <= got  # 《 (left half), 》 and ” (right half)
    assert col + 6 not in got  # ） before 编 keeps its space


def test_opening_bracket_at_line_start_is_half_width() -> None:
    r = renderer("hd")
    for doc in docs():
        for page in r.render_item(doc, CTX):
            for ln, (t, role) in enumerate(zip(page.lines, page.roles, strict=True)):
                if role == "body" and t[0] in LEFT_BLANK:
                    assert (ln, 0, 0.5) in page.marks


def menu_labels() -> list[str]:
    titles = [t for t, _ in table_doc().blocks[1].rows[1:]]
    return [*titles, "关于做好若干问题处理工作的通知", "永康市人民政府关于进一步加强和改进政府信息公开工作若干意见的通知"]


@pytest.mark.parametrize("profile", PROFILES)
def test_menu_titles_break_between_words(profile: str) -> None:
    r = renderer(profile)
    widths = {r.m.content_width - 5 * r.m.body, r.m.content_width // 2}
    broken = 0
    for width in widths:
        for label in menu_labels():
            lines = _entry_lines(label, width, r.body)
            assert len(lines) <= 2
            if len(lines) == 2 and not lines[1].endswith("…"):
                assert "".join(lines) == label  # no ellipsis unless it needed more than two lines
            starts, pos = set(), 0
            for w in jieba.lcut(label, HMM=False):
                starts.add(pos)
                pos += len(w)
            cut = len(lines[0])
            if len(lines) > 1:
                broken += 1
                wide = "\u4e00" <= label[cut - 1] <= "\u9fff" and "\u4e00" <= label[cut] <= "\u9fff"
                assert not wide or cut in starts, f"{label!r} broken inside a word: {lines}"
    assert broken > 10


def test_menu_title_lines_are_remembered_by_the_face_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column drawn again (one new notice) breaks only the titles it has not met: the same
    lines come back, and the face's memory never grows past its bound."""
    from renderers import chrome

    r = renderer("hd")
    f = face(r.body.chain, r.body.size)  # a face of its own, with an empty memory
    width = r.m.content_width // 2
    labels = menu_labels()
    first = [_entry_lines(t, width, f) for t in labels]
    assert first == [chrome._break_entry(t, width, f, 2) for t in labels]
    [known] = f.memo.values()
    assert [_entry_lines(t, width, f) for t in labels] == first and len(known) == len(set(labels))
    long = "关于" + "永康市人民政府关于进一步加强和改进政府信息公开工作若干意见" * 3 + "的通知"  # cut: kept as text
    assert _entry_lines(long, width, f)[-1].endswith("…") and _entry_lines(long, width, f) == chrome._break_entry(long, width, f, 2)
    monkeypatch.setattr(chrome, "ENTRY_LINES_CACHE", 3)
    for t in labels:
        _entry_lines(t + "。", width, f)
    assert 0 < len(known) <= 3


def test_menu_render_records_entries() -> None:
    r = renderer("sd")
    entries = tuple(MenuEntry(f"k{i}", t) for i, t in enumerate(menu_labels()[:5]))
    pages = r.render_menu(Menu("信息公开目录", entries), CTX)
    assert sum(p.roles.count("entry") for p in pages) == 5 and all(len(p.roles) == len(p.lines) for p in pages)


def test_reference_report_unchanged_in_words() -> None:
    """Typesetting moves and squeezes text, never loses it: every body character is drawn once."""
    r = renderer("hd")
    doc = reference_doc()
    drawn = "".join(t for p in r.render_item(doc, CTX) for t, role in zip(p.lines, p.roles, strict=True) if role in ("body", "head"))
    body = normalize_punctuation("".join(b.text for b in doc.blocks)).replace(" ", "").replace("\u3000", "")
    assert drawn.replace(" ", "").replace("\u3000", "") == body


def _glyph_aspect(profile: str, aspect: str, ch: str) -> tuple[float, PageImage]:
    """Width/height of ``ch``'s ink as the set shows it (stored width × pixel aspect), drawn large
    (the renderer's face at 8× body size, its SD squeeze) so a fringe pixel is under 1%."""
    r = make_renderer(profile, RenderSettings(aspect=aspect))
    assert isinstance(r, TvRenderer)
    big = face(r.body.chain, r.m.body * 8, r.flicker_safe, r.xscale)
    c = r._canvas(CTX)
    c.text(r.m.left, r.m.body * 9, ch, big, "accent")
    page = c.finish()
    a = np.asarray(Image.open(io.BytesIO(page.png)))[r.m.content_top : r.m.content_bottom]
    ys, xs = np.nonzero(a != PALETTE.index["bg"])
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    return w * page.pixel_aspect[0] / page.pixel_aspect[1] / h, page


@pytest.mark.parametrize("aspect", ["4:3", "16:9"])
def test_sd_glyphs_square_on_the_declared_display_aspect(aspect: str) -> None:
    for ch in ("口", "回", "田"):
        ref, _ = _glyph_aspect("sd", "", ch)  # the same size and flicker-safe strokes, square pixels
        got, page = _glyph_aspect("sd", aspect, ch)
        assert page.width == 720 and page.height == 576
        assert page.pixel_aspect == {"4:3": (16, 15), "16:9": (64, 45)}[aspect]
        assert abs(got / ref - 1) < 0.02, f"{ch} at SD {aspect}: {got:.3f} vs {ref:.3f}"


def test_sd_anamorphic_pages_keep_the_contract() -> None:
    """Anamorphic SD pages: 720×576 4-bit PNGs, menu boxes inside the stored image."""
    r = make_renderer("sd", RenderSettings(aspect="16:9"))
    pages = [
        *r.render_item(demo_doc(), CTX),
        *r.render_menu(Menu("信息公开目录", tuple(MenuEntry(str(i), t) for i, t in enumerate(menu_labels()))), CTX),
    ]
    for p in pages:
        im = Image.open(io.BytesIO(p.png))
        assert im.size == (720, 576) and p.pixel_aspect == (64, 45)
        assert all(x >= 0 and x + w <= 720 for _, _, x, _, w, _ in p.entries)
    assert make_renderer("sd").render_item(demo_doc(), CTX)[0].pixel_aspect == (1, 1)  # default: square, as before
