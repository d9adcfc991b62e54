"""Issue 15, finding 1: one bad link must not freeze the channel.

A portal on 127.0.0.1 links ``/art/ok[1].html``, ``?x=[1]`` and a stray ``%`` (none of them an
``xs:anyURI``), in its lists, its RSS feed, a detail redirect, a picture and an attachment. They
are read percent-encoded, so every item airs. Independently, an item whose data still fails the
schema (stored before the fix) is left out alone, FAILED with the schema's reason in ``status``,
and an urgent alert still goes on air with the rest of the channel.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from hostile_site import Site, article, config, runtime, serving, write_toml
from PIL import Image
from sqlmodel import select

from feeds.channel import headend_manifest, validate
from feeds.xmlsafe import parse_xml
from pusher.cli import main
from pusher.ops import run_cycle
from pusher.ops.status import collect_status
from pusher.runtime import Runtime
from pusher.stages.publish import SCHEMA_FAILURE
from pusher.states import ItemState
from pusher.store.models import Item

NS = "{urn:tvpusher:channel:1}"
URGENT = "城区供水主管破裂，今晚停水，请提前储水。"


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("森林防火责任表：各乡镇、街道负责辖区内防火工作。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 90, 200)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def portal() -> Iterator[Site]:
    with serving() as p:
        p.html(
            "/list.html",
            "<html><body><ul>"
            "<li><a href='/art/ok[1].html'>关于冬季森林防火的通告</a></li>"
            "<li><a href='/art/q.html?x=[1]'>关于调整公交线路的通知</a></li>"
            "<li><a href='/art/100%.html'>关于全面完成百分百覆盖的通报</a></li>"
            "<li><a href='/art/moved.html'>关于秋季征兵工作的公告</a></li>"
            "</ul></body></html>",
        )
        # The server sees what a browser sends: the same links, percent-encoded.
        p.html(
            "/art/ok%5B1%5D.html",
            article(
                "关于冬季森林防火的通告",
                "请各单位做好冬季森林防火工作。<img src='/img/p[1].png' alt='防火示意图'>"
                "<a href='/files/通知[1].docx'>附件：防火责任表</a>",
            ),
        )
        p.raw("/img/p%5B1%5D.png", _png(), "image/png")
        p.raw("/files/%E9%80%9A%E7%9F%A5%5B1%5D.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        p.html("/art/q.html?x=%5B1%5D", article("关于调整公交线路的通知", "即日起 12 路公交线路调整。"))
        p.html("/art/100%25.html", article("关于全面完成百分百覆盖的通报", "全市行政村宽带覆盖率达到百分之百。"))
        p.redirect("/art/moved.html", "/art/new[3].html?a=b c")
        p.html("/art/new%5B3%5D.html?a=b%20c", article("关于秋季征兵工作的公告", "2026年秋季征兵报名即日开始。"))
        p.raw(
            "/rss.xml",
            (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
                "<item><title>关于供水管网改造的公告</title><link>/art/rss[2].html?id=%zz</link></item>"
                "</channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        p.html("/art/rss%5B2%5D.html?id=%25zz", article("关于供水管网改造的公告", "城区供水管网改造期间部分路段临时停水。"))
        # Like most servers, it answers the raw forms too: a client that sends them gets the
        # pages, and stores links no manifest can hold (how the channel froze).
        for path in list(p.routes):
            p.routes.setdefault(unquote(path).replace("b c", "b%20c"), p.routes[path])
        yield p


def _sources(p: Site) -> list[dict[str, object]]:
    return [
        {"name": "html", "kind": "html", "url": f"{p.url}/list.html", "options": {"link_pattern": "/art/"}},
        {"name": "rss", "kind": "rss", "url": f"{p.url}/rss.xml"},
    ]


def _manifest(tmp_path: Path) -> bytes:
    return headend_manifest(tmp_path / "headend")


def _items(data: bytes) -> dict[str, str]:
    """Title → URL of every item on air."""
    return {el.findtext(f"{NS}title") or "": el.findtext(f"{NS}url") or "" for el in parse_xml(data).iter(f"{NS}item")}


def _alerts(data: bytes) -> list[tuple[str, str]]:
    return [(a.get("level", ""), a.findtext(f"{NS}text") or "") for a in parse_xml(data).iter(f"{NS}alert")]


def test_links_that_are_no_uri_are_read_percent_encoded_and_every_item_airs(portal: Site, tmp_path: Path) -> None:
    rt = runtime(tmp_path, _sources(portal))
    try:
        rep = run_cycle(rt)
        assert rep.version == 1 and rep.delivered, rep
        data = _manifest(tmp_path)
        validate(data)
        with rt.store.read() as db:
            states = [(it.url, it.state, it.state_reason) for it in db.exec(select(Item))]
        assert _items(data) == {
            "关于冬季森林防火的通告": f"{portal.url}/art/ok%5B1%5D.html",
            "关于调整公交线路的通知": f"{portal.url}/art/q.html?x=%5B1%5D",
            "关于全面完成百分百覆盖的通报": f"{portal.url}/art/100%25.html",
            "关于秋季征兵工作的公告": f"{portal.url}/art/moved.html",  # the item keeps the URL it was listed under
            "关于供水管网改造的公告": f"{portal.url}/art/rss%5B2%5D.html?id=%25zz",
        }, states
        atts = [a.get("url") for a in parse_xml(data).iter(f"{NS}attachment")]
        assert atts == [f"{portal.url}/files/%E9%80%9A%E7%9F%A5%5B1%5D.docx"]
        assert ("GET", "/img/p%5B1%5D.png") in portal.hits  # the picture was fetched by its valid URL
        assert ("GET", "/art/new%5B3%5D.html?a=b%20c") in portal.hits  # and the redirect followed
        assert not [path for _, path in portal.hits if "[" in path or "%.html" in path or "%zz" in path]
    finally:
        rt.close()
    cfg = write_toml(tmp_path / "tvpusher.toml", config(tmp_path, _sources(portal)))
    assert main(["alert", URGENT, "--level", "urgent", "--config", str(cfg)]) == 0
    assert _alerts(_manifest(tmp_path)) == [("urgent", URGENT)]


def _break(rt: Runtime, title: str, **values: str) -> int:
    """Give one stored item data no manifest can hold (as a store written before the fix has)."""
    with rt.store.write() as db:
        it = db.exec(select(Item).where(Item.title == title)).one()
        for k, v in values.items():
            setattr(it, k, v)
        db.add(it)
        return it.id or 0


def test_one_bad_item_is_left_out_alone_and_an_urgent_alert_still_airs(
    portal: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_toml(tmp_path / "tvpusher.toml", config(tmp_path, _sources(portal)))
    rt = runtime(tmp_path, _sources(portal))
    try:
        assert run_cycle(rt).version == 1
        bad_url = _break(rt, "关于冬季森林防火的通告", url="http://127.0.0.1/art/ok[1].html")
        bad_att = _break(rt, "关于调整公交线路的通知", attachments=json.dumps([{"name": "附件", "url": "http://127.0.0.1/a b%.pdf"}]))
    finally:
        rt.close()
    capsys.readouterr()
    assert main(["alert", URGENT, "--level", "urgent", "--config", str(cfg)]) == 0, capsys.readouterr()
    data = _manifest(tmp_path)
    validate(data)
    assert _alerts(data) == [("urgent", URGENT)]
    assert set(_items(data)) == {"关于全面完成百分百覆盖的通报", "关于秋季征兵工作的公告", "关于供水管网改造的公告"}
    rt = runtime(tmp_path, _sources(portal))
    try:
        with rt.store.read() as db:
            rows = {it.id: it for it in db.exec(select(Item))}
        for item_id, what in ((bad_url, "'http://127.0.0.1/art/ok[1].html'"), (bad_att, "attribute 'url'")):
            assert rows[item_id].state == ItemState.FAILED
            assert rows[item_id].state_reason.startswith(SCHEMA_FAILURE) and what in rows[item_id].state_reason
        failed = {f.id: f.reason for f in collect_status(rt).failed}
        assert set(failed) == {bad_url, bad_att} and all(r.startswith(SCHEMA_FAILURE) for r in failed.values())
        # Later rounds are not blocked either, and do not air the failed items.
        again = run_cycle(rt)
        assert not again.delivery_errors and again.states.get("failed") == 2
        assert len(_items(_manifest(tmp_path))) == 3
    finally:
        rt.close()
