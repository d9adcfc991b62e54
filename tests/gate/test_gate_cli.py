"""`pusher scan`: the gate on a text file, nothing stored; exact JSON shape, allowlist from config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_samples import ID

from pusher.cli import main

TEXT = f"""永康市2026年临时救助对象公示
张三，身份证号{ID}，手机138-1234-5678。
咨询电话：0579-87101077，邮箱gkb1416@126.com。
秘密★1年
索引号：330784ZF060000/2013-13135，文号：永政发〔2012〕12号，金额13500000000元。
"""


def scan(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    f = tmp_path / "notice.txt"
    f.write_text(TEXT, encoding="utf-8")
    capsys.readouterr()
    code = main(["scan", "--text-file", str(f), *args])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_scan_json_lists_findings_with_offsets_into_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(tmp_path, capsys, "--json")
    assert code == 0
    found = json.loads(out)
    assert [(f["detector"], f["text"], f["action"]) for f in found] == [
        ("person_name", "张三", "hold"),  # beside an ID and a mobile (issue 14)
        ("id_card", ID, "hold"),
        ("mobile", "138-1234-5678", "hold"),
        ("landline", "0579-87101077", "pass"),
        ("email", "gkb1416@126.com", "hold"),
        ("classification", "秘密★1年", "block"),
    ]
    assert all(set(f) == {"detector", "start", "end", "text", "action"} for f in found)  # scan --json keeps its fields
    assert all(TEXT[f["start"] : f["end"]] == f["text"] for f in found)


def test_scan_uses_the_allowlist_and_policy_of_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text('[gate]\nallow = ["gkb1416@126.com", "0579-87101077"]\n[gate.policy]\nclassification = "hold"\n', encoding="utf-8")
    code, out, _ = scan(tmp_path, capsys, "--json", "--config", str(cfg))
    assert code == 0
    assert [(f["detector"], f["action"]) for f in json.loads(out)] == [
        ("person_name", "hold"),
        ("id_card", "hold"),
        ("mobile", "hold"),
        ("classification", "hold"),
    ]


def test_scan_plain_output_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = scan(tmp_path, capsys)
    assert code == 0
    assert out.splitlines()[-1] == "发现 6 处：拦截（block）1 处，暂扣（hold）4 处，仅报告（pass）1 处"
    assert ID in out
    capsys.readouterr()
    assert main(["scan", "--text-file", str(tmp_path / "missing.txt")]) == 1
    assert capsys.readouterr().err.startswith("错误：无法读取")
