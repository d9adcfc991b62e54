"""`pusher demo` from the outside, as a new user runs it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from feeds.channel import folder_reader, headend_manifest, manifest_tree, validate
from feeds.xmlsafe import parse_xml
from tests.conftest import free_port

NS = "{urn:tvpusher:channel:1}"


def run_demo(workdir: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pusher", "demo", "--workdir", str(workdir), "--no-serve", "--port", str(port)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_demo_builds_a_valid_channel_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    port = free_port()
    first = run_demo(tmp_path, port)
    assert first.returncode == 0, first.stdout + first.stderr
    manifest = tmp_path / "headend" / "channel.xml"
    validate(manifest.read_bytes())
    data = headend_manifest(tmp_path / "headend")
    root = parse_xml(data)
    assert len(root.findall(f"{NS}items/{NS}item")) >= 20
    assert len(root.findall(f"{NS}columns/{NS}column")) >= 3
    for href, (sha, size) in manifest_tree(manifest.read_bytes(), folder_reader(tmp_path / "headend")).items():
        blob = (tmp_path / "headend" / href).read_bytes()
        assert len(blob) == size and hashlib.sha256(blob).hexdigest() == sha, href
    assert "已发布频道版本 1" in first.stdout
    # What the delivery reports and what the summary counts on the headend are the same figures.
    files = len(list((tmp_path / "headend").rglob("*.*")))
    size = sum(p.stat().st_size for p in (tmp_path / "headend").rglob("*.*"))
    assert f"（{files} 个文件，{size} 字节，删除过期 0 个）" in first.stdout, first.stdout
    assert f"channel.xml（{files} 个文件，{size} 字节）" in first.stdout, first.stdout

    second = run_demo(tmp_path, port)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "新增 0 条" in second.stdout and "频道未变" in second.stdout
    assert headend_manifest(tmp_path / "headend") == data


def test_the_demo_leaves_a_config_the_other_commands_use(tmp_path: Path) -> None:
    first = run_demo(tmp_path, free_port())
    assert first.returncode == 0, first.stdout + first.stderr
    cfg = tmp_path / "tvpusher.toml"
    assert f"--config {cfg}" in first.stdout

    def pusher(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pusher", *args, "--config", str(cfg)], capture_output=True, text=True, timeout=120)

    held = pusher("review", "list")
    assert held.returncode == 0 and "危房改造" in held.stdout, held.stdout + held.stderr
    item_id = held.stdout.split()[0]
    approved = pusher("review", "approve", item_id, "--mask", "--reason", "公示须公开，身份证号已遮盖")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    pushed = pusher("push")
    assert pushed.returncode == 0 and "已送达版本 2" in pushed.stdout, pushed.stdout + pushed.stderr
    root = parse_xml(headend_manifest(tmp_path / "headend"))
    assert len(root.findall(f"{NS}items/{NS}item")) == 34
