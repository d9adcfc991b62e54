"""Issue 14: attachments screened like the body; an unreadable attachment is a finding."""

from __future__ import annotations

import io

import openpyxl
from gate_samples import ID

from pusher.gate import GateSettings, build_gate, screen_with_attachments
from pusher.gate.attachments import extract
from pusher.interfaces import Action, Attachment, Block, Document


def roster_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号", "救助类别"])
    ws.append([1, "王桂兰", ID, "低保"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(f"申请人李建国，身份证号{ID}。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


DOC = Document(
    url="http://portal.test/a.html",
    title="低保对象公示",
    blocks=(Block("p", text="名单见附件。"),),
    attachments=(Attachment("名单.xlsx", "http://portal.test/1.xlsx"),),
)


def test_xlsx_roster_holds_the_item_with_its_findings() -> None:
    v = screen_with_attachments(build_gate(GateSettings()), DOC, [("名单.xlsx", roster_xlsx())])
    assert v.action == Action.HOLD
    found = {(f.detector, f.text, getattr(f, "source", "")) for f in v.findings}
    assert ("id_card", ID, "名单.xlsx") in found and ("person_name", "王桂兰", "名单.xlsx") in found


def test_docx_text_is_read() -> None:
    got = extract("a.docx", docx_bytes())
    assert ID in got.text and "李建国" in got.text


def test_unreadable_attachment_is_a_finding() -> None:
    gate = build_gate(GateSettings())
    for files in ([("a.doc", b"\xd0\xcf\x11\xe0garbage")], [("b.pdf", b"%PDF-1.4 broken")], [("c.xlsx", "HTTP 404")]):
        v = screen_with_attachments(gate, DOC, files)
        assert v.action == Action.HOLD and v.findings[0].detector == "attachment", files
        assert "unreadable attachment" in v.findings[0].note  # type: ignore[attr-defined]


def test_clean_attachment_passes() -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["项目", "金额（元）"])
    wb.active.append(["道路硬化", 120000])
    buf = io.BytesIO()
    wb.save(buf)
    v = screen_with_attachments(build_gate(GateSettings()), DOC, [("x.xlsx", buf.getvalue())])
    assert v.action == Action.PASS and v.findings == ()
