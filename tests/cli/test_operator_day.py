"""Issue 18: the operator's day — check-config that probes, failures that heal, a status that
tells the truth, exit codes (2 usage/configuration, 1 operational) and ``--version``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pusher.cli import main
from pusher.demo import demo_config
from pusher.demo import write_config as write_toml
from pusher.web.httpserve import StaticServer

LATIN_ONLY = {"fonts": ["DejaVu Sans"], "bold_fonts": ["DejaVu Sans:bold"]}


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    return write_toml(cfg, path)


def small_channel(portal_url: str, work: Path, **overrides: Any) -> dict[str, Any]:
    """The demo's configuration with one source (the notices column): a few items, quick to draw."""
    cfg = demo_config(portal_url, work)
    cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
    cfg.update(overrides)
    return cfg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    got = capsys.readouterr()
    return code, got.out, got.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("pusher (tvpusher) ")


def test_check_config_fails_naming_a_font_without_chinese_glyphs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "c.toml", {**small_channel("http://127.0.0.1:9", tmp_path / "w"), "render": LATIN_ONLY})
    code, out, err = run(capsys, "check-config", "--config", str(cfg))
    assert code == 2, out + err
    assert ("DejaVu Sans" in err and "GB 2312" not in err) or "缺" in err
    assert "✗ 字体 render.fonts = DejaVu Sans" in out and "配置检查通过" not in out


def test_check_config_fails_on_a_folder_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the headend folder's parent should be", encoding="utf-8")
    cfg = small_channel("http://127.0.0.1:9", tmp_path / "w")
    cfg["targets"] = [{"name": "headend", "kind": "folder", "options": {"path": str(blocker / "headend")}}]
    code, out, err = run(capsys, "check-config", "--config", str(write_config(tmp_path / "c.toml", cfg)))
    assert code == 2, out + err
    assert "✗ 目标 headend（folder）" in out and "headend" in err


def test_check_config_writes_and_removes_a_probe_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = small_channel("http://127.0.0.1:9", tmp_path / "w")
    code, out, err = run(capsys, "check-config", "--config", str(write_config(tmp_path / "c.toml", cfg)))
    assert code == 0, out + err
    assert "✓ 目标 headend（folder）" in out and "配置检查通过" in out
    assert list((tmp_path / "w" / "headend" / "assets").iterdir()) == []


def test_a_disabled_targets_secrets_need_not_be_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TVPUSHER_TEST_UNSET_PASSWORD", raising=False)
    dav = {"name": "dav", "kind": "webdav", "enabled": False,
           "options": {"url": "https://headend.invalid/dav/", "username": "tv", "password": "${TVPUSHER_TEST_UNSET_PASSWORD}"}}  # fmt: skip
    cfg = small_channel("http://127.0.0.1:9", tmp_path / "w")
    cfg["targets"] = [*cfg["targets"], dav]
    code, out, err = run(capsys, "check-config", "--config", str(write_config(tmp_path / "c.toml", cfg)))
    assert code == 0, out + err
    assert "dav" not in out.split("target dav: webdav (disabled)")[-1]  # listed as disabled, not probed
    cfg["targets"][-1] = {**dav, "enabled": True}
    code, _, err = run(capsys, "check-config", "--config", str(write_config(tmp_path / "c.toml", cfg)))
    assert code == 2 and "TVPUSHER_TEST_UNSET_PASSWORD" in err


def test_usage_errors_exit_2_and_are_not_called_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(write_config(tmp_path / "c.toml", small_channel("http://127.0.0.1:9", tmp_path / "w")))
    code, _, err = run(capsys, "review", "approve", "1", "--config", cfg)
    assert code == 2 and "--reason" in err
    code, _, err = run(capsys, "alert", "停水通知", "--until", "yesterday", "--config", cfg)
    assert code == 2 and "--until" in err and "配置" not in err
    code, _, err = run(capsys, "retry", "--config", cfg)
    assert code == 2
    code, _, err = run(capsys, "retry", "999", "--config", cfg)
    assert code == 1 and "999" in err  # an operational error: no such item


def _status(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "status", "--config", str(cfg), "--json")
    assert code == 0, err
    return dict(json.loads(out))


