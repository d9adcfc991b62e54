"""Issue 18, one language for the operator: ``pusher scan`` and ``pusher source test`` speak
Chinese to people; their ``--json`` keys stay English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_chinese import _english
from test_operator_day import run, small_channel, write_config

from pusher.web.httpserve import StaticServer

# Our own words of the old English output (titles, URLs and rule words are not ours).
OLD = ("entries", "requests", "more", "note:", "detail:", "blocks", "characters", "findings", "[table", "[image")


def test_source_test_speaks_chinese(portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "c.toml", small_channel(portal.url, tmp_path / "w"))
    code, out, err = run(capsys, "source", "test", "notices", "--config", str(cfg), "--limit", "1")
    assert code == 0, out + err
    assert "个条目" in out and "次请求" in out and "\n详情：" in out and "正文（" in out, out
    assert not [w for w in OLD if w in out] and not _english(out.replace(portal.url, "")), out
    code, out, err = run(capsys, "source", "test", "notices", "--config", str(cfg), "--json")
    assert {"requests", "entries", "total_entries", "detail"} <= set(json.loads(out)), out


def test_scan_speaks_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "t.txt"
    text.write_text("联系人手机 13912345678。", encoding="utf-8")
    code, out, err = run(capsys, "scan", "--text-file", str(text))
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("发现 1 处：") and " 处" in out and not [w for w in OLD if w in out], out
    text.write_text("今天天气晴。", encoding="utf-8")
    code, out, err = run(capsys, "scan", "--text-file", str(text))
    assert out.strip() == "发现 0 处（未发现敏感信息）", out
    code, out, err = run(capsys, "scan", "--text-file", str(tmp_path / "missing.txt"))
    assert code == 1 and err.startswith("错误：无法读取 "), err
