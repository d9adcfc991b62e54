"""Issue 14: the national inspection's content checks — near misses of registered proper nouns
and leaders' names (same pinyin, similar shape), serious typos, outdated formulations from the
day they went out of force, wrong or expired titles — held by default, configurable."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from pusher.gate import GateSettings, build_gate
from pusher.gate.detectors.content import SHIPPED, alike, read_checks
from pusher.interfaces import Action, Block, Document

LEADERS = {"leaders": [{"name": "杜家豪", "title": "县委副书记、县长", "since": "2021-03-01", "until": "2026-01-31"}]}
GATE = build_gate(GateSettings(content={**LEADERS, "terms": ["永康市人民政府"]}))
DAY = date(2026, 6, 1)


def notes(text: str, when: date = DAY) -> list[tuple[str, str]]:
    return [(f.text, getattr(f, "note", "")) for f in GATE.scan(text, when=when) if f.detector == "content"]


@pytest.mark.parametrize(
    ("text", "wrong", "why"),
    [
        ("杜家毫县长出席会议。", "杜家毫", "near miss of 杜家豪 (same pinyin)"),
        ("永康市人民攻府发布通知。", "永康市人民攻府", "near miss of 永康市人民政府"),  # 攻/政: shape
        ("应急管里部印发通知。", "应急管里部", "near miss of 应急管理部 (same pinyin)"),
        ("中华人民共合国成立七十周年。", "中华人民共合国", "serious typo"),
        ("县攻府工作报告。", "攻府", "serious typo: 政府"),
        ("根据国土资源部的通知。", "国土资源部", "outdated since 2018-03-21"),
        ("副县长杜家豪出席会议。", "副县长杜家豪", "wrong title"),
        ("县长杜家豪出席会议。", "县长杜家豪", "ended 2026-01-31"),  # the item is dated after his term
    ],
)
def test_content_findings(text: str, wrong: str, why: str) -> None:
    got = notes(text)
    assert any(t == wrong and why in n for t, n in got), got


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("县长杜家豪出席会议。", date(2025, 6, 1)),  # in office then
        ("原县长杜家豪出席会议。", DAY),  # 原: the past, said so
        ("县委副书记杜家豪主持会议。", date(2025, 6, 1)),  # one of his titles
        ("根据国土资源部的通知。", date(2017, 5, 1)),  # right when it was written
        ("县农业部门开展检查。", DAY),  # 农业部门 is not the 农业部
        ("财政补贴按时发放。", DAY),  # 财政补 / 财政部: jieba reads 补贴 across the edge
        ("中华人民共和国成立七十周年，永康市人民政府发布通知。", DAY),
        ("杜家豪同志出席会议。", DAY),
    ],
)
def test_content_passes(text: str, when: date) -> None:
    assert notes(text, when) == []


def test_the_item_date_decides_and_the_default_policy_holds() -> None:
    doc = Document(url="http://portal.test/1.html", title="通知", blocks=(Block("p", text="根据国土资源部的通知，现公布如下。"),))
    old = Document(doc.url, doc.title, doc.blocks, published=datetime(2017, 3, 1, tzinfo=UTC))
    assert GATE.screen(doc).action is Action.HOLD  # no date: today
    assert GATE.screen(old).action is Action.PASS


def test_policy_and_shipped_list_are_configurable() -> None:
    off = build_gate(GateSettings(policy={"content": "pass"}))
    assert off.screen(Document("u", "攻府工作报告", ())).action is Action.PASS
    bare = build_gate(GateSettings(content={"shipped": False, "typos": [{"wrong": "永康巿", "right": "永康市"}]}))
    assert [f.text for f in bare.scan("攻府在永康巿")] == ["永康巿"]
    dated = build_gate(GateSettings(content={"typos": [{"wrong": "老名称", "right": "新名称", "since": "2025-01-01"}]}))
    assert dated.scan("老名称", when=date(2024, 1, 1)) == [] and dated.scan("老名称", when=date(2025, 2, 1))


def test_bad_configuration_is_one_clear_error() -> None:
    with pytest.raises(ValidationError, match="title"):
        GateSettings(content={"leaders": [{"name": "杜家豪"}]})
    with pytest.raises(ValidationError, match="unknown"):
        GateSettings(content={"terms": [], "unknown": 1})


def test_the_shipped_list_reads_and_alike_is_pinyin_or_shape() -> None:
    checks = read_checks(SHIPPED)
    assert {c.kind for c in checks} == {"term", "typo", "outdated"}
    assert all(c.since for c in checks if c.kind == "outdated")
    assert alike("毫", "豪") == "sound" and alike("攻", "政") == "shape" and alike("院", "委") == ""