def test_items_that_failed_to_render_heal_once_the_font_is_fixed(
    portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "w"
    cfg = write_config(tmp_path / "c.toml", {**small_channel(portal.url, work), "render": LATIN_ONLY})
    assert run(capsys, "poll", "--config", str(cfg))[0] == 0
    # Every item fails to draw, and so do the menus: a configuration error (exit 2), not a crash.
    code, out, err = run(capsys, "push", "--config", str(cfg))
    assert code == 2 and err.startswith("错误：配置：") and "glyph" in err, out + err
    st = _status(capsys, cfg)
    failed = st["failed"]
    assert failed and st["items"]["failed"] == len(failed) and st["items"]["published"] == 0
    assert all(f["reason"].startswith("render: ") and "glyph" in f["reason"] for f in failed)
    assert st["health"]["state"] == "degraded" and any("failed to render" in d for d in st["health"]["degraded"])
    code, out, _ = run(capsys, "status", "--config", str(cfg))
    assert f"绘制失败 #{failed[0]['id']}" in out and "健康：降级" in out
    code, out, _ = run(capsys, "review", "list", "--state", "failed", "--config", str(cfg))
    assert "原因：render: " in out

    # The operator fixes the font: the next round draws them again without being asked.
    write_config(cfg, small_channel(portal.url, work))
    os.utime(cfg)  # the rewrite is newer than the failures, whatever the file system's clock grain
    code, out, err = run(capsys, "push", "--item", str(failed[0]["id"]), "--config", str(cfg))
    assert code == 0, out + err
    st = _status(capsys, cfg)
    assert st["items"]["failed"] == 0 and st["items"]["published"] == len(failed)
    assert st["health"]["state"] == "ok", st["health"]


def test_pusher_retry_draws_a_failed_item_now(portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "w"
    cfg = write_config(tmp_path / "c.toml", {**small_channel(portal.url, work), "render": LATIN_ONLY})
    run(capsys, "poll", "--config", str(cfg))
    run(capsys, "push", "--config", str(cfg))
    failed = _status(capsys, cfg)["failed"]
    # Still the Latin font: the retry fails again, a configuration error.
    code, out, err = run(capsys, "retry", str(failed[0]["id"]), "--config", str(cfg))
    assert code == 2 and "重新绘制 1 条" in out and "glyph" in err
    write_config(cfg, small_channel(portal.url, work))
    code, out, err = run(capsys, "retry", "--all", "--config", str(cfg))
    assert code == 0, out + err
    assert f"重新绘制 {len(failed)} 条" in out and "已送达版本" in out


def test_status_is_degraded_the_moment_a_target_fails(portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    cfg = small_channel(portal.url, tmp_path / "w")
    cfg["targets"] = [{"name": "headend", "kind": "folder", "options": {"path": str(blocker / "headend")}}]
    path = write_config(tmp_path / "c.toml", cfg)
    run(capsys, "poll", "--config", str(path))
    code, out, err = run(capsys, "push", "--config", str(path))
    assert code == 1, out + err
    st = _status(capsys, path)
    assert st["health"]["state"] == "degraded" and st["health"]["ok"]  # /healthz waits for its threshold
    assert any(d.startswith("target headend failing since ") for d in st["health"]["degraded"])
    code, out, _ = run(capsys, "status", "--config", str(path))
    assert "健康：降级" in out and "目标 headend 自 " in out and "…" not in out  # English in JSON, Chinese on screen


def test_a_huge_article_is_cut_to_max_pages_and_a_slow_cycle_fails_health(
    portal_dir: Path, portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlmodel import col, select

    from pusher.config.settings import load_settings
    from pusher.names import item_owner
    from pusher.runtime import Runtime
    from pusher.store.models import Item, Page

    art = portal_dir / "art/2026/11/20/art_1001_5101.html"
    html = art.read_text(encoding="utf-8")
    para = "<p>　　森林防火人人有责，各乡镇（街道）要落实网格化管理责任，加强巡山护林和野外用火管控，确保不发生重大森林火灾。</p>\n"
    art.write_text(html.replace("</p>\n</div>", "</p>\n" + para * 20_000 + "</div>", 1), encoding="utf-8")  # ~1.3 MB of text
    cfg = small_channel(portal.url, tmp_path / "w", render={"max_pages": 5}, broadcast={"bitrate_kbps": 1, "max_cycle_seconds": 60})
    path = write_config(tmp_path / "c.toml", cfg)
    assert run(capsys, "poll", "--config", str(path))[0] == 0
    code, out, err = run(capsys, "push", "--config", str(path))
    assert code == 0, out + err

    rt = Runtime(load_settings(path))
    try:
        with rt.store.read() as db:
            item = db.exec(select(Item).where(col(Item.url).endswith("art_1001_5101.html"))).one()
            pages = list(db.exec(select(Page).where(Page.owner == item_owner(item.id)).order_by(col(Page.seq))))
    finally:
        rt.close()
    assert item.state.value == "published" and len(pages) == 5
    assert "其余内容请扫码查看原文" in pages[-1].layout and "其余内容" not in pages[0].layout

    st = _status(capsys, path)
    assert not st["health"]["ok"] and st["health"]["state"] == "failing"
    assert any("exceeds broadcast.max_cycle_seconds" in p for p in st["health"]["problems"])
    code, out, _ = run(capsys, "status", "--config", str(path))
    assert "超过上限 60 秒" in out and "健康：故障" in out
