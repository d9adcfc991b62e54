"""Issue 14: the gate reads text as a viewer will — invisible and thin characters gone, styled
digits plain — and maps its findings back to the original offsets for masking."""

from __future__ import annotations

import pytest
from gate_samples import ID

from pusher.gate import GateSettings, build_gate
from pusher.gate.text import drawable, normalize
from pusher.interfaces import Action, Block, Document

HIDDEN = ["\u2063", "\u2062", "\u200e", "\u034f", "\ufe0f", "\u2009", "\u202f", "\u180e", "\u200b", "\u00ad", "\u2060", "\ufeff"]
BOLD = str.maketrans("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")


@pytest.mark.parametrize("ch", HIDDEN)
def test_invisible_character_inside_id_mobile_and_mark(ch: str) -> None:
    gate = build_gate(GateSettings(policy={"classification": "mask"}))
    for value, detector in ((ID, "id_card"), ("13812345678", "mobile"), ("机密★5年", "classification")):
        spelled = ch.join(value)
        text = f"公示如下：{spelled}。"
        found = [f for f in gate.scan(text) if f.detector == detector]
        assert len(found) == 1, (ch, value)
        f = found[0]
        assert (f.start, f.end) == (5, 5 + len(spelled)) and f.text == spelled  # original offsets
        masked = gate.mask(text, found)
        assert len(masked) == len(text) and not [g for g in gate.scan(masked) if g.detector == detector]


def test_math_and_other_script_digits() -> None:
    gate = build_gate(GateSettings())
    for spelled in (ID.translate(BOLD), "13812345678".translate(BOLD), "١٣٨١٢٣٤٥٦٧٨", "１３８ １２３４ ５６７８"):
        assert gate.scan(f"电话{spelled}"), spelled


def test_offsets_map_back() -> None:
    n = normalize("a\u2063b\u200ec")
    assert n.text == "abc" and n.span(0, 3) == (0, 5) and n.span(1, 2) == (2, 3)
    assert normalize("plain").origin is None


def test_what_airs_is_drawable() -> None:
    # U+180E and math-bold digits made pages fail to render: what goes on air has neither.
    assert drawable("机\u180e密 𝟏𝟐") == "机密 12"
    assert drawable("全角１２　，") == "全角１２　，"  # drawable characters stay as written
    gate = build_gate(GateSettings(policy={"mobile": "pass"}))
    doc = Document(url="http://x/1", title="通知\u2063", blocks=(Block("p", text="值班电话𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖"),))
    v = gate.screen(doc)
    assert v.action == Action.PASS and v.document.title == "通知" and v.document.blocks[0].text == "值班电话13812345678"
