"""Render screened items into page images (the slow, CPU-bound stage: no transaction open)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import delete, select

from pusher.codec import document_of
from pusher.errors import RenderError
from pusher.interfaces import PageContext, PageImage
from pusher.models import Item, Page
from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.timeutil import local, utcnow

log = logging.getLogger("tvpusher.render")


@dataclass
class RenderReport:
    items: int = 0
    pages: int = 0
    bytes: int = 0
    failed: int = 0


def store_pages(rt: Runtime, owner: str, version: int, pages: Sequence[PageImage]) -> list[Page]:
    """Write page images to the asset cache and return their (unsaved) rows."""
    rows = []
    for seq, p in enumerate(pages, 1):
        sha = rt.assets.put(p.png)
        layout = {"lines": list(p.lines), "entries": [list(e) for e in p.entries]}
        rows.append(Page(owner=owner, version=version, seq=seq, profile=rt.renderer.profile.name, sha256=sha, bytes=len(p.png),
                         width=p.width, height=p.height, layout=json.dumps(layout, ensure_ascii=False)))  # fmt: skip
    return rows


def render_items(rt: Runtime, limit: int = 200) -> RenderReport:
    report = RenderReport()
    with rt.store.read() as db:
        work = list(db.exec(select(Item).where(Item.state == ItemState.SCREENED).order_by(Item.id).limit(limit)))  # type: ignore[arg-type]
    names = {c.id: c.name for c in rt.settings.columns}
    for item in work:
        if rt.stopping.is_set():
            break
        doc = document_of(item, screened=True)
        day = local(item.published or utcnow(), rt.settings.channel.timezone).date()
        ctx = PageContext(channel=rt.settings.channel.name, column=names.get(item.column, ""), today=day)
        try:
            pages = list(rt.renderer.render_item(doc, ctx))
        except RenderError as exc:
            with rt.store.write() as db:
                row = db.get(Item, item.id)
                if row is not None and row.version == item.version and row.state == ItemState.SCREENED:
                    row.state, row.state_reason = ItemState.FAILED, f"render: {exc}"
            log.error("render failed for item %s: %s", item.id, exc)
            report.failed += 1
            continue
        owner = f"item:{item.id}"
        rows = store_pages(rt, owner, item.version, pages)
        with rt.store.write() as db:
            row = db.get(Item, item.id)
            if row is None or row.version != item.version or row.state != ItemState.SCREENED:
                continue
            db.exec(delete(Page).where(Page.owner == owner, Page.profile == rt.renderer.profile.name))  # type: ignore[arg-type]
            for r in rows:
                db.add(r)
            row.state, row.state_reason, row.rendered_version, row.updated_at = ItemState.RENDERED, "", row.version, utcnow()
        report.items += 1
        report.pages += len(rows)
        report.bytes += sum(r.bytes for r in rows)
    return report
