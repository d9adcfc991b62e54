"""channel.xml of format 3: a small root naming content-addressed parts for the home menu and
each column, a column cut into one part per menu page or item under a tree of hashes, so that
an edit sends its leaf, the few names on its path and the root; format 2 still reads."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from feeds.channel import (
    FANOUT,
    FORMAT,
    NS,
    Built,
    ChannelSpec,
    ColumnSpec,
    ItemSpec,
    PageRef,
    build_channel,
    build_manifest,
    digest,
    expand_manifest,
    folder_reader,
    manifest_assets,
    manifest_tree,
    read_spec,
    split_manifest,
    validate,
    validate_part,
)
from feeds.xmlsafe import parse_xml
from pusher.errors import ChannelError

WHEN = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
Q = f"{{{NS}}}"
FORMAT2 = Path(__file__).resolve().parents[1] / "fixtures" / "channel-format2"


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def turns(ids: list[str], n: int) -> list[tuple[str, str]]:
    return ([("LEFT", ids[n - 1])] if n else []) + ([("RIGHT", ids[n + 1])] if n + 1 < len(ids) else [])


def channel(per_column: dict[str, int], *, per_menu: int = 5, edit: str = "", body: str = "", pages: int = 2) -> ChannelSpec:
    """Columns of n items each, menu pages of ``per_menu`` entries, items of ``pages`` pages with
    the keys publish gives them; ``edit`` (an item id) gets new pages drawn from ``body``."""
    cols = list(per_column)
    home = (PageRef("home-1", sha("home"), 100, 1280, 720, tuple((n, f"c-{c}-1", "", 0, 0, 1, 1) for n, c in enumerate(cols, 1))),)
    columns, items = [], []
    for c, n in per_column.items():
        ch = [("CH_UP", f"c-{cols[(cols.index(c) + 1) % len(cols)]}-1"), ("CH_DOWN", f"c-{cols[cols.index(c) - 1]}-1")]
        ids = [f"i{c}{k}" for k in range(n)]
        menu_ids = [f"c-{c}-{m + 1}" for m in range(max(1, math.ceil(n / per_menu)))]
        menus = []
        for m, mid in enumerate(menu_ids):
            listed = ids[m * per_menu : (m + 1) * per_menu]
            entries = tuple((k + 1, f"{iid}-1", iid, 64, 100 + 60 * k, 1000, 50) for k, iid in enumerate(listed))
            menus.append(PageRef(mid, sha(f"menu {c} {m}"), 200, 1280, 720, entries, (*turns(menu_ids, m), ("BACK", "home-1"), *ch)))
        columns.append(ColumnSpec(c, f"栏目{c}", None, n, tuple(menus)))
        for k, iid in enumerate(ids):
            label = f"{iid} {body}" if iid == edit else iid
            pids = [f"{iid}-{p}" for p in range(1, pages + 1)]
            back = ("BACK", menu_ids[k // per_menu])
            refs = tuple(
                PageRef(pid, sha(f"{label} {p}"), 20_000, 1280, 720, (), (*turns(pids, p), back, *ch)) for p, pid in enumerate(pids)
            )
            items.append(ItemSpec(iid, c, 2 if iid == edit else 1, f"关于{iid}的通知", f"http://portal.example/{iid}.html", refs,
                                  published=WHEN, publisher="永康市人民政府办公室", index_no=f"330784/2026-{iid}"))  # fmt: skip
    return ChannelSpec("永康市数字电视政务频道", "hd", 1280, 720, home, tuple(columns), tuple(items))


def reader(built: Built):  # type: ignore[no-untyped-def]
    return built.parts.get


def tree_of(built: Built, column: str) -> list[list[str]]:
    """A column's parts by level, top first (hrefs)."""
    root = parse_xml(built.root)
    [c] = [c for c in root.iter(f"{Q}column") if c.get("id") == column]
    levels, level = [], [f"assets/{c.get('part')}.xml"]
    while level:
        levels.append(level)
        level = [f"assets/{s}.xml" for h in level for s in parse_xml(built.parts[h]).get("parts", "").split()]
    return levels


