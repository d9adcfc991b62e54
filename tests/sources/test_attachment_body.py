"""Issue 16: a page that only says 详见附件 airs its attachment's text, marked with the file it came
from, screened as body. On the demo portal served over 127.0.0.1: the 招标公告汇总 page (an XLSX
behind downfile.jsp) and the 印发 notice (a DOCX beside it); a page that says enough keeps its body."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from sqlmodel import select

from pusher.gate import GateSettings, build_gate, screen_with_attachments
from pusher.gate.attachment_body import HEADING, blocks_of, wants_attachment_body, with_attachment_body
from pusher.gate.attachments import extract
from pusher.interfaces import Action, Attachment, Block, Document
from pusher.runtime import Runtime
from pusher.stages.poll import poll_source
from pusher.stages.screen import screen_items
from pusher.states import ItemState
from pusher.store.codec import document_of
from pusher.store.models import Item

TENDERS = "永康市2026年11月建设工程招标公告汇总"
NOTICE = "永康市人民政府办公室关于印发2026年政务公开工作要点的通知"


def _item(rt: Runtime, title: str) -> Item:
    with rt.store.read() as db:
        return db.exec(select(Item).where(Item.title == title)).one()


def test_demo_attachments_become_the_body(demo_rt: Runtime) -> None:
    for name in ("keyareas", "xxgk", "notices"):
        poll_source(demo_rt, name)
    screen_items(demo_rt)

    tenders = _item(demo_rt, TENDERS)
    doc = document_of(tenders)
    kinds = [(b.kind, b.text) for b in doc.blocks]
    # The page's own two lines first, then the heading naming the file, then its rows as a table.
    assert doc.blocks[0].text.endswith("详见附件。")
    assert ("h", HEADING + "2026年11月建设工程招标公告汇总表.xlsx") in kinds
    table = next(b for b in doc.blocks if b.kind == "table" and b.rows[0][0] == "序号")
    assert table.rows[0] == ("序号", "项目名称", "招标人", "估算金额（万元）", "公告日期")
    assert ("1", "城西新区道路提升改造工程", "市交通投资集团", "8600", "2026-11-13") in table.rows
    assert "城西新区道路提升改造工程" in tenders.text  # searched and hashed text follows the body
    aired = document_of(tenders, screened=True)
    assert any(b.kind == "table" and "城西新区道路提升改造工程" in b.rows[1] for b in aired.blocks)

    notice = _item(demo_rt, NOTICE)
    assert notice.state in (ItemState.SCREENED, ItemState.HELD)
    ntext = document_of(notice, screened=True).text
    assert HEADING + "永康市2026年政务公开工作要点.docx" in ntext
    assert "围绕优化营商环境，加大政策公开解读力度" in ntext

    # A notice with a body of its own is left as the portal published it.
    with demo_rt.store.read() as db:
        others = db.exec(select(Item).where(Item.source == "notices")).all()
    assert others and all(HEADING not in i.text for i in others)


def test_screening_twice_does_not_append_twice(demo_rt: Runtime) -> None:
    poll_source(demo_rt, "keyareas")
    screen_items(demo_rt)
    before = _item(demo_rt, TENDERS)
    with demo_rt.store.write() as db:
        it = db.get(Item, before.id)
        assert it is not None
        it.state = ItemState.NEW  # as if a restart left it unscreened
        db.add(it)
    screen_items(demo_rt)
    after = _item(demo_rt, TENDERS)
    assert after.body == before.body and after.text.count(HEADING) == 1


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


POINTER = Document(
    url="http://portal.test/a.html",
    title="补助名单公示",
    blocks=(Block("p", "具体名单详见附件。"), Block("p", "附件：名单.xlsx")),
    attachments=(Attachment("名单.xlsx", "http://portal.test/1.xlsx"),),
)


def test_only_a_pointer_wants_the_attachment() -> None:
    assert wants_attachment_body(POINTER)
    long_body = Document(
        url="u", title="t", blocks=(Block("p", "详见附件。" + "现将有关事项通知如下。" * 30),), attachments=POINTER.attachments
    )
    assert not wants_attachment_body(long_body)
    assert not wants_attachment_body(Document(url="u", title="t", blocks=(Block("p", "详见附件。"),)))  # no attachment listed
    assert not wants_attachment_body(Document(url="u", title="t", blocks=(Block("p", "今天天气很好。"),), attachments=POINTER.attachments))


def test_unreadable_or_unfetched_attachments_add_nothing() -> None:
    assert with_attachment_body(POINTER, [("名单.xlsx", "HTTP 404")]) is POINTER
    assert with_attachment_body(POINTER, [("名单.xlsx", b"\xd0\xcf\x11\xe0garbage")]) is POINTER


def test_attachment_body_is_screened_and_masked_as_body(tmp_path: Path) -> None:
    from pusher.gate.detectors.idcard import check_digit

    ID = "33078419900307123" + check_digit("33078419900307123")
    data = _xlsx([["序号", "姓名", "身份证号"], [1, "王桂兰", ID]])
    full = with_attachment_body(POINTER, [("名单.xlsx", data)])
    assert full.blocks[:2] == POINTER.blocks and full.blocks[2] == Block("h", HEADING + "名单.xlsx")
    v = screen_with_attachments(build_gate(GateSettings()), full, [("名单.xlsx", data)])
    assert v.action == Action.HOLD  # an attachment's finding holds the item
    assert ID not in v.document.text  # and the body that would air is masked


def test_docx_paragraphs_and_tables() -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("一、工作目标")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(1, 0).text, t.cell(1, 1).text = "项目", "金额", "道路", "100"
    buf = io.BytesIO()
    d.save(buf)
    blocks = blocks_of(extract("a.docx", buf.getvalue()))
    assert blocks == [Block("p", "一、工作目标"), Block("table", rows=(("项目", "金额"), ("道路", "100")), header_rows=1)]
