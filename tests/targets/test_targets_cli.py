"""``pusher verify`` and ``pusher retract`` as an operator runs them, on a real store and folder
headend (items stored as published with page bytes; menus drawn by the real renderer)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select
from targetkit import check_headend, folder_assets, folder_reader, page_bytes

from feeds.channel import headend_manifest, manifest_tree
from pusher.cli import main
from pusher.config.settings import load_settings
from pusher.runtime import Runtime
from pusher.stages import publish
from pusher.stages.outbox import deliver
from pusher.states import ItemState
from pusher.store.models import Audit, Item, Page


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tvpusher.toml"
    path.write_text(
        '[channel]\nworkdir = "work"\nprofile = "sd"\n\n[[columns]]\nid = "tz"\nname = "通知公告"\n\n'
        '[[targets]]\nname = "drop"\nkind = "folder"\noptions = { path = "headend" }\n',
        encoding="utf-8",
    )
    rt = Runtime(load_settings(path))
    try:
        with rt.store.write() as db:
            for n in range(1, 4):
                item = Item(source="s", url=f"http://portal.example/{n}.html", title=f"关于第{n}号事项的通知", column="tz",
                            state=ItemState.PUBLISHED, rendered_version=1)  # fmt: skip
                db.add(item)
                db.flush()
                data = page_bytes(f"item {n}", 4000)
                sha = rt.assets.put(data)
                db.add(
                    Page(
                        owner=f"item:{item.id}", seq=1, profile=rt.renderer.profile.name, sha256=sha, bytes=len(data), width=720, height=576
                    )
                )
        assert publish(rt) is not None
        assert deliver(rt)[0].status == "done"
    finally:
        rt.close()
    return path


def items_on_air(headend: Path) -> set[str]:
    from feeds.xmlsafe import parse_xml

    root = parse_xml(headend_manifest(headend))
    return {el.get("id") for el in root.iter("{urn:tvpusher:channel:1}item")}


def test_verify_reports_a_healthy_headend(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--config", str(config), "--deep"]) == 0
    out = capsys.readouterr().out
    assert "drop：版本 1" in out and "缺失 0，损坏 0" in out and "正常" in out


def test_verify_repairs_a_lost_page(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    headend = config.parent / "headend"
    referenced = sorted(h for h in manifest_tree((headend / "channel.xml").read_bytes(), folder_reader(headend)) if h.endswith(".png"))
    (headend / referenced[0]).unlink()
    assert main(["verify", "--config", str(config), "--no-repair"]) == 1
    assert f"缺失 {referenced[0]}" in capsys.readouterr().out
    assert main(["verify", "--config", str(config)]) == 0
    assert "修复：drop：已送达版本 1" in capsys.readouterr().out
    check_headend(folder_reader(headend), folder_assets(headend), version=1)


def test_retract_takes_the_item_off_air_at_once_and_audits_it(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    headend = config.parent / "headend"
    assert items_on_air(headend) == {"i1", "i2", "i3"}
    assert main(["retract", "2", "--reason", "发布单位要求撤回", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "已撤下：#2 关于第2号事项的通知" in out and "已送达版本 2" in out
    assert items_on_air(headend) == {"i1", "i3"}
    check_headend(folder_reader(headend), folder_assets(headend), version=2)
    gone = hashlib.sha256(page_bytes("item 2", 4000)).hexdigest()
    assert (headend / "assets" / f"{gone}.png").exists(), "deleted before the grace period"
    rt = Runtime(load_settings(config))
    try:
        with rt.store.read() as db:
            item = db.get(Item, 2)
            assert item is not None and item.state == ItemState.WITHDRAWN
            [audit] = db.exec(select(Audit).where(Audit.action == "retract")).all()
            assert (audit.item_id, audit.reason) == (2, "发布单位要求撤回") and "was published" in audit.detail
    finally:
        rt.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retract", "2"], "needs --reason"),
        (["retract", "99", "--reason", "x"], "no item 99"),
        (["verify", "--target", "nope"], "no target named"),
    ],
)
def test_operator_mistakes_are_one_line(config: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, "--config", str(config)]) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
