"""Documents to and from the store's JSON columns."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from feeds.urls import public_url
from pusher.interfaces import Attachment, Block, Document
from pusher.store.models import Item


def blocks_to_json(blocks: tuple[Block, ...]) -> str:
    out: list[dict[str, Any]] = []
    for b in blocks:
        d: dict[str, Any] = {"kind": b.kind}
        if b.text:
            d["text"] = b.text
        if b.rows:
            d["rows"] = [list(r) for r in b.rows]
            d["header_rows"] = b.header_rows
        if b.src:
            d["src"] = b.src
        out.append(d)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def blocks_from_json(data: str) -> tuple[Block, ...]:
    return tuple(
        Block(
            kind=d["kind"],
            text=d.get("text", ""),
            rows=tuple(tuple(r) for r in d.get("rows", ())),
            header_rows=d.get("header_rows", 0),
            src=d.get("src", ""),
        )
        for d in json.loads(data or "[]")
    )


def attachments_to_json(atts: tuple[Attachment, ...]) -> str:
    return json.dumps([{"name": a.name, "url": a.url} for a in atts], ensure_ascii=False)


def attachments_from_json(data: str) -> tuple[Attachment, ...]:
    return tuple(Attachment(d["name"], d["url"]) for d in json.loads(data or "[]"))


def content_hash(doc: Document, *, body: str | None = None, attachments: str | None = None) -> str:
    """What counts as a change: title, normalised text, tables, images and the metadata fields.

    ``body`` and ``attachments``: the document's :func:`blocks_to_json` and
    :func:`attachments_to_json` when the caller has them already (the poll stores them too)."""
    body = blocks_to_json(doc.blocks) if body is None else body
    attachments = attachments_to_json(doc.attachments) if attachments is None else attachments
    h = hashlib.sha256()
    for part in (doc.title, body, doc.index_no, doc.doc_no, doc.publisher, attachments):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def document_of(item: Item, *, screened: bool = False) -> Document:
    """The item as a Document: as published on the portal, or (``screened``) as it may air."""
    body = item.screened_body if screened and item.screened_body else item.body
    title = item.screened_title if screened and item.screened_title else item.title
    return Document(
        url=public_url(item.url),
        title=title,
        blocks=blocks_from_json(body),
        published=item.published,
        publisher=item.publisher,
        index_no=item.index_no,
        doc_no=item.doc_no,
        topic=item.topic,
        written=item.written.date() if item.written else None,
        validity=item.validity,
        column=item.portal_column,
        attachments=attachments_from_json(item.attachments),
    )


#: Characters a page holds at most (SD body text packs fewer): the text is cut at this many
#: per allowed page before drawing, so a huge article costs a bounded render, not thousands of pages.
CHARS_PER_PAGE_BOUND = 2000


def bounded(doc: Document, max_pages: int) -> Document:
    """``doc`` with its blocks cut once they hold more text than ``max_pages`` pages could show:
    what the render stage draws, and what a page lost from the asset cache is drawn again from."""
    budget = max_pages * CHARS_PER_PAGE_BOUND
    kept: list[Block] = []
    for b in doc.blocks:
        n = sum(len(t) for t in b.texts())
        if n > budget:
            if b.kind in ("p", "h"):
                kept.append(replace(b, text=b.text[:budget]))
            break
        kept.append(b)
        budget -= n
    return doc if len(kept) == len(doc.blocks) and kept == list(doc.blocks) else replace(doc, blocks=tuple(kept))
