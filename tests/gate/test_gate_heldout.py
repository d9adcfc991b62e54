"""Issue 14, held out: spellings and placements the detectors (and bench/gate_eval.py's generator)
were not written around — other digit groupings, mistyped lengths, province-only regions, an ID
typed into a spreadsheet's number cell, rarer surnames, names glued to the text before them —
and the look-alikes that must still pass."""

from __future__ import annotations

import io

import openpyxl
import pytest
from gate_samples import card, id18

from pusher.gate import GateSettings, build_gate
from pusher.gate.attachments import extract

GATE = build_gate(GateSettings())
ID = id18("33078419900307123")
ID_WRONG = ID[:-1] + ("0" if ID[-1] != "0" else "1")
CARD = card("622202123456789012")


def found(text: str, detector: str) -> list[str]:
    return [f.text for f in GATE.scan(text) if f.detector == detector]


@pytest.mark.parametrize(
    "text",
    [
        f"身份证号：{ID[:4]} {ID[4:8]} {ID[8:12]} {ID[12:16]} {ID[16:]}。",  # 4-4-4-4-2, as a card is written
        f"身份证号：{ID[:3]}-{ID[3:6]}-{ID[6:10]}-{ID[10:14]}-{ID[14:]}",  # 3-3-4-4-4
        f"公民身份号码 {ID[:2]} {ID[2:4]} {ID[4:6]} {ID[6:14]} {ID[14:]}",  # 2-2-2-8-4
        f"身份证号：{ID_WRONG[:17]}。",  # a digit left out (17)
        f"身份证号码为{ID_WRONG}7，请核对。",  # one typed twice (19)
        f"身份证号：{ID[:10]}1341{ID[14:]}",  # a 13th month: the label still says what it is
        "110000199001011235",  # a province-only region, check digit right, no label
        "130000 1978 0214 5890",  # … check digit wrong, but written in an ID's groups
        "身份证号码510000580312476）",  # an old 15-digit one under a province-only region
        f"身份证号：{ID.replace('0', '０')}",  # full-width digits
        f"身份证号：{ID[:6]}\u2063{ID[6:]}",  # an invisible separator
    ],
)
def test_odd_ids_are_found(text: str) -> None:
    assert found(text, "id_card"), text


@pytest.mark.parametrize(
    "text",
    [
        "订单号：110000199001011235",
        "统一社会信用代码：12330784002580123X",
        "合同编号：330784199003071230",
        "编号：110000199001011236",  # province-only, wrong check digit, no label, plain: not enough
        "营业执照注册号：510000580312476",
        "身份证号：330784********1234",
    ],
)
def test_lookalikes_still_pass(text: str) -> None:
    assert not found(text, "id_card"), text


def test_id_typed_into_a_number_cell_is_read_as_excel_shows_it() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "类别"])
    ws.append(["钮建国", float(ID), "低保"])  # Excel keeps it as a double: 3.30784199003071e+17
    buf = io.BytesIO()
    wb.save(buf)
    got = extract("名单.xlsx", buf.getvalue())
    assert "e+17" not in got.text
    findings = GATE.scan(got.text, got.rows)
    assert {f.detector for f in findings} >= {"id_card", "person_name"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (f"钮建国，身份证号：{ID}。", "钮建国"),  # a rarer surname
        (f"荀丽的身份证号码{ID}已核对。", "荀丽"),
        (f"关于低保对象的公示王娟的银行卡{CARD}已登记。", "王娟"),  # glued to the title before it
        (f"公告李淑华，身份证号：{ID}。", "李淑华"),
        (f"平丽娟，身份证号：{ID}。", "平丽娟"),  # jieba cuts it 平丽 / 娟
        ("张三、李四、王五因病住院治疗。", "李四"),
        (f"收款人：萧彬，开户行：县农商银行，账号：{CARD}。", "萧彬"),
    ],
)
def test_held_out_names_beside_personal_data(text: str, name: str) -> None:
    assert name in found(text, "person_name"), text


@pytest.mark.parametrize(
    "text",
    [
        f"申请人（身份证号{ID}）已提交材料。",  # 申请人: a role jieba tags nr
        f"开户行：戴硕电子科技有限公司，账号：{CARD}。",  # a firm named like a person
        f"住址：浙江省雷县魏都北镇路8号，身份证号{ID}。",
        "县残联理事长钟桂花出席低保工作会议并讲话。",  # an official in her role
        "请黄玉英同志于21日前回电13812345678确认。",
        "王杰书记带队走访慰问困难户和残疾人家庭。",  # jieba cuts 王杰书 / 记
        "定西市“春节”文明祭祀倡议书，联系电话：13812345678。",
        "文号：永政发〔2020〕12号，咨询电话：0579-87101077（张洁）。",  # 12号 is not a house number
        f"索引号：330784ZF000001/2020-00001，身份证号：{ID}",
        f"土地征用、安全生产、食品安全等领域，身份证号{ID}",
    ],
)
def test_not_private_names(text: str) -> None:
    assert not found(text, "person_name"), (text, found(text, "person_name"))


def test_a_rounded_account_under_its_column_header_is_held() -> None:
    from pusher.gate import screen_with_attachments
    from pusher.interfaces import Action, Block, Document

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "银行账号", "类别"])
    ws.append([1, "董金凤", float(CARD), "特困"])  # 19 digits as a double: 6222021234567890000, Luhn broken
    buf = io.BytesIO()
    wb.save(buf)
    doc = Document(url="http://portal.test/a.html", title="特困人员名单", blocks=(Block("p", text="见附件。"),))
    verdict = screen_with_attachments(GATE, doc, [("名单.xlsx", buf.getvalue())])
    cards = [f for f in verdict.findings if f.detector == "bank_card"]
    assert verdict.action is Action.HOLD and cards and "银行账号" in getattr(cards[0], "note", "")


def test_a_pdf_roster_line_with_spaced_cells() -> None:
    assert "董金凤" in found(f"1  董金凤  {ID}  13812345678  低保", "person_name")
