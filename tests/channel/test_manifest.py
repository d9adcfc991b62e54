"""channel.xml: schema-valid, stable digest, hostile XML refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from feeds.channel import ChannelSpec, ColumnSpec, ItemSpec, PageRef, build_manifest, digest, manifest_assets, validate
from feeds.xmlsafe import parse_xml
from pusher.errors import ChannelError, ParseError

SHA = "a" * 64


def spec(title: str = "关于2026年冬季森林防火工作的通告") -> ChannelSpec:
    home = (PageRef("home-1", SHA, 100, 1280, 720, ((1, "c-zwgk-1", "", 64, 100, 1000, 50),)),)
    col = ColumnSpec(
        "zwgk",
        "政府信息公开",
        "red",
        1,
        (PageRef("c-zwgk-1", "b" * 64, 200, 1280, 720, ((1, "i1-1", "i1", 64, 100, 1000, 50),), (("BACK", "home-1"),)),),
    )
    item = ItemSpec("i1", "zwgk", 1, title, "http://127.0.0.1/art/1.html",
                    (PageRef("i1-1", "c" * 64, 300, 1280, 720, (), (("RIGHT", "i1-2"), ("BACK", "c-zwgk-1"))),
                     PageRef("i1-2", "d" * 64, 300, 1280, 720, (), (("LEFT", "i1-1"), ("BACK", "c-zwgk-1")))),
                    published=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), publisher="市应急管理局", index_no="330784/2026-1")  # fmt: skip
    return ChannelSpec("永康市数字电视政务频道", "hd", 1280, 720, home, (col,), (item,))


def test_manifest_validates_and_lists_assets() -> None:
    data = build_manifest(spec(), 7, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    validate(data)
    root = etree.fromstring(data)
    assert root.get("version") == "7"
    assets = manifest_assets(data)
    assert len(assets) == 4 and all(href == f"assets/{sha}.png" for href, (sha, _) in assets.items())
    assert root.get("bytes") == str(100 + 200 + 300 + 300)


def test_digest_ignores_version_and_time_but_not_content() -> None:
    assert digest(spec()) == digest(spec())
    assert digest(spec()) != digest(spec("另一个标题"))


def test_titles_are_text_not_markup() -> None:
    data = build_manifest(spec("<script>alert(1)</script>&"), 1, datetime(2026, 1, 1, tzinfo=UTC))
    root = parse_xml(data)
    assert root.find(".//{urn:tvpusher:channel:1}title").text == "<script>alert(1)</script>&"
    assert b"<script>" not in data


def test_schema_rejects_a_page_with_a_bad_hash() -> None:
    data = build_manifest(spec(), 1, datetime(2026, 1, 1, tzinfo=UTC)).replace(SHA.encode(), b"z" * 64)
    with pytest.raises(ChannelError, match="schema"):
        validate(data)


@pytest.mark.parametrize(
    "doc",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<x><unclosed></x>",
    ],
)
def test_hostile_xml_is_refused(doc: bytes) -> None:
    with pytest.raises(ParseError):
        parse_xml(doc)
