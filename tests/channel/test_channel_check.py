"""The chunked schema check names the same items, with the same reasons, as the whole-document one."""

from __future__ import annotations

import pytest

from feeds.channel import ChannelSpec, ColumnSpec, ItemSpec, PageRef, invalid_items
from feeds.channel_check import invalid_items_chunked
from pusher.errors import ChannelError

SHA = "a" * 64


def _page(pid: str) -> PageRef:
    return PageRef(pid, SHA, 10, 1280, 720)


def _spec(n: int, bad: set[int], *, column_of: dict[int, str] | None = None) -> ChannelSpec:
    def url(k: int) -> str:
        return "http://x/%zz" if k in bad else f"http://x/{k}"

    items = tuple(
        ItemSpec(f"i{k}", (column_of or {}).get(k, "c1"), 1, f"t{k}", url(k), (_page(f"i{k}-1"), _page(f"i{k}-2"))) for k in range(n)
    )
    menus = tuple(_page(f"c-c1-{k}") for k in range(1, 4))
    return ChannelSpec("ch", "hd", 1280, 720, (_page("home-1"),), (ColumnSpec("c1", "C", None, n, menus),), items)


@pytest.mark.parametrize("bad", [set(), {0}, {3, 7}, {4, 5, 6, 11}, set(range(12))])
def test_chunks_name_the_items_the_whole_document_names(bad: set[int]) -> None:
    spec = _spec(12, bad)
    whole = invalid_items(spec)
    assert set(whole) == {f"i{k}" for k in bad}
    assert invalid_items_chunked(spec, chunk=5) == whole
    assert invalid_items_chunked(spec, chunk=1) == whole


def test_a_repeated_page_id_is_judged_on_the_whole_document() -> None:
    spec = _spec(12, set())
    twin = spec.items[9]
    items = (*spec.items[:9], ItemSpec(twin.id, twin.column, 1, twin.title, twin.url, spec.items[2].pages), *spec.items[10:])
    spec = ChannelSpec(spec.name, spec.profile, spec.width, spec.height, spec.home, spec.columns, items)
    assert invalid_items_chunked(spec, chunk=5) == invalid_items(spec) != {}


def test_an_error_outside_every_item_raises() -> None:
    spec = _spec(12, {3})
    broken = ChannelSpec(spec.name, spec.profile, 0, spec.height, spec.home, spec.columns, spec.items)  # width 0: not positive
    with pytest.raises(ChannelError):
        invalid_items(broken)
    with pytest.raises(ChannelError):
        invalid_items_chunked(broken, chunk=5)
