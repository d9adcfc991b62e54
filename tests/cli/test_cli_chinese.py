"""Issue 18, one language for the operator: what poll, alert, export, report and status print for
people is Chinese, while ``--json``, CSV and the health reasons of ``/healthz`` stay English."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_operator_day import run, small_channel, write_config

from pusher.cli.said import health_said
from pusher.ops.health import degradations, evaluate
from pusher.ops.status import (
    Backlog,
    ChannelStatus,
    FailedItem,
    Health,
    NodeStatus,
    SourceStatus,
    Status,
    TargetStatus,
)
from pusher.web.httpserve import StaticServer

# English a person would read (words of our own messages, not names, URLs or error texts).
ENGLISH = re.compile(
    r"\b(polled|delivered|version|channel|cleared|alert|on air|unchanged|bytes|segments|chart|section|value|no match|failing|"
    r"source|listed|withdrawn|changed|errors)\b"
)


def _english(text: str) -> list[str]:
    return ENGLISH.findall(text)


def test_poll_alert_export_and_report_speak_chinese(portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "c.toml", small_channel(portal.url, tmp_path / "w"))
    c = ["--config", str(cfg)]
    code, out, err = run(capsys, "poll", *c)
    assert code == 0, out + err
    assert "采集" in out and "来源" in out and "新增" in out and "正常" in out and not _english(out), out
    code, out, err = run(capsys, "poll", "--json", *c)
    assert json.loads(out)[0]["status"] in ("ok", "not_modified")  # JSON keeps its English values
    code, out, err = run(capsys, "push", *c)
    assert code == 0, out + err
    code, out, err = run(capsys, "alert", "城西片区暂停供气。", "--level", "urgent", "--until", "2h", *c)
    assert code == 0, out + err
    assert "提示 #1（紧急）已播出，至 " in out and "频道版本 2" in out and "已送达版本 2" in out and not _english(out), out
    code, out, err = run(capsys, "alert", "--clear", *c)
    assert "已结束提示 #1" in out and not _english(out), out
    code, out, err = run(capsys, "alert", "--clear", *c)
    assert out.strip() == "没有播出中的提示"
    for kind, said in (("xmltv", "XMLTV 节目单"), ("rss", "RSS"), ("playlist", "M3U 播放列表")):
        target = tmp_path / f"{kind}.out"
        code, out, err = run(capsys, "export", kind, "--out", str(target), *c)
        assert code == 0, out + err
        assert out.startswith(f"频道版本 3 的 {said}：") and "字节" in out and not _english(out.replace(str(target), "")), out
    code, out, err = run(capsys, "export", "rss", "--out", str(tmp_path / "no" / "such" / "dir" / "x.xml"), *c)
    assert code == 2 and err.startswith("错误：--out: ") and "Traceback" not in err, err
    year = str(__import__("datetime").date.today().year)
    code, out, err = run(capsys, "report", "--year", year, *c)
    assert code == 0, out + err
    assert "年度统计" in out and "发布条数" in out and "推送次数" in out and "紧急" in out and not _english(out), out
    code, out, err = run(capsys, "report", "--year", year, "--format", "csv", *c)
    assert out.startswith("section,key,value") and "total,published," in out  # CSV keeps English keys
    code, out, err = run(capsys, "search", "不存在的词语组合", *c)
    assert out.strip() == "没有找到"


def _status(**kw: object) -> Status:
    src = SourceStatus(name="notices", kind="html", enabled=True, interval=60, last_poll_at="2026-12-01T08:00:00+08:00",
                       last_ok_at=None, last_status="error", last_error="HTTP 521 for http://x/", polls=3, errors=3,
                       failing_since="2026-12-01T07:00:00+08:00", failing_seconds=7200)  # fmt: skip
    tgt = TargetStatus(name="headend", kind="folder", enabled=True, last_delivered_version=1, last_delivered_at=None, backlog=1,
                       next_attempt_at="2026-12-01T08:01:00+08:00", attempts=4, last_error="disk full", failing_since="2026-12-01T07:00:00+08:00",
                       failing_seconds=7200, pushed_bytes=0, failures=4, versions_behind=1, to_send=3, to_send_bytes=9000, assets_held=0,
                       awaiting_deletion=0, busy_with="")  # fmt: skip
    node = NodeStatus(name="n1", host="h", pid=1, leader=False, leader_since=None, started_at=None, seen_at=None, alive=True)
    ch = ChannelStatus(name="频道", profile="hd", version=1, generated_at=None, age_seconds=None, items=1, pages=9000, bytes=900_000_000,
                       cycle_seconds=7200.0, bitrate_kbps=1000, budget_bytes=0, max_cycle_seconds=600)  # fmt: skip
    st = Status(channel=ch, items={}, backlog=Backlog(0, 0, 0, 1), sources=(src,), targets=(tgt,), nodes=(node,), health=Health(ok=True),
                failed=(FailedItem(id=7, title="t", source="notices", reason="render: no font", since=None),))  # fmt: skip
    return replace(st, **kw)  # type: ignore[arg-type]


def test_every_health_reason_is_shown_in_chinese() -> None:
    from pusher.config.settings import parse_settings

    settings = parse_settings({"broadcast": {"max_cycle_seconds": 600}}, Path("."))
    reasons = [*evaluate(_status(), settings, beat_age=999), *degradations(_status())]
    assert len(reasons) == 8, reasons  # source, target, scheduler, cycle, leader; degraded source, target, failed items
    for r in reasons:
        said = health_said(r)
        assert said != r and not re.search(r"\b(failing|stuck|exceeds|items failed|no live node)\b", said), (r, said)
    assert health_said("target headend failing for 7200s: disk full") == "目标 headend 已连续失败 7200 秒：disk full"
    assert health_said("something new the health module says") == "something new the health module says"
