"""Render screened items into page images (the slow, CPU-bound stage: no transaction open)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import String, cast, exists, literal
from sqlmodel import Session, col, delete, select

from pusher import metrics
from pusher.errors import RenderError
from pusher.interfaces import PageContext, PageImage
from pusher.names import ITEM_OWNER_PREFIX, item_owner
from pusher.runtime import Runtime
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store import claims
from pusher.store.codec import bounded, document_of
from pusher.store.models import Audit, AuditAction, Item, Page
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


#: Items claimed at a time: small, so that several nodes share a burst and a lease covers a batch.
CLAIM_BATCH = 5


def render_items(rt: Runtime, limit: int = 200) -> RenderReport:
    """Renders up to ``limit`` screened items, claiming them in small batches so that several
    nodes (and a CLI ``push`` beside the daemon) never draw the same item twice."""
    report = RenderReport()
    _requeue_undrawn(rt)
    requeue_failed(rt)
    node, lease = claims.node_name(rt), claims.lease(rt)
    while report.items + report.failed < limit and not rt.stopping.is_set():
        ids = claims.claim_items(rt.store, node, ItemState.SCREENED, min(CLAIM_BATCH, limit - report.items - report.failed), lease)
        if not ids:
            break
        try:
            for n, item_id in enumerate(ids):
                if rt.stopping.is_set():
                    claims.release_items(rt.store, node, ids[n:])  # hand back what we will not draw
                    break
                _render_one(rt, item_id, node, report)
        except BaseException:
            claims.release_items(rt.store, node, ids)
            raise
    return report


#: A render failure is tried again by itself after this long, then twice as long after each
#: automatic retry that failed again (at most ``RETRY_MAX``), even when nothing it depends on seems
#: to have changed (a font installed under a name fontconfig already matched, a renderer upgrade,
#: a crash on a busy node); a persistent failure then costs a few attempts a day, not 24.
RETRY_AFTER = 600.0
RETRY_MAX = 86400.0
RENDER_FAILURE = "render: "


def retry_delay(retries: int) -> float:
    """Seconds a render failure waits after ``retries`` automatic retries of the same version."""
    return min(RETRY_MAX, RETRY_AFTER * 2 ** min(retries, 32))


def automatic_retries(db: Session, item_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """(item, ``"version N"``) → automatic retries (``render.heal``) since the operator's last
    ``pusher retry`` of the item: an operator's retry starts the backoff again from
    ``RETRY_AFTER`` (a retry after the cause was fixed must not leave a day's wait behind it)."""
    actions = (AuditAction.RENDER_HEAL.value, AuditAction.RENDER_RETRY.value)
    q = select(Audit.item_id, Audit.action, Audit.detail).where(col(Audit.action).in_(actions), col(Audit.item_id).in_(list(item_ids)))
    counts: dict[tuple[int, str], int] = {}
    for item_id, action, detail in db.exec(q.order_by(col(Audit.id))):
        if item_id is None:
            continue
        if action == AuditAction.RENDER_RETRY.value:
            for key in [k for k in counts if k[0] == item_id]:
                del counts[key]
        else:
            counts[(item_id, detail)] = counts.get((item_id, detail), 0) + 1
    return counts


def _inputs_changed_at(rt: Runtime) -> datetime | None:
    """When the configuration file or a font file of the renderer last changed: a failure
    older than that may be gone (the operator fixed ``render.fonts`` or installed a font)."""
    paths = [rt.settings.path] if rt.settings.path else []
    for chain in getattr(rt.renderer, "chains", ()):
        paths += [Path(f.path) for f in getattr(chain, "fonts", ())]
    stamps = []
    for p in paths:
        with contextlib.suppress(OSError):
            stamps.append(Path(p).stat().st_mtime)
    return datetime.fromtimestamp(max(stamps), UTC) if stamps else None


def requeue_failed(rt: Runtime, item_ids: Sequence[int] | None = None, *, reason: str = "") -> list[int]:
    """Items that failed to render go back to SCREENED to be drawn again: those in ``item_ids``
    (``pusher retry``; every failed item for ``[]``) at once, otherwise those whose cause may
    have gone — the configuration or a font changed after the failure, or :func:`retry_delay`
    passed. Each is audited (``render.retry`` or ``render.heal``, with the failure it had)."""
    now = utcnow()
    changed = _inputs_changed_at(rt) if item_ids is None else None
    with rt.store.read() as db:
        q = select(Item.id, Item.version, Item.updated_at, Item.state_reason).where(Item.state == ItemState.FAILED)
        rows = list(db.exec(q))
        if not rows:
            return []
        ids = [r[0] for r in rows if r[0] is not None]
        retries = automatic_retries(db, ids)
    due: dict[int, str] = {}  # item → why it is drawn again
    for item_id, version, at, why in rows:
        if item_id is None:
            continue
        if item_ids is not None:
            if not item_ids or item_id in item_ids:
                due[item_id] = "by operator"
            continue
        if not why.startswith(RENDER_FAILURE):
            continue
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        wait = retry_delay(retries.get((item_id, f"version {version}"), 0))
        if changed is not None and changed > at:
            due[item_id] = "configuration or font changed"
        elif (now - at).total_seconds() >= wait:
            due[item_id] = f"{wait:.0f} s after the failure"
    if not due:
        return []
    action = AuditAction.RENDER_HEAL if item_ids is None else AuditAction.RENDER_RETRY
    with rt.store.write() as db:
        for it in db.exec(select(Item).where(col(Item.id).in_(list(due)), col(Item.state) == ItemState.FAILED)):
            rt.store.audit(db, action, item_id=it.id, reason=f"{due[it.id or 0]}: {it.state_reason}", detail=f"version {it.version}")
            set_state(it, ItemState.SCREENED, reason or f"render again after: {it.state_reason}", now=now)
            db.add(it)
    log.info("%d items that failed to render go back to be drawn", len(due))
    return list(due)


def _requeue_undrawn(rt: Runtime) -> int:
    """Items on air without pages of the renderer's profile (the operator changed the profile)
    go back to SCREENED to be drawn again: the channel would otherwise drop them for good."""
    profile = rt.renderer.profile.name
    owner = literal(ITEM_OWNER_PREFIX) + cast(Item.id, String)
    drawn = exists().where(col(Page.owner) == owner, col(Page.version) == col(Item.rendered_version))  # for some profile
    drawn_here = exists().where(col(Page.owner) == owner, col(Page.profile) == profile, col(Page.version) == col(Item.rendered_version))
    undrawn = (col(Item.state).in_(list(ON_AIR)), col(Item.duplicate_of).is_(None), drawn, ~drawn_here)
    with rt.store.read() as db:
        ids = list(db.exec(select(Item.id).where(*undrawn)))
    if not ids:
        return 0
    with rt.store.write() as db:
        for it in db.exec(select(Item).where(col(Item.id).in_(ids), *undrawn)):
            set_state(it, ItemState.SCREENED, f"render again: no {profile} pages")
    log.info("%d items on air go back to be drawn for the %s profile", len(ids), profile)
    return len(ids)


def _render_one(rt: Runtime, item_id: int, node: str, report: RenderReport) -> None:
    with rt.store.read() as db:
        item = db.get(Item, item_id)
    if item is None or item.state != ItemState.SCREENED or item.claimed_by != node:
        return
    names = {c.id: c.name for c in rt.settings.columns}
    doc = document_of(item, screened=True)
    # The header band shows the day the page is drawn, as menus do (the item's own date is in
    # its metadata line under the title).
    day = local(utcnow(), rt.settings.channel.timezone).date()
    ctx = PageContext(channel=rt.settings.channel.name, column=names.get(item.column, ""), today=day)
    started = time.perf_counter()
    max_pages = rt.settings.render.max_pages
    try:
        # The renderer keeps to render.max_pages itself (its settings are these): the pages before
        # the limit, numbered of the pages on air, then one saying the rest is on the portal.
        pages = list(rt.renderer.render_item(bounded(doc, max_pages), ctx))
    except Exception as exc:  # a RenderError, or a renderer bug this item trips: it must not stall the items after it
        if not isinstance(exc, RenderError):
            log.exception("renderer crashed on item %s", item.id, extra={"item": item.id, "source": item.source})
        with rt.store.write() as db:
            row = db.get(Item, item.id)
            if row is not None:
                claims.release_item(row, node)
                if row.version == item.version and row.state == ItemState.SCREENED:
                    set_state(row, ItemState.FAILED, f"{RENDER_FAILURE}{exc}")
        log.error("render failed for item %s: %s", item.id, exc, extra={"item": item.id, "source": item.source})
        report.failed += 1
        return
    seconds = time.perf_counter() - started
    owner = item_owner(item.id)
    rows = store_pages(rt, owner, item.version, pages)
    with rt.store.write() as db:
        row = db.get(Item, item.id)
        if row is None:
            return
        claims.release_item(row, node)
        if row.version != item.version or row.state != ItemState.SCREENED:
            return  # changed meanwhile: the new version is screened and rendered again
        db.exec(delete(Page).where(Page.owner == owner, Page.profile == rt.renderer.profile.name))  # type: ignore[arg-type]
        for r in rows:
            db.add(r)
        row.rendered_version = row.version
        set_state(row, ItemState.RENDERED)
    metrics.observe_render(seconds, [r.bytes for r in rows])
    report.items += 1
    report.pages += len(rows)
    report.bytes += sum(r.bytes for r in rows)
