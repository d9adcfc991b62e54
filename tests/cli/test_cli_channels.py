"""``--channel`` in a configuration of several channels: before or after the command, or
``$PUSHER_CHANNEL``; a command that acts on one channel and is given none lists them (in
Chinese, exit 2); ``status`` without it shows every channel in brief; ``init`` and
``check-config`` cover every channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pusher.cli import main

CONFIG = """
[channel]
profile = "sd"
[[columns]]
id = "tzgg"
name = "通知公告"
[channels.yk.channel]
name = "永康政务"
[[channels.yk.targets]]
name = "headend"
kind = "folder"
options = { path = "headend-yk" }
[channels.wy.channel]
name = "武义政务"
[[channels.wy.targets]]
name = "headend"
kind = "folder"
options = { path = "headend-wy" }
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PUSHER_CHANNEL", raising=False)
    path = tmp_path / "t.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_command_without_channel_lists_the_channels(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--config", str(cfg)]) == 2
    said = capsys.readouterr().err
    assert "该配置有 2 个频道：yk、wy" in said and "--channel" in said
    assert not (cfg.parent / "headend-yk").exists() and not (cfg.parent / "var").exists()
    assert main(["review", "list", "--config", str(cfg), "--channel", "pa"]) == 2
    assert "没有名为 pa 的频道（现有：yk、wy）" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["before", "after", "equals", "env"])
def test_channel_before_or_after_the_command_or_from_the_environment(
    cfg: Path, where: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = {"before": ["--channel", "wy", "push", "--config", str(cfg)], "after": ["push", "--config", str(cfg), "--channel", "wy"],
            "equals": ["push", "--channel=wy", "--config", str(cfg)], "env": ["push", "--config", str(cfg)]}[where]  # fmt: skip
    if where == "env":
        monkeypatch.setenv("PUSHER_CHANNEL", "wy")
    assert main(args) == 0, capsys.readouterr().err
    assert "headend：已送达版本 1" in capsys.readouterr().out
    # Only that channel was pushed, from its own workdir to its own headend.
    assert (cfg.parent / "headend-wy" / "channel.xml").exists() and not (cfg.parent / "headend-yk").exists()
    assert (cfg.parent / "var" / "wy" / "tvpusher.db").exists() and not (cfg.parent / "var" / "yk").exists()
    assert "武义政务" in (cfg.parent / "headend-wy" / "channel.xml").read_text(encoding="utf-8")


def test_status_without_channel_shows_every_channel(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert "频道 yk：存储已就绪" in said and "频道 wy：存储已就绪" in said
    assert main(["push", "--config", str(cfg), "--channel", "yk"]) == 0
    capsys.readouterr()
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["channels"]
    assert [(r["name"], r["status"]["channel"]["name"], r["status"]["channel"]["version"]) for r in rows] == [
        ("yk", "永康政务", 1),
        ("wy", "武义政务", None),
    ]
    assert main(["status", "--config", str(cfg)]) == 0
    table = capsys.readouterr().out
    assert "各频道" in table and "永康政务" in table and "武义政务" in table and "pusher status --channel" in table
    assert main(["status", "--config", str(cfg), "--channel", "yk", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["channel"]["name"] == "永康政务"


def test_check_config_covers_every_channel(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-config", "--config", str(cfg)])
    said = capsys.readouterr().out
    assert "频道 yk：" in said and "频道 wy：" in said and "channel: 永康政务" in said and "channel: 武义政务" in said, said
    assert code in (0, 2)  # fonts depend on the machine; both channels are checked either way
    assert main(["check-config", "--config", str(cfg), "--channel", "wy"]) == code
    assert "永康政务" not in capsys.readouterr().out


def test_channel_on_a_one_channel_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUSHER_CHANNEL", raising=False)
    cfg = tmp_path / "one.toml"
    cfg.write_text('[[columns]]\nid = "tzgg"\nname = "通知公告"\n', encoding="utf-8")
    assert main(["status", "--config", str(cfg), "--channel", "yk"]) == 2
    assert "该配置只有一个频道" in capsys.readouterr().err
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["channel"]["version"] is None
