"""Render screened items into page images (the slow, CPU-bound stage: no transaction open)."""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, exists, func, insert, literal, or_
from sqlmodel import Session, col, delete, select

from pusher import metrics
from pusher.interfaces import PageContext, PageImage
from pusher.names import ITEM_OWNER_PREFIX, item_owner
from pusher.runtime import Runtime
from pusher.stages import render_pool
from pusher.stages.render_pool import Drawer, Drawn, DrawPool, InProcess, Job, RendererSpec, usable_cpus
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store import changes, claims
from pusher.store.codec import bounded, document_of
from pusher.store.models import Audit, AuditAction, Item, Page
from pusher.timeutil import local, utcnow
from renderers import TvRenderer

log = logging.getLogger("tvpusher.render")


@dataclass
class RenderReport:
    items: int = 0
    pages: int = 0
    bytes: int = 0
    failed: int = 0
    workers: int = 0  # processes that drew (1: this one; more: the pool's workers)
    draw_seconds: float = 0.0  # of the items stored, the drawing alone (in whichever process drew)


def store_pages(rt: Runtime, owner: str, version: int, pages: Sequence[PageImage]) -> list[Page]:
    """Write page images to the asset store and return their (unsaved) rows."""
    return page_rows(rt, owner, version, pages, rt.assets.put_many([p.png for p in pages]))


def page_rows(rt: Runtime, owner: str, version: int, pages: Sequence[PageImage], shas: Sequence[str]) -> list[Page]:
    """The (unsaved) rows of pages already in the asset store under ``shas``."""
    return [Page(**v) for v in _page_values(rt.renderer.profile.name, owner, version, pages, shas, utcnow())]


def _page_values(
    profile: str, owner: str, version: int, pages: Sequence[PageImage], shas: Sequence[str], at: datetime
) -> list[dict[str, Any]]:
    rows = []
    for seq, (p, sha) in enumerate(zip(pages, shas, strict=True), 1):
        layout = {"lines": list(p.lines), "entries": [list(e) for e in p.entries]}
        rows.append({"owner": owner, "version": version, "seq": seq, "profile": profile, "sha256": sha, "bytes": len(p.png),
                     "width": p.width, "height": p.height, "layout": json.dumps(layout, ensure_ascii=False), "created_at": at})  # fmt: skip
    return rows


#: Items claimed at a time per drawing process: small, so that several nodes share a burst and a
#: lease covers a batch, large enough that a batch's rows go to the store in one transaction
#: (one write per item was a third of the stage's time outside drawing on SQLite).
CLAIM_BATCH = 8

#: Items waiting before the stage starts worker processes: a worker opens its fonts (~0.3 s of
#: CPU) before its first page, about what 20 items cost to draw, so a trickle of new items (the
#: daemon's usual round) is drawn in this process and a backlog on every core.
POOL_MIN_ITEMS = 32


def render_workers(rt: Runtime) -> int:
    """Processes that draw (``render.workers``; 0: the CPUs this process may use)."""
    return rt.settings.render.workers or usable_cpus()


def _poolable(renderer: object) -> bool:
    """Workers build their renderer from the settings (``Runtime.renderer``'s way); a renderer
    replaced or wrapped in this process (a plugin hook, a test's poisoned page) is drawn here."""
    return type(renderer) is TvRenderer and "render_item" not in vars(renderer)


