"""Page images lost from the asset cache, drawn again from the store.

The cache (``channel.workdir/assets``) is a cache: its files can be deleted (a full disk
cleaned, a new disk, a careless operator) while the store still holds every item's screened
document and every page's row. Without this, every round failed reading a page that was gone
("missing from the local asset store"), and a headend that later lost files could never be
repaired (issue 15, finding 4).

A page is drawn again exactly as the render stage drew it — the item's screened document cut
by :func:`pusher.store.codec.bounded`, the same context, the day the page was drawn in its
header band — so its bytes and sha256 are the same and every manifest that names it stays good.
When the drawing comes out different (a font or the configuration changed since), the item goes
back to be drawn anew: the next version carries new pages and the old name is given up.
Menu pages are not drawn here: publish draws any menu whose pages are missing each round.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from pusher.interfaces import PageContext, Renderer
from pusher.names import item_owner, parse_item_owner
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store.assets import AssetStore
from pusher.store.codec import bounded, document_of
from pusher.store.db import Store
from pusher.store.models import Item, Page
from pusher.timeutil import local

log = logging.getLogger("tvpusher.redraw")

#: Why an item goes back to be drawn when its lost pages come out different.
REDRAW_REASON = "render again: pages lost from the asset cache"


@dataclass(frozen=True)
class Drawing:
    """What a page is drawn with, besides the item: the channel's settings as plain values
    (the store knows nothing of the settings models)."""

    channel: str
    columns: dict[str, str]  # column id → name
    timezone: str
    max_pages: int


class Redrawer:
    """``restore(sha256, ext)`` for :class:`AssetStore`: True once the file is back in the cache."""

    def __init__(self, store: Store, assets: AssetStore, renderer: Callable[[], Renderer], drawing: Drawing) -> None:
        self.store, self.assets, self.renderer, self.drawing = store, assets, renderer, drawing

    def __call__(self, sha256: str, ext: str) -> bool:
        if ext != "png":
            return False  # exports and video are rebuilt by publish, not drawn
        renderer = self.renderer()
        profile = renderer.profile.name
        with self.store.read() as db:
            rows = list(db.exec(select(Page).where(Page.sha256 == sha256, Page.profile == profile)))
        for row in rows:
            try:
                item_id = parse_item_owner(row.owner)
            except ValueError:
                continue  # a menu, the home page or an alert: publish draws those again itself
            if self._redraw_item(renderer, item_id, row, sha256):
                return True
        if not rows:
            log.warning("asset %s.%s is lost from the cache and no page of the store has it", sha256, ext)
        return False

    def _redraw_item(self, renderer: Renderer, item_id: int, row: Page, sha256: str) -> bool:
        with self.store.read() as db:
            item = db.get(Item, item_id)
            if item is None or item.rendered_version != row.version:
                return False
            siblings = list(
                db.exec(
                    select(Page)
                    .where(Page.owner == item_owner(item_id), Page.profile == row.profile, Page.version == row.version)
                    .order_by(col(Page.seq))
                )
            )
        d = self.drawing
        drawn_at = local(row.created_at, d.timezone)
        # The header band shows the day the page was drawn; a render that ran across midnight
        # stamped its rows the next day.
        days = [drawn_at.date()] + ([drawn_at.date() - timedelta(days=1)] if drawn_at.hour == 0 else [])
        doc = bounded(document_of(item, screened=True), d.max_pages)
        for day in days:
            ctx = PageContext(channel=d.channel, column=d.columns.get(item.column, ""), today=day)
            try:
                pages = list(renderer.render_item(doc, ctx))
            except Exception as exc:  # the item no longer draws: it goes back to the render stage
                log.warning("item %s cannot be drawn again: %s", item_id, exc, extra={"item": item_id})
                break
            shas = [hashlib.sha256(p.png).hexdigest() for p in pages]
            if shas == [s.sha256 for s in siblings]:
                for p, s in zip(pages, shas, strict=True):
                    if not self.assets.has(s):
                        self.assets.put(p.png)
                log.info("pages of item %s drawn again into the asset cache", item_id, extra={"item": item_id})
                return True
        self._requeue(item_id, row.version)
        return False

    def _requeue(self, item_id: int, version: int) -> None:
        """The pages cannot be had again as they were: the item is drawn anew for the next version."""
        with self.store.write() as db:
            item = db.get(Item, item_id)
            if item is not None and item.rendered_version == version and item.state in ON_AIR:
                set_state(item, ItemState.SCREENED, REDRAW_REASON)
                log.warning("item %s's lost pages come out different now: it is drawn anew for the next version", item_id,
                            extra={"item": item_id})  # fmt: skip
