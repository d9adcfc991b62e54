"""channel.xml of format 2: a small root naming a content-addressed manifest per column, the
column cut into shelves (a menu page and the items it lists) so that an edit stays local."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree

from feeds.channel import (
    FANOUT,
    FORMAT,
    NS,
    SHELF_ITEMS,
    Built,
    ChannelSpec,
    ColumnSpec,
    ItemSpec,
    PageRef,
    build_channel,
    build_manifest,
    digest,
    expand_manifest,
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


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def channel(per_column: dict[str, int], *, per_menu: int = 5, edit: str = "", body: str = "") -> ChannelSpec:
    """Columns of n items each, menu pages of ``per_menu`` entries, items of two pages; ``edit``
    (an item id) gets new pages drawn from ``body``."""
    home = (PageRef("home-1", sha("home"), 100, 1280, 720, tuple((n, f"c-{c}-1", "", 0, 0, 1, 1) for n, c in enumerate(per_column, 1))),)
    columns, items = [], []
    for c, n in per_column.items():
        ids = [f"i{c}{k}" for k in range(n)]
        menus = []
        for m in range(0, max(n, 1), per_menu):
            entries = tuple((k + 1, f"{iid}-1", iid, 64, 100 + 60 * k, 1000, 50) for k, iid in enumerate(ids[m : m + per_menu]))
            menus.append(PageRef(f"c-{c}-{m // per_menu + 1}", sha(f"menu {c} {m}"), 200, 1280, 720, entries, (("BACK", "home-1"),)))
        columns.append(ColumnSpec(c, f"栏目{c}", None, n, tuple(menus)))
        for iid in ids:
            label = f"{iid} {body}" if iid == edit else iid
            pages = tuple(PageRef(f"{iid}-{p}", sha(f"{label} {p}"), 20_000, 1280, 720, (), (("BACK", f"c-{c}-1"),)) for p in (1, 2))
            items.append(ItemSpec(iid, c, 2 if iid == edit else 1, f"关于{iid}的通知", f"http://portal.example/{iid}.html", pages,
                                  published=WHEN, publisher="永康市人民政府办公室", index_no=f"330784/2026-{iid}"))  # fmt: skip
    return ChannelSpec("永康市数字电视政务频道", "hd", 1280, 720, home, tuple(columns), tuple(items))


def reader(built: Built):  # type: ignore[no-untyped-def]
    return built.parts.get


def test_the_root_names_a_manifest_per_column_and_holds_no_item() -> None:
    built = build_channel(channel({"a": 12, "b": 3}), 7, WHEN)
    root = parse_xml(built.root)
    assert (root.get("format"), root.get("version")) == (str(FORMAT), "7")
    assert root.find(f"{Q}items") is None and not root.findall(f"{Q}columns/{Q}column/{Q}page")
    refs = {c.get("id"): c.get("href") for c in root.iter(f"{Q}column")}
    assert set(refs) == {"a", "b"} and all(h in built.parts for h in refs.values())
    for href, data in built.parts.items():
        assert href == f"assets/{hashlib.sha256(data).hexdigest()}.xml"
        validate_part(data)
    # Everything the version needs, through the parts: every page, every part.
    tree = manifest_tree(built.root, reader(built))
    spec = channel({"a": 12, "b": 3})
    assert {h for h in tree if h.endswith(".png")} == set(spec.assets())
    assert {h for h in tree if h.endswith(".xml")} == set(built.parts)


def test_expanded_it_is_the_whole_channel_of_format_1() -> None:
    spec = channel({"a": 12, "b": 3})
    built = build_channel(spec, 3, WHEN)
    whole = expand_manifest(built.root, reader(built))
    one = build_manifest(spec, 3, WHEN)
    assert etree.tostring(parse_xml(whole), method="c14n") == etree.tostring(parse_xml(one), method="c14n")
    assert read_spec(whole) == (spec, 3, WHEN)
    # And back: a document of format 1 cut into the same root and parts.
    again = split_manifest(one)
    assert again == built


def test_a_one_item_edit_changes_its_shelf_and_the_root_only() -> None:
    before = build_channel(channel({"a": 40, "b": 40, "c": 40}), 1, WHEN)
    after = build_channel(channel({"a": 40, "b": 40, "c": 40}, edit="ib17", body="改"), 2, WHEN)
    new = {h: d for h, d in after.parts.items() if h not in before.parts}
    # The shelf of ib17 (its menu page and the 5 items listed there) and column b's manifest.
    assert len(new) == 2
    assert sum(len(d) for d in new.values()) + len(after.root) < 0.3 * 2 * 20_000
    assert len(after.parts) == len(before.parts)


def test_a_large_column_is_a_small_tree() -> None:
    n = 5 * FANOUT * 3  # 48 menu pages
    built = build_channel(channel({"a": n}), 1, WHEN)
    root = parse_xml(built.root)
    top = parse_xml(built.parts[root.find(f"{Q}columns/{Q}column").get("href")])
    assert len(top.findall(f"{Q}part")) == 3 and not top.findall(f"{Q}item")
    assert all(len(parse_xml(d).findall(f"{Q}part")) <= FANOUT for d in built.parts.values())
    assert len(expand_manifest(built.root, reader(built))) > 10 * len(built.root)
    edited = build_channel(channel({"a": n}, edit="ia77", body="新"), 2, WHEN)
    assert len(set(edited.parts) - set(built.parts)) == 3  # shelf, its group, the column's top


def test_items_no_menu_page_lists_go_in_shelves_of_their_own() -> None:
    spec = channel({"a": 20})
    bare = replace(spec, columns=(replace(spec.columns[0], pages=(replace(spec.columns[0].pages[0], entries=()),)),))
    built = build_channel(bare, 1, WHEN)
    shelves = [parse_xml(d) for d in built.parts.values() if parse_xml(d).find(f"{Q}item") is not None]
    assert sorted(len(s.findall(f"{Q}item")) for s in shelves) == [4, SHELF_ITEMS, SHELF_ITEMS]
    assert read_spec(expand_manifest(built.root, reader(built)))[0] == bare


def test_the_digest_follows_the_content_not_the_version() -> None:
    assert digest(channel({"a": 9})) == digest(channel({"a": 9}))
    assert digest(channel({"a": 9})) != digest(channel({"a": 9}, edit="ia3", body="x"))
    assert build_channel(channel({"a": 9}), 1, WHEN).parts == build_channel(channel({"a": 9}), 5, datetime(2027, 1, 1, tzinfo=UTC)).parts


def test_what_the_schema_and_the_reader_refuse() -> None:
    built = build_channel(channel({"a": 6}), 1, WHEN)
    whole = build_manifest(channel({"a": 6}), 1, WHEN)
    shelf = next(d for d in built.parts.values() if b"<item" in d)
    with pytest.raises(ChannelError, match="schema"):
        validate_part(built.root)  # a root is no part
    with pytest.raises(ChannelError, match="schema"):
        validate(shelf)  # a part is no root
    with pytest.raises(ChannelError, match="schema"):
        validate_part(shelf.replace(b'version="1"', b'version="0"', 1))
    with pytest.raises(ChannelError, match="must name its manifest"):
        validate(whole.replace(b"<channel ", b'<channel format="2" ', 1))
    with pytest.raises(ChannelError, match="cannot read"):
        validate(built.root.replace(b'format="2"', b'format="3"'))
    href = next(iter(built.parts))
    with pytest.raises(ChannelError, match="missing"):
        manifest_tree(built.root, {k: v for k, v in built.parts.items() if k != href}.get)
    with pytest.raises(ChannelError, match="corrupt"):
        manifest_tree(built.root, {**built.parts, href: built.parts[href] + b" "}.get)
    # Only the root's own references without a reader (what a headend listing is checked against).
    assert set(manifest_assets(built.root)) == {"assets/" + sha("home") + ".png", *(h for h in built.parts if h in built.root.decode())}
