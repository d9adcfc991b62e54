"""The gate in the whole flow: a copy of the sample portal on loopback with a few sensitive
notices added, polled, screened, rendered, published and pushed to a folder headend; operators
decide through the real CLI (`pusher review …`) against the same SQLite file."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gate_samples import ID
from sqlmodel import select

from feeds.channel import headend_manifest
from pusher.cli import main
from pusher.config.settings import load_settings
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.store.models import Audit, Item, Page
from pusher.web.httpserve import StaticServer

MASKED_ID = ID[:6] + "********" + ID[-4:]

ARTICLE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}_永康市人民政府</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2026-11-2{n} 09:30">
<meta name="ContentSource" content="市民政局"><meta name="ColumnName" content="通知公告">
</head><body><h1 class="title">{title}</h1>
<div id="zoom">{body}</div></body></html>
"""

CONFIG = """
[channel]
name = "永康市数字电视政务频道"
profile = "sd"
workdir = "work"

[[columns]]
id = "tzgg"
name = "通知公告"

[[sources]]
name = "notices"
kind = "html"
url = "{url}/col/col1001/index.html"
column = "tzgg"
[sources.options]
link_xpath = "//ul[contains(@class,'xxgk-list')]/li/a"
date_xpath = "../span"

[[targets]]
name = "headend"
kind = "folder"
[targets.options]
path = "headend"

[http]
delay = 0.0

[gate]
allow = ["0579-87101077"]
"""


@dataclass
class Portal:
    root: Path
    config: Path
    headend: Path
    edits: int = 0

    def add(self, n: int, title: str, *paras: str) -> str:
        """Publish a notice (or change it, keeping its URL); returns its URL path."""
        path = f"/art/2026/11/2{n}/art_1001_59{n}.html"
        body = "".join(f"<p>{p}</p>" for p in paras)
        (self.root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path.lstrip("/")).write_text(ARTICLE.format(title=title, n=n, body=body), encoding="utf-8")
        index = self.root / "col/col1001/index.html"
        html = index.read_text(encoding="utf-8")
        lines = [ln for ln in html.splitlines() if path not in ln]
        li = f'<li><a href="{path}" title="{title}" target="_blank">{title}</a><span>2026-11-2{n}</span></li>'
        at = next(i for i, ln in enumerate(lines) if "xxgk-list" in ln) + 1
        index.write_text("\n".join([*lines[:at], li, *lines[at:]]), encoding="utf-8")
        # Last-Modified has one-second resolution: make each edit visibly newer to a conditional GET.
        self.edits += 1
        stamp = time.time() + 10 * self.edits
        os.utime(index, (stamp, stamp))
        return path

    def runtime(self) -> Runtime:
        return Runtime(load_settings(self.config))

    def cycle(self) -> None:
        rt = self.runtime()
        try:
            run_cycle(rt)
        finally:
            rt.close()

    def item(self, path: str) -> Item:
        rt = self.runtime()
        try:
            with rt.store.read() as db:
                found = db.exec(select(Item).where(Item.url.endswith(path))).one()  # type: ignore[attr-defined]
                return found
        finally:
            rt.close()

    def page_lines(self, item: Item) -> list[str]:
        rt = self.runtime()
        try:
            with rt.store.read() as db:
                pages = db.exec(select(Page).where(Page.owner == f"item:{item.id}")).all()
                return [ln for p in pages for ln in json.loads(p.layout)["lines"]]
        finally:
            rt.close()

    def manifest(self) -> str:
        return headend_manifest(self.headend).decode("utf-8")

    def cli(self, *args: str) -> int:
        return main([*args, "--config", str(self.config)])


@pytest.fixture
def site(portal_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("PUSHER_ACTOR", "reviewer-wang")
    with StaticServer(portal_dir) as srv:
        cfg = tmp_path / "tvpusher.toml"
        cfg.write_text(CONFIG.format(url=srv.url), encoding="utf-8")
        yield Portal(portal_dir, cfg, tmp_path / "headend")


def test_id_number_is_held_then_aired_masked_after_approval(site: Portal, capsys: pytest.CaptureFixture[str]) -> None:
    path = site.add(1, "2026年临时救助对象公示", f"救助对象：张三，身份证号{ID}，救助金额1200元。", "公示期7天，电话0579-87101077。")
    site.cycle()
    held = site.item(path)
    assert held.state == ItemState.HELD
    assert site.page_lines(held) == []  # never rendered
    assert path not in site.manifest()
    assert [f["detector"] for f in json.loads(held.findings)] == ["person_name", "id_card"]  # the name beside it too (issue 14)

    capsys.readouterr()
    assert site.cli("review", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["findings"]) for r in listed] == [(held.id, {"id_card": 1, "person_name": 1})]
    assert site.cli("review", "show", str(held.id)) == 0
    shown = capsys.readouterr().out
    assert ID in shown and MASKED_ID in shown

    assert site.cli("review", "approve", str(held.id), "--reason", "公示名单，按规定脱敏播出") == 0
    site.cycle()
    aired = site.item(path)
    assert aired.state in (ItemState.RENDERED, ItemState.PUBLISHED)
    text = "".join(site.page_lines(aired))
    assert MASKED_ID in text and ID not in text
    assert "张*" in text and "张三" not in text
    assert "0579-87101077" in text  # the allowlisted office phone is untouched
    assert path in site.manifest()

    rt = site.runtime()
    with rt.store.read() as db:
        [audit] = db.exec(select(Audit).where(Audit.item_id == held.id)).all()
    rt.close()
    assert (audit.actor, audit.action, audit.reason) == ("reviewer-wang", "review.approve-masked", "公示名单，按规定脱敏播出")
    assert audit.at is not None