def _drawer(rt: Runtime, waiting: int) -> Drawer:
    workers = render_workers(rt)
    if workers <= 1 or waiting < POOL_MIN_ITEMS or not _poolable(rt.renderer):
        return InProcess(rt.renderer)
    spec = RendererSpec(rt.renderer.profile.name, rt.settings.render, rt.images.root)
    return render_pool.pool_for(spec, min(workers, -(-waiting // CLAIM_BATCH)), rt.renderer)


@dataclass
class _Batch:
    ids: list[int]  # claimed
    jobs: dict[int, Job]  # of those, the ones still SCREENED and ours when read
    handle: object = None


def render_items(rt: Runtime, limit: int = 200) -> RenderReport:
    """Renders up to ``limit`` screened items, claiming them in small batches so that several
    nodes (and a CLI ``push`` beside the daemon) never draw the same item twice.

    Drawing runs in :mod:`.render_pool`'s worker processes when many items wait, one batch
    drawing while the previous one is stored; claims, the asset cache and the rows stay here."""
    report = RenderReport()
    _requeue_undrawn(rt)
    requeue_failed(rt)
    node, lease = claims.node_name(rt), claims.lease(rt)
    drawer: Drawer | None = None
    flying: deque[_Batch] = deque()
    claimed, exhausted, done = 0, False, False
    try:
        while True:
            depth = 2 if isinstance(drawer, DrawPool) else 1  # a pool draws the next batch meanwhile
            while len(flying) < depth and not exhausted and claimed < limit and not rt.stopping.is_set():
                size = CLAIM_BATCH * (drawer.workers if isinstance(drawer, DrawPool) else 1)
                ids = claims.claim_items(rt.store, node, ItemState.SCREENED, min(size, limit - claimed), lease)
                if not ids:
                    exhausted = True
                    break
                claimed += len(ids)
                batch = _Batch(ids, _jobs(rt, ids, node))
                if drawer is None:
                    drawer = _drawer(rt, min(limit, _waiting(rt) + len(ids)))
                    report.workers = drawer.workers if isinstance(drawer, DrawPool) else 1
                    if report.workers > 1:
                        # Said when the workers start; a kept pool's next call (a backlog draws
                        # dozens in a row) says it at debug level.
                        warm = isinstance(drawer, DrawPool) and drawer.warm
                        log.log(logging.DEBUG if warm else logging.INFO, "drawing on %d worker processes", report.workers)
                batch.handle = drawer.start(list(batch.jobs.values()))
                flying.append(batch)
            if not flying:
                break
            batch = flying[0]
            assert drawer is not None
            _store_batch(rt, node, batch, drawer.finish(batch.handle, rt.stopping), report)
            flying.popleft()
        done = True
    except BaseException:
        claims.release_items(rt.store, node, [i for b in flying for i in b.ids])  # hand back what was not stored
        raise
    finally:
        # A pool's workers wait for the next call (a daemon's next backlog), unless the stage
        # was stopped (the daemon is going) or failed.
        if isinstance(drawer, DrawPool) and done and not rt.stopping.is_set():
            render_pool.keep(drawer)
        elif drawer is not None:
            drawer.close()
    return report


def _waiting(rt: Runtime) -> int:
    """Screened items no one holds (beside the batch just claimed): the backlog to draw."""
    now = utcnow()
    free = or_(col(Item.claimed_until).is_(None), col(Item.claimed_until) < now)
    with rt.store.read() as db:
        return int(db.exec(select(func.count()).select_from(Item).where(Item.state == ItemState.SCREENED, free)).one())


def _jobs(rt: Runtime, ids: Sequence[int], node: str) -> dict[int, Job]:
    """The claimed items still to draw, read in one transaction, as the workers get them."""
    names = {c.id: c.name for c in rt.settings.columns}
    # The header band shows the day the page is drawn, as menus do (the item's own date is in
    # its metadata line under the title).
    day = local(utcnow(), rt.settings.channel.timezone).date()
    max_pages = rt.settings.render.max_pages
    jobs: dict[int, Job] = {}
    with rt.store.read() as db:
        items = list(db.exec(select(Item).where(col(Item.id).in_(list(ids)))))
    for item in sorted(items, key=lambda it: it.id or 0):
        if item.id is None or item.state != ItemState.SCREENED or item.claimed_by != node:
            continue
        ctx = PageContext(channel=rt.settings.channel.name, column=names.get(item.column, ""), today=day)
        # The renderer keeps to render.max_pages itself (its settings are these): the pages before
        # the limit, numbered of the pages on air, then one saying the rest is on the portal.
        doc = bounded(document_of(item, screened=True), max_pages)
        rt.images.localise(doc)  # a worker reads pictures from the folder only (no database connection)
        jobs[item.id] = Job(item.id, item.version, doc, ctx)
    return jobs


def _store_batch(rt: Runtime, node: str, batch: _Batch, drawn: dict[int, Drawn], report: RenderReport) -> None:
    """A batch's pages into the asset cache, then its rows and states in one transaction; the
    claims of items not drawn (the stage was stopped) are handed back in it too."""
    profile = rt.renderer.profile.name
    ok: list[Drawn] = []
    for item_id, d in drawn.items():
        for name, level, message in d.logs:
            logging.getLogger(name).log(level, message, extra={"item": item_id})
        if d.failed:
            if d.bug:
                log.error("renderer crashed on item %s\n%s", item_id, d.trace.rstrip(), extra={"item": item_id})
            log.error("render failed for item %s: %s", item_id, d.error, extra={"item": item_id})
        else:
            ok.append(d)
    # The batch's pages in one call: one database write for shared assets (PostgreSQL), not one a page.
    shas = iter(rt.assets.put_many([p.png for d in ok for p in d.pages]))
    rows: dict[int, list[dict[str, Any]]] = {}
    at = utcnow()
    for d in ok:
        owner, version = item_owner(d.item_id), batch.jobs[d.item_id].version
        rows[d.item_id] = _page_values(profile, owner, version, d.pages, [next(shas) for _ in d.pages], at)
    stored: list[tuple[Drawn, list[dict[str, Any]]]] = []
    with rt.store.write() as db:
        items = {it.id: it for it in db.exec(select(Item).where(col(Item.id).in_(batch.ids)))}
        current: dict[int, tuple[Item, Drawn]] = {}
        for item_id in batch.ids:
            row = items.get(item_id)
            if row is None:
                continue
            claims.release_item(row, node)
            job, result = batch.jobs.get(item_id), drawn.get(item_id)
            if job is None or result is None:
                continue  # not ours any more, or not drawn: handed back
            if row.version != job.version or row.state != ItemState.SCREENED:
                continue  # changed meanwhile: the new version is screened and rendered again
            current[item_id] = (row, result)
        owners = [item_owner(i) for i, (_, d) in current.items() if not d.failed]
        if owners:
            db.exec(delete(Page).where(col(Page.owner).in_(owners), col(Page.profile) == profile))
        new = [v for i, (_, d) in current.items() if not d.failed for v in rows[i]]
        if new:  # one statement run for every row: no ORM object or unit of work a page
            db.connection().execute(insert(Page.__table__), new)  # type: ignore[attr-defined]
        for item_id, (row, d) in current.items():
            if d.failed:
                set_state(row, ItemState.FAILED, f"{RENDER_FAILURE}{d.error}")
                continue
            row.rendered_version = row.version
            set_state(row, ItemState.RENDERED)
            stored.append((d, rows[item_id]))
    report.failed += sum(1 for d in drawn.values() if d.failed)
    for d, pages in stored:
        metrics.observe_render(d.seconds, [r["bytes"] for r in pages])
        report.items += 1
        report.draw_seconds += d.seconds
        report.pages += len(pages)
        report.bytes += sum(r["bytes"] for r in pages)


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


#: Per runtime: (change counter, profile) when every item on air had its pages. Items and their
#: pages change only with the counter, so an idle round need not look again (issue 19: two
#: index probes per item on air, 15,000 of them, every round).
_all_drawn: weakref.WeakKeyDictionary[Runtime, tuple[int, str]] = weakref.WeakKeyDictionary()


def _requeue_undrawn(rt: Runtime) -> int:
    """Items on air without pages of the renderer's profile (the operator changed the profile)
    go back to SCREENED to be drawn again: the channel would otherwise drop them for good."""
    profile = rt.renderer.profile.name
    owner = literal(ITEM_OWNER_PREFIX) + cast(Item.id, String)
    drawn = exists().where(col(Page.owner) == owner, col(Page.version) == col(Item.rendered_version))  # for some profile
    drawn_here = exists().where(col(Page.owner) == owner, col(Page.profile) == profile, col(Page.version) == col(Item.rendered_version))
    undrawn = (col(Item.state).in_(list(ON_AIR)), col(Item.duplicate_of).is_(None), drawn, ~drawn_here)
    with rt.store.read() as db:
        mark = (changes.count(db), profile)  # first: a write after it moves the counter
        if _all_drawn.get(rt) == mark:
            return 0
        ids = list(db.exec(select(Item.id).where(*undrawn)))
    if not ids:
        _all_drawn[rt] = mark
        return 0
    with rt.store.write() as db:
        for it in db.exec(select(Item).where(col(Item.id).in_(ids), *undrawn)):
            set_state(it, ItemState.SCREENED, f"render again: no {profile} pages")
    log.info("%d items on air go back to be drawn for the %s profile", len(ids), profile)
    return len(ids)
