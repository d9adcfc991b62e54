"""The gate as the pipeline sees it: policy, strongest action, masking of documents, allowlist,
keyword lists reloaded from disk, configuration errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gate_samples import CARD16, ID

from pusher.config.settings import parse_settings
from pusher.errors import ConfigError, GateError
from pusher.gate import GateSettings, build_gate, screened_text
from pusher.interfaces import Action, Block, Document


def doc(*paras: str, title: str = "关于公示的通知", table: tuple[tuple[str, ...], ...] = ()) -> Document:
    blocks = [Block("p", text=p) for p in paras]
    if table:
        blocks.append(Block("table", rows=table, header_rows=1))
    return Document(url="http://portal.test/art/1.html", title=title, blocks=tuple(blocks), doc_no="永政发〔2012〕12号")


def test_clean_document_passes_unchanged() -> None:
    d = doc("本年报根据《政府信息公开条例》编制。索引号：330784ZF060000/2013-13135", "永政发〔2012〕12号，金额1234567.89元，2013-03-29。")
    s = build_gate(GateSettings()).screen(d)
    assert s.action == Action.PASS and s.findings == () and s.document is d


def test_id_is_masked_and_held_everywhere_it_appears() -> None:
    d = doc(f"张三，身份证号{ID}。", title=f"公示 {ID}", table=(("姓名", "身份证号"), ("李四", ID)))
    s = build_gate(GateSettings()).screen(d)
    assert s.action == Action.HOLD
    assert [f.detector for f in s.findings if f.detector == "id_card"] == ["id_card"] * 3
    # Issue 14: the names beside the ID, in the sentence and in the table row, are masked too.
    assert [f.text for f in s.findings if f.detector == "person_name"] == ["张三", "李四"]
    masked = ID[:6] + "********" + ID[-4:]
    assert s.document.title == f"公示 {masked}"
    assert s.document.blocks[0].text == f"张*，身份证号{masked}。"
    assert s.document.blocks[1].rows == (("姓名", "身份证号"), ("李*", masked))
    assert ID not in screened_text(s.document)
    # Offsets are into title + "\n" + Document.text.
    text = screened_text(d)
    assert all(text[f.start : f.end] == f.text for f in s.findings)


def test_strongest_action_wins() -> None:
    gate = build_gate(GateSettings(policy={"landline": "mask"}))
    assert gate.screen(doc("电话0579-87654321")).action == Action.MASK
    assert gate.screen(doc("电话0579-87654321", "手机13812345678")).action == Action.HOLD
    assert gate.screen(doc("秘密★1年", "手机13812345678", "电话0579-87654321")).action == Action.BLOCK


def test_mask_only_policy_masks_without_holding() -> None:
    s = build_gate(GateSettings(policy={"mobile": "mask", "person_name": "mask"})).screen(doc("联系人：王五 13812345678"))
    assert s.action == Action.MASK
    assert s.document.blocks[0].text == "联系人：王* 138****5678"


def test_hold_does_not_mask_and_off_does_not_run() -> None:
    s = build_gate(GateSettings(policy={"bank_card": "hold"})).screen(doc(f"账号{CARD16}"))
    assert s.action == Action.HOLD and s.document.blocks[0].text == f"账号{CARD16}"
    s = build_gate(GateSettings(policy={"bank_card": "off"})).screen(doc(f"账号{CARD16}"))
    assert s.action == Action.PASS and s.findings == ()


def test_allowlisted_office_contacts_pass_untouched() -> None:
    settings = GateSettings(allow=("0579-87101077", "GKB1416@126.com", "+86 138 0000 1111"))
    d = doc("联系电话：（0579）87101077，电子邮箱：gkb1416@126.com，值班手机13800001111。", "私人邮箱zhang@qq.com")
    s = build_gate(settings).screen(d)
    assert [(f.detector, f.text) for f in s.findings] == [("email", "zhang@qq.com")]
    assert "gkb1416@126.com" in s.document.blocks[0].text and "13800001111" in s.document.blocks[0].text


def test_already_masked_numbers_pass() -> None:
    s = build_gate(GateSettings()).screen(doc("身份证号330784********1234，手机138****5678，卡号6222 **** **** 0123"))
    assert s.action == Action.PASS and s.findings == ()


def test_screening_the_screened_document_finds_nothing_to_mask() -> None:
    gate = build_gate(GateSettings(policy={"email": "mask", "landline": "mask"}))
    first = gate.screen(doc(f"{ID} 13812345678 {CARD16} 0579-87654321 zhang@qq.com"))
    again = gate.screen(first.document)
    assert again.findings == ()


def test_classification_blocks() -> None:
    s = build_gate(GateSettings()).screen(doc("各乡镇人民政府：", title="秘密★1年 关于某事项的通知"))
    assert s.action == Action.BLOCK and s.findings[0].detector == "classification"


def test_keyword_lists_reload_without_restart(tmp_path: Path) -> None:
    kw = tmp_path / "keywords"
    kw.mkdir()
    (kw / "a.txt").write_text("测试信息\n", encoding="utf-8")
    gate = build_gate(GateSettings(keyword_files=(kw,)))
    d = doc("这是一条测试信息，请勿外传。")
    assert [f.text for f in gate.screen(d).findings] == ["测试信息"]
    (kw / "b.txt").write_text("请勿外传\n", encoding="utf-8")  # a new file in the directory
    assert [f.text for f in gate.screen(d).findings] == ["测试信息", "请勿外传"]
    (kw / "a.txt").write_text("# emptied\n", encoding="utf-8")
    os.utime(kw / "a.txt", ns=(1, 1))  # a different mtime even on coarse clocks
    assert [f.text for f in gate.screen(d).findings] == ["请勿外传"]
    assert gate.screen(d).action == Action.HOLD


def test_missing_keyword_list_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(GateError):
        build_gate(GateSettings(keyword_files=(tmp_path / "nope.txt",)))
    f = tmp_path / "kw.txt"
    f.write_text("测试信息\n", encoding="utf-8")
    gate = build_gate(GateSettings(keyword_files=(f,)))
    f.unlink()
    with pytest.raises(GateError, match="does not exist"):
        gate.screen(doc("正文"))


def test_disabled_gate_passes_everything() -> None:
    s = build_gate(GateSettings(enabled=False)).screen(doc(f"秘密★ {ID}"))
    assert s.action == Action.PASS


def test_config_rejects_unknown_detector_and_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gate\.policy"):
        parse_settings({"gate": {"policy": {"passport": "mask"}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"gate\.policy\.mobile"):
        parse_settings({"gate": {"policy": {"mobile": "shred"}}}, tmp_path)
    s = parse_settings({"gate": {"keyword_files": ["keywords"], "policy": {"landline": "mask"}}}, tmp_path)
    assert s.gate.keyword_files == (tmp_path / "keywords",) and s.gate.rules()["landline"] == "mask"


def test_example_keyword_lists_load() -> None:
    root = Path(__file__).resolve().parents[2] / "config" / "keywords"
    gate = build_gate(GateSettings(keyword_files=(root,)))
    assert gate.screen(doc("本文为测试信息，请勿转发")).action == Action.HOLD


def test_public_surface() -> None:
    import pusher.gate

    assert set(pusher.gate.__all__) == {
        "DEFAULT_POLICY", "DETECTORS", "Detector", "DetectorGate", "Gate", "GateFinding", "GateSettings", "PassGate",
        "build_gate", "contact_key", "fold", "screen_with_attachments", "screened_text", "strongest",
    }  # fmt: skip
    assert all(hasattr(pusher.gate, name) for name in pusher.gate.__all__)