def test_the_root_names_a_part_for_the_home_menu_and_each_column() -> None:
    built = build_channel(channel({"a": 12, "b": 3}), 7, WHEN)
    root = parse_xml(built.root)
    assert (root.get("format"), root.get("version")) == (str(FORMAT), "7") and FORMAT == 3
    assert root.find(f"{Q}items") is None and not list(root.iter(f"{Q}page"))
    refs = {c.get("id"): f"assets/{c.get('part')}.xml" for c in root.iter(f"{Q}column")}
    home = f"assets/{root.find(f'{Q}home').get('part')}.xml"
    assert set(refs) == {"a", "b"} and all(h in built.parts for h in [*refs.values(), home])
    assert [p.get("id") for p in parse_xml(built.parts[home]).iter(f"{Q}page")] == ["home-1"]
    for href, data in built.parts.items():
        assert href == f"assets/{hashlib.sha256(data).hexdigest()}.xml"
        validate_part(data)
        # The href names the hash: no page repeats it. A part of hashes and ids needs no declaration.
        assert b"sha256=" not in data and data.startswith(b"<?xml") != data.isascii()
    # Everything the version needs, through the parts: every page, every part, with its size.
    tree = manifest_tree(built.root, reader(built))
    assert {h for h in tree if h.endswith(".png")} == set(channel({"a": 12, "b": 3}).assets())
    assert {h: n for h, (_, n) in tree.items() if h.endswith(".xml")} == built.assets()


def test_expanded_it_is_the_whole_channel_of_format_1() -> None:
    spec = channel({"a": 12, "b": 3, "c": 0}, pages=3)
    built = build_channel(spec, 3, WHEN)
    whole = expand_manifest(built.root, reader(built))
    one = build_manifest(spec, 3, WHEN)
    assert whole == one  # byte for byte
    assert read_spec(whole) == (spec, 3, WHEN)
    # And back: a document of format 1 cut into the same root and parts.
    assert split_manifest(one) == built


def test_an_item_writes_the_keys_its_pages_share_once() -> None:
    spec = channel({"a": 3, "b": 1}, pages=3)
    built = build_channel(spec, 1, WHEN)
    [leaf] = [parse_xml(d) for d in built.parts.values() if b'<item id="ia1"' in d]
    item = leaf.find(f"{Q}item")
    assert [(k.get("code"), k.get("to")) for k in item.findall(f"{Q}key")] == [("BACK", "c-a-1"), ("CH_UP", "c-b-1"), ("CH_DOWN", "c-b-1")]
    # Each page turns to the pages beside it: said once, on the item.
    assert item.get("turns") == "true" and not item.findall(f"{Q}page/{Q}key")
    # Read back, each page has its turns, its own keys, then the item's: as the spec said.
    [back] = [i for i in read_spec(expand_manifest(built.root, reader(built)))[0].items if i.id == "ia1"]
    assert back == next(i for i in spec.items if i.id == "ia1")
    # Pages that do not turn so keep their keys; keys only some pages have stay on them.
    [it] = [i for i in spec.items if i.id == "ia1"]
    odd = replace(it, pages=(replace(it.pages[0], keys=(("UP", "home-1"), *it.pages[0].keys)), it.pages[1], replace(it.pages[2], keys=())))
    built = build_channel(replace(spec, items=tuple(odd if i.id == "ia1" else i for i in spec.items)), 1, WHEN)
    item = next(parse_xml(d) for d in built.parts.values() if b'<item id="ia1"' in d).find(f"{Q}item")
    assert item.get("turns") is None and not item.findall(f"{Q}key")
    assert [[k.get("code") for k in p.findall(f"{Q}key")] for p in item.findall(f"{Q}page")][2] == []
    [back] = [i for i in read_spec(expand_manifest(built.root, reader(built)))[0].items if i.id == "ia1"]
    assert back == odd