def test_secret_item_never_reaches_the_headend(site: Portal, capsys: pytest.CaptureFixture[str]) -> None:
    path = site.add(2, "关于做好重点工作的通知", "秘密★1年", "各乡镇人民政府、街道办事处：现将有关事项通知如下。")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.REJECTED
    assert site.page_lines(item) == []
    manifest = site.manifest()
    assert path not in manifest and "关于做好重点工作的通知" not in manifest
    assert not any("秘密" in p.read_text(errors="ignore") for p in site.headend.rglob("*") if p.is_file())
    capsys.readouterr()
    assert site.cli("review", "approve", str(item.id), "--reason", "试图放行") == 1  # not held: nothing to approve
    assert "not held" in capsys.readouterr().err
    site.cycle()
    assert site.item(path).state == ItemState.REJECTED


def test_reject_is_final_until_the_item_changes(site: Portal) -> None:
    path = site.add(3, "关于征集意见的公告", "联系人：李四，手机13812345678。")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    assert site.cli("review", "reject", str(item.id), "--reason", "含个人手机号") == 0
    site.cycle()
    site.cycle()
    assert site.item(path).state == ItemState.REJECTED
    assert path not in site.manifest()

    # The office corrects the notice on the portal: it is screened again from scratch.
    site.add(3, "关于征集意见的公告（更正）", "联系电话：0579-87101077。")
    site.cycle()
    again = site.item(path)
    assert again.version == item.version + 1
    assert again.state in (ItemState.RENDERED, ItemState.PUBLISHED)
    assert path in site.manifest()


def test_approve_as_is_airs_the_original(site: Portal) -> None:
    path = site.add(4, "关于公布服务热线的通知", "24小时值班手机：13912345678。")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    assert "139****5678" in item.screened_body
    assert site.cli("review", "approve", str(item.id), "--as-is", "--reason", "公开的值班手机") == 0
    site.cycle()
    assert "13912345678" in "".join(site.page_lines(site.item(path)))


def test_review_needs_a_reason_and_a_held_item(site: Portal, capsys: pytest.CaptureFixture[str]) -> None:
    path = site.add(5, "关于公示的通知", "手机13712345678")
    site.cycle()
    item = site.item(path)
    capsys.readouterr()
    assert site.cli("review", "approve", str(item.id)) == 2  # a usage error (issue 18: exit 2, as the README says)
    assert "reason is required" in capsys.readouterr().err
    assert site.cli("review", "reject", str(item.id), "--reason", "  ") == 2
    assert site.cli("review", "reject", "999999", "--reason", "x") == 1
    assert "no item 999999" in capsys.readouterr().err
    assert site.item(path).state == ItemState.HELD


def test_masked_title_is_masked_in_menus_manifest_and_exports(site: Portal) -> None:
    path = site.add(6, f"关于张三（{ID}）申请临时救助的公示", "公示期7天。")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    assert site.cli("review", "approve", str(item.id), "--reason", "脱敏后公示") == 0
    site.cycle()
    assert site.item(path).state in (ItemState.RENDERED, ItemState.PUBLISHED)
    rt = site.runtime()
    try:
        with rt.store.read() as db:
            lines = [ln for p in db.exec(select(Page)).all() for ln in json.loads(p.layout)["lines"]]
    finally:
        rt.close()
    drawn = "\n".join(lines)
    assert MASKED_ID in drawn and ID not in drawn  # item pages and column menus alike
    for f in site.headend.rglob("*"):
        if f.is_file() and f.suffix in (".xml", ".json", ".m3u", ".m3u8", ".txt", ".rss"):
            assert ID not in f.read_text(encoding="utf-8", errors="ignore"), f.name
