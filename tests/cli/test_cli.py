"""The CLI as an operator meets it: help everywhere, one-line errors, JSON that parses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from pusher.cli import app, main

README = Path(__file__).resolve().parents[2] / "README.md"


def commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            out.append((prefix, cmd))

    walk("", root)
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    names = [n for n, _ in commands()]
    assert {"run", "poll", "push", "status", "check-config", "demo"} <= set(names)
    for name, cmd in commands():
        assert (cmd.help or "").strip(), f"`pusher {name}` has no help"
        assert f"pusher {name}" in readme, f"`pusher {name}` is not in the README"


@pytest.mark.parametrize("name", ["run", "poll", "push", "status", "check-config", "demo"])
def test_help_exits_zero(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*name.split(), "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[sources]]\nname = "x"\nkind = "html"\nurl = "http://127.0.0.1/"\ncolumn = "zwgk"\ninterval = "soon"\n', encoding="utf-8"
    )
    for args, code in ((["status", "--config", str(bad)], 2), (["status", "--config", str(tmp_path / "none.toml")], 2)):
        r = subprocess.run([sys.executable, "-m", "pusher", *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == code, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("错误：配置：")


def test_status_json_reports_the_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[channel]\nname = "测试"\n[[columns]]\nid = "zwgk"\nname = "政府信息公开"\n'
        '[[sources]]\nname = "s"\nkind = "html"\nurl = "http://127.0.0.1:9/"\ncolumn = "zwgk"\n'
        '[[targets]]\nname = "h"\nkind = "folder"\noptions = { path = "headend" }\n',
        encoding="utf-8",
    )
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["items"]["new"] == 0 and set(st["items"]) >= {"new", "held", "published", "withdrawn"}
    assert st["sources"][0]["name"] == "s" and st["sources"][0]["last_status"] == "never"
    assert st["targets"][0]["backlog"] == 0
    assert st["channel"]["version"] is None


def test_poll_of_a_dead_source_fails_with_its_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[columns]]\nid = "zwgk"\nname = "政府信息公开"\n'
        '[[sources]]\nname = "dead"\nkind = "html"\nurl = "http://127.0.0.1:9/col/index.html"\ncolumn = "zwgk"\n[http]\ntimeout = 2\n',
        encoding="utf-8",
    )
    assert main(["poll", "--config", str(cfg), "--json"]) == 1
    [rep] = json.loads(capsys.readouterr().out)
    assert rep["status"] == "error" and "127.0.0.1:9" in rep["error"]
