"""``pusher render --text-file F --out DIR``, called in-process as an operator would."""

from __future__ import annotations

import json
from pathlib import Path

from render_corpus import FORBIDDEN_END, FORBIDDEN_START, REFERENCE

from pusher.cli import main


def test_render_writes_pages_and_layout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            ["render", "--text-file", str(REFERENCE), "--profile", "sd", "--title", "永康市2012年度政府信息公开年度报告", "--out", str(out)]
        )
        == 0
    )
    layout = json.loads((out / "layout.json").read_text(encoding="utf-8"))
    assert layout["profile"] == "sd" and (layout["width"], layout["height"]) == (720, 576)
    files = sorted(p.name for p in out.glob("*.png"))
    assert files == [p["file"] for p in layout["pages"]] and len(files) > 10
    for p in layout["pages"]:
        assert (out / p["file"]).stat().st_size == p["bytes"]
        for ln in p["lines"]:
            assert ln[0] not in FORBIDDEN_START and ln[-1] not in FORBIDDEN_END, ln
    assert layout["pages"][0]["lines"][2] == "永康市2012年度政府信息公开年度报告"


def test_render_rejects_a_bad_profile(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("标题\n正文。\n", encoding="utf-8")
    assert main(["render", "--text-file", str(text), "--profile", "4k", "--out", str(tmp_path / "o")]) == 2


def test_render_gb18030_text(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_bytes("通知\n请于下周一前提交材料。\n".encode("gb18030"))
    assert main(["render", "--text-file", str(text), "--out", str(tmp_path / "o")]) == 0
    layout = json.loads((tmp_path / "o" / "layout.json").read_text(encoding="utf-8"))
    assert "请于下周一前提交材料。" in layout["pages"][0]["lines"]
