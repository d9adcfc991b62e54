"""Screen new items through the sensitive-information gate.

PASS and MASK go on (SCREENED, with the document as it may air); HOLD waits for an operator
(``pusher review``); BLOCK is final until the item changes on the portal.
"""

from __future__ import annotations

import json
import logging

from sqlmodel import col, select

from pusher.errors import GateError
from pusher.gate import screen_with_attachments
from pusher.gate.attachment_body import with_attachment_body
from pusher.interfaces import Action, Document, Screening
from pusher.runtime import Runtime
from pusher.states import ItemState, set_state
from pusher.store.codec import blocks_to_json, document_of
from pusher.store.models import Item

log = logging.getLogger("tvpusher.screen")

NEXT_STATE = {
    Action.PASS: ItemState.SCREENED,
    Action.MASK: ItemState.SCREENED,
    Action.HOLD: ItemState.HELD,
    Action.BLOCK: ItemState.REJECTED,
}


def findings_json(screening: Screening) -> str:
    return json.dumps(
        [
            {"detector": f.detector, "start": f.start, "end": f.end, "text": f.text, "action": f.action.value}
            # What the reviewer is told (check digit wrong…) and where (an attachment's name).
            | {k: v for k in ("note", "source") if (v := getattr(f, k, ""))}
            for f in screening.findings
        ],
        ensure_ascii=False,
    )


def fetch_attachments(rt: Runtime, source: str, doc: Document) -> list[tuple[str, bytes | str]]:
    """Each attachment's bytes (within ``http.max_bytes``), or the error that kept them away:
    an attachment that cannot be fetched is a finding, never a pass."""
    if not doc.attachments:
        return []
    try:
        http = rt.http(rt.settings.source(source))
    except Exception as exc:  # the source left the configuration: its attachments cannot be had
        return [(a.name or a.url, f"cannot fetch: {exc}") for a in doc.attachments]
    files: list[tuple[str, bytes | str]] = []
    for a in doc.attachments:
        try:
            got = http.get(a.url)
            files.append((a.name or a.url, got.body if got.status == 200 else f"HTTP {got.status}"))
        except Exception as exc:
            files.append((a.name or a.url, f"cannot fetch: {exc}"))
    return files


def screen_items(rt: Runtime, limit: int = 500) -> int:
    with rt.store.read() as db:
        work = [
            (i.id, i.version, document_of(i), i.source)
            for i in db.exec(select(Item).where(col(Item.state) == ItemState.NEW).order_by(col(Item.id)).limit(limit))
        ]
    done = 0
    for item_id, version, doc, source in work:
        if rt.stopping.is_set():
            break
        try:
            files = fetch_attachments(rt, source, doc)
            # A page that only says 详见附件 airs its attachment's text, screened as body.
            full = with_attachment_body(doc, files)
            verdict = screen_with_attachments(rt.gate, full, files)
        except GateError as exc:
            log.error("gate failed for item %s: %s", item_id, exc)
            continue
        except Exception:  # a gate bug this item trips: it stays NEW (off the air), the others go on
            log.exception("gate crashed on item %s", item_id)
            continue
        with rt.store.write() as db:
            item = db.get(Item, item_id)
            if item is None or item.version != version or item.state != ItemState.NEW:
                continue  # changed meanwhile: the next round screens the new version
            new = NEXT_STATE[verdict.action]
            set_state(item, new, f"gate: {verdict.action.value}" + (f" ({len(verdict.findings)} findings)" if verdict.findings else ""))
            if full is not doc:  # the item's body is now the page's pointer plus the attachment (content_hash stays the page's)
                item.body, item.text = blocks_to_json(full.blocks), full.text
            item.screened_title = verdict.document.title
            item.screened_body = blocks_to_json(verdict.document.blocks)
            item.findings = findings_json(verdict)
            log.info("item %s screened: %s", item_id, new.value, extra={"item": item_id, "state": new.value})
        done += 1
    return done