def test_a_one_item_edit_sends_its_leaf_the_names_on_its_path_and_the_root() -> None:
    before = build_channel(channel({"a": 40, "b": 40, "c": 40}), 1, WHEN)
    after = build_channel(channel({"a": 40, "b": 40, "c": 40}, edit="ib17", body="改"), 2, WHEN)
    new = {h: d for h, d in after.parts.items() if h not in before.parts}
    levels = tree_of(after, "b")
    path = {h for level in levels for h in level if h in new}
    assert len(new) == len(levels) == len(path), "the leaf and one part on each level above it, all column b's"
    [leaf] = [parse_xml(new[h]) for h in levels[-1] if h in new]
    assert [i.get("id") for i in leaf.iter(f"{Q}item")] == ["ib17"]
    # Against the item's 2 new pages of 20 kB: the manifests of the update are a few percent.
    assert sum(len(d) for d in new.values()) + len(after.root) < 0.1 * 2 * 20_000
    assert len(after.parts) == len(before.parts)


def test_a_large_column_is_a_small_tree() -> None:
    n = 5 * 60  # 60 menu pages, 360 leaves
    built = build_channel(channel({"a": n}), 1, WHEN)
    levels = tree_of(built, "a")
    assert len(levels[-1]) == n + 60 and len(levels) == 1 + math.ceil(math.log(n + 60, FANOUT))
    assert all(len(parse_xml(d).get("parts", "").split()) <= FANOUT for d in built.parts.values())
    assert len(expand_manifest(built.root, reader(built))) > 10 * len(built.root)
    edited = build_channel(channel({"a": n}, edit="ia77", body="新"), 2, WHEN)
    assert len(set(edited.parts) - set(built.parts)) == len(levels)


def test_items_no_menu_page_lists_have_leaves_of_their_own() -> None:
    spec = channel({"a": 20})
    bare = replace(spec, columns=(replace(spec.columns[0], pages=(replace(spec.columns[0].pages[0], entries=()),)),))
    built = build_channel(bare, 1, WHEN)
    leaves = [parse_xml(d) for d in built.parts.values() if parse_xml(d).find(f"{Q}item") is not None]
    assert len(leaves) == 20 and all(len(s.findall(f"{Q}item")) == 1 for s in leaves)
    assert read_spec(expand_manifest(built.root, reader(built)))[0] == bare


def test_the_digest_follows_the_content_not_the_version() -> None:
    assert digest(channel({"a": 9})) == digest(channel({"a": 9}))
    assert digest(channel({"a": 9})) != digest(channel({"a": 9}, edit="ia3", body="x"))
    assert build_channel(channel({"a": 9}), 1, WHEN).parts == build_channel(channel({"a": 9}), 5, datetime(2027, 1, 1, tzinfo=UTC)).parts


def test_what_the_schema_and_the_reader_refuse() -> None:
    built = build_channel(channel({"a": 6}), 1, WHEN)
    whole = build_manifest(channel({"a": 6}), 1, WHEN)
    leaf = next(d for d in built.parts.values() if b"<item" in d)
    with pytest.raises(ChannelError, match="schema"):
        validate_part(built.root)  # a root is no part
    with pytest.raises(ChannelError, match="schema"):
        validate(leaf)  # a part is no root
    with pytest.raises(ChannelError, match="schema"):
        validate_part(leaf.replace(b'version="1"', b'version="0"', 1))
    with pytest.raises(ChannelError, match="home menu must name its part"):
        validate(whole.replace(b"<channel ", b'<channel format="3" ', 1))
    top = parse_xml(built.root).find(f"{Q}columns/{Q}column").get("part", "")
    with pytest.raises(ChannelError, match="column a must name its manifest"):
        validate(built.root.replace(f' part="{top}"'.encode(), b""))
    with pytest.raises(ChannelError, match="home menu must hold its pages"):
        validate(built.root.replace(b'format="3"', b'format="2"'))
    with pytest.raises(ChannelError, match="cannot read"):
        validate(built.root.replace(b'format="3"', b'format="4"'))
    with pytest.raises(ChannelError, match="must carry its sha256"):
        validate(re.sub(rb' sha256="[0-9a-f]+"', b"", whole, count=1))
    with pytest.raises(ChannelError, match="not the one its href names"):
        validate(whole.replace(f'sha256="{sha("home")}"'.encode(), f'sha256="{sha("other")}"'.encode()))
    href = next(iter(built.parts))
    with pytest.raises(ChannelError, match="missing"):
        manifest_tree(built.root, {k: v for k, v in built.parts.items() if k != href}.get)
    with pytest.raises(ChannelError, match="corrupt"):
        manifest_tree(built.root, {**built.parts, href: built.parts[href] + b" "}.get)
    # Only the root's own references without a reader (what a headend listing is checked against).
    assert set(manifest_assets(built.root)) == set(tree_of(built, "a")[0]) | {h for h in built.parts if h[7:-4].encode() in built.root}


