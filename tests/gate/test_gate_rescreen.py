"""Issue 14: what is on air is screened again when the gate changes (keyword lists, policy) or an
item's attachment changes, and an item that now fails leaves the channel at the next round,
audited — through the whole flow: a portal on loopback, polled, screened, rendered, published
and pushed to a folder headend, the same SQLite file across rounds."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from gate_samples import ID
from sqlmodel import select
from test_gate_pipeline import CONFIG, Portal

from pusher.cli import main
from pusher.stages.screen import rescreen_on_air
from pusher.states import ON_AIR, ItemState
from pusher.store.models import Audit
from pusher.web.httpserve import StaticServer


def xlsx(*rows: list[object]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def site(portal_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("PUSHER_ACTOR", "reviewer-li")
    (tmp_path / "keywords").mkdir()
    (tmp_path / "keywords" / "words.txt").write_text("# 敏感词\n", encoding="utf-8")
    with StaticServer(portal_dir) as srv:
        cfg = tmp_path / "tvpusher.toml"
        cfg.write_text(CONFIG.format(url=srv.url).replace("[gate]\n", '[gate]\nkeyword_files = ["keywords"]\n'), encoding="utf-8")
        yield Portal(portal_dir, cfg, tmp_path / "headend")


def audits(site: Portal, item_id: int | None) -> list[tuple[str, str]]:
    rt = site.runtime()
    try:
        with rt.store.read() as db:
            return [(a.action, a.detail) for a in db.exec(select(Audit).where(Audit.item_id == item_id)).all()]
    finally:
        rt.close()


def test_a_new_keyword_takes_an_item_off_the_air(site: Portal, tmp_path: Path) -> None:
    path = site.add(1, "关于乡村道路养护的通知", "各村做好道路养护，发现问题及时上报青松岭工程队。")
    site.cycle()
    assert site.item(path).state in ON_AIR and path in site.manifest()

    site.cycle()  # nothing changed: nothing is screened again
    assert not audits(site, site.item(path).id)

    (tmp_path / "keywords" / "words.txt").write_text("# 敏感词\n青松岭工程队\n", encoding="utf-8")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    assert [f["detector"] for f in json.loads(item.findings)] == ["keyword"]
    assert path not in site.manifest()  # left the channel at this round
    assert audits(site, item.id) == [("gate.rescreen", f"version {item.version}: held")]


def test_an_approved_item_stays_when_its_findings_are_the_ones_approved(site: Portal, tmp_path: Path) -> None:
    path = site.add(2, "临时救助对象公示", f"救助对象：张三，身份证号{ID}，救助金额1200元。")
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    assert site.cli("review", "approve", str(item.id), "--reason", "脱敏公示") == 0
    site.cycle()
    assert site.item(path).state in ON_AIR

    (tmp_path / "keywords" / "words.txt").write_text("# 敏感词\n无关词\n", encoding="utf-8")  # the gate changed
    site.cycle()
    assert site.item(path).state in ON_AIR and path in site.manifest()
    assert [a for a, _ in audits(site, item.id)] == ["review.approve-masked"]


def test_a_policy_change_redraws_an_item_masked(site: Portal) -> None:
    path = site.add(3, "关于开展义诊活动的通知", "报名电话：0571-88990011。")
    site.cycle()
    assert "0571-88990011" in "".join(site.page_lines(site.item(path)))

    cfg = site.config.read_text(encoding="utf-8") + '\n[gate.policy]\nlandline = "mask"\n'
    site.config.write_text(cfg, encoding="utf-8")
    site.cycle()
    item = site.item(path)
    assert item.state in ON_AIR
    text = "".join(site.page_lines(item))
    assert "0571-88990011" not in text and "0571" in text
    assert audits(site, item.id) == [("gate.rescreen", f"version {item.version}: screened")]


def test_an_attachment_that_changes_is_screened_again(site: Portal) -> None:
    upload = site.root / "upload" / "2026" / "list.xlsx"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(xlsx(["序号", "项目", "金额"], [1, "道路养护", 12000]))
    link = '附件：<a href="/upload/2026/list.xlsx">项目清单.xlsx</a>'
    path = site.add(4, "2026年道路养护项目公示", "现将道路养护项目公示如下，公示期7天。", link)
    site.cycle()
    item = site.item(path)
    assert item.state in ON_AIR, item.state_reason

    # The office replaces the spreadsheet behind the same link (the page itself is unchanged).
    upload.write_bytes(xlsx(["序号", "姓名", "身份证号", "类别"], [1, "王桂兰", ID, "低保"]))
    site.cycle()
    assert site.item(path).state in ON_AIR  # not re-read before the source's recheck interval

    rt = site.runtime()
    try:
        assert rescreen_on_air(rt, now=datetime.now(UTC) + timedelta(hours=7)) == 1
    finally:
        rt.close()
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    found = json.loads(item.findings)
    assert {(f["detector"], f.get("source")) for f in found} >= {("id_card", "项目清单.xlsx"), ("person_name", "项目清单.xlsx")}
    assert path not in site.manifest()
    assert audits(site, item.id) == [("gate.rescreen", f"version {item.version}: held")]
    assert main(["review", "list", "--config", str(site.config)]) == 0


def test_a_roster_in_an_attached_xlsx_is_held_shown_and_aired_masked_only_after_approval(
    site: Portal, capsys: pytest.CaptureFixture[str]
) -> None:
    upload = site.root / "upload" / "2026" / "dibao.xlsx"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(
        xlsx(
            ["序号", "姓名", "身份证号码", "联系电话", "救助类别"],
            [1, "王桂兰", ID, "13812345678", "低保"],
            [2, "欧阳娜娜", ID[:-1] + ("1" if ID[-1] != "1" else "2"), "13987654321", "特困"],  # a mistyped check digit
        )
    )
    link = '<a href="/upload/2026/dibao.xlsx">2026年低保对象名单.xlsx</a>'
    path = site.add(5, "2026年第四季度低保对象公示", "现将低保对象名单予以公示，详见附件。", link)
    site.cycle()
    item = site.item(path)
    assert item.state == ItemState.HELD
    in_file = {(f["detector"], f["text"]) for f in json.loads(item.findings) if f.get("source") == "2026年低保对象名单.xlsx"}
    assert {("person_name", "王桂兰"), ("person_name", "欧阳娜娜"), ("id_card", ID), ("mobile", "13812345678")} <= in_file
    assert site.page_lines(item) == []  # never drawn
    headend = [p for p in site.headend.rglob("*") if p.is_file()]
    assert all(b not in p.read_bytes() for p in headend for b in (ID.encode(), "王桂兰".encode(), b"13812345678"))
    assert path not in site.manifest()

    capsys.readouterr()
    assert site.cli("review", "show", str(item.id)) == 0
    shown = capsys.readouterr().out
    assert "附件：2026年低保对象名单.xlsx" in shown and "check digit wrong" in shown
    assert "王*" in shown and ID[:6] + "********" + ID[-4:] in shown  # how it would air if approved masked

    site.cycle()  # still held: nothing reaches the headend before a decision
    assert site.item(path).state == ItemState.HELD and path not in site.manifest()

    assert site.cli("review", "approve", str(item.id), "--reason", "低保公示，脱敏后播出") == 0
    site.cycle()
    aired = site.item(path)
    assert aired.state in ON_AIR and path in site.manifest()
    text = "".join(site.page_lines(aired))
    assert ID[:6] + "********" + ID[-4:] in text and "王*" in text and "欧阳**" in text and "138****5678" in text
    for p in site.headend.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert ID.encode() not in data and "王桂兰".encode() not in data and b"13812345678" not in data, p.name
