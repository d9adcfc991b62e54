"""Which items' data the channel schema refuses, checked a chunk of items at a time.

:func:`feeds.channel.invalid_items` builds the whole channel as one document (format 1),
serialises it, parses it back and validates it: a year's channel (15,000 items, 30,000 pages)
held two trees of it at once, the largest allocation of the publish stage (issue 19). An
item's element is valid or not on its own — the schema's only constraints between elements are
that page ids and item ids are unique — so the same answer comes from the channel's header
(alerts, home, columns with their menu pages) checked once without items, then the items
:data:`CHUNK` at a time under the header with its columns' pages left out. Ids are checked for
uniqueness here; where one repeats, the whole document is checked as before, so that the schema
names the offender.
"""

from __future__ import annotations

from dataclasses import replace

from feeds.channel import ChannelSpec, invalid_items

#: Items validated in one document: small enough that its tree is a few MB.
CHUNK = 500


def _ids_unique(spec: ChannelSpec) -> bool:
    items = [i.id for i in spec.items]
    pages = [p.id for p in spec.pages()]
    return len(set(items)) == len(items) and len(set(pages)) == len(pages)


def invalid_items_chunked(spec: ChannelSpec, chunk: int = CHUNK) -> dict[str, str]:
    """:func:`feeds.channel.invalid_items` of ``spec`` (the same items, the same reasons), with
    at most ``chunk`` items' elements in memory at a time. Raises
    :class:`~pusher.errors.ChannelError` for an error outside every item, as it does."""
    if len(spec.items) <= chunk or not _ids_unique(spec):
        return invalid_items(spec)
    bad = invalid_items(replace(spec, items=()))  # the header's errors raise; it holds no item
    bare = replace(spec, columns=tuple(replace(c, pages=()) for c in spec.columns))
    for start in range(0, len(spec.items), chunk):
        bad.update(invalid_items(replace(bare, items=spec.items[start : start + chunk])))
    return bad