def test_a_hostile_tree_is_refused_before_it_is_walked() -> None:
    built = build_channel(channel({"a": 6}), 1, WHEN)
    root = parse_xml(built.root)
    column = root.find(f"{Q}columns/{Q}column")
    leaf = next(s for s in parse_xml(built.parts[f"assets/{column.get('part')}.xml"]).get("parts", "").split())
    # One part named many times on every level is 5**30 walks: refused at the second naming.
    parts, name = dict(built.parts), leaf
    for _ in range(30):
        data = f'<part xmlns="{NS}" parts="{" ".join([name] * 5)}"/>'.encode()
        name = hashlib.sha256(data).hexdigest()
        parts[f"assets/{name}.xml"] = data
    bomb = built.root.replace(column.get("part", "").encode(), name.encode())
    with pytest.raises(ChannelError, match="named twice"):
        manifest_tree(bomb, parts.get)
    # A name that is no part's is never read (a reader over a folder would climb out of it).
    asked: list[str] = []

    def read(href: str) -> bytes | None:
        asked.append(href)
        return parts.get(href)

    with pytest.raises(ChannelError, match="no column manifest"):
        manifest_tree(bomb.replace(f'part="{name}"'.encode(), f'href="../../etc/passwd" sha256="{name}" bytes="1"'.encode()), read)
    assert all(not h.startswith("../") for h in asked)


def test_a_channel_of_format_2_still_reads(tmp_path: Path) -> None:
    """A headend (or a store's old version) written by the format-2 writer: menu pages and the
    items they list in shelves under parts of 16 names, pages with their sha256 (fixture)."""
    root = (FORMAT2 / "channel.xml").read_bytes()
    assert parse_xml(root).get("format") == "2"
    whole = expand_manifest(root, folder_reader(FORMAT2))
    assert etree.tostring(parse_xml(whole), method="c14n") == etree.tostring(parse_xml((FORMAT2 / "whole.xml").read_bytes()), method="c14n")
    spec, version, _ = read_spec(whole)
    assert (version, len(spec.items), [len(c.pages) for c in spec.columns]) == (4, 21, [18, 1])
    files = {f"assets/{p.name}" for p in (FORMAT2 / "assets").iterdir()}
    tree = manifest_tree(root, folder_reader(FORMAT2))
    assert set(tree) == files and all(n == (FORMAT2 / h).stat().st_size for h, (_, n) in tree.items())
    # Cut again, it is a channel of format 3 with the same content (the extension stays in the root).
    again = split_manifest(whole)
    assert parse_xml(again.root).get("format") == "3" and b"urn:example:future" in again.root
    assert expand_manifest(again.root, again.parts.get) == whole
    # A format-2 part is checked against the size its root gives.
    copy = tmp_path / "headend"
    shutil.copytree(FORMAT2, copy)
    top = parse_xml(root).find(f"{Q}columns/{Q}column").get("href")
    (copy / top).write_bytes((copy / top).read_bytes() + b"\n")
    with pytest.raises(ChannelError, match="corrupt"):
        manifest_tree(root, folder_reader(copy))
