"""Build the channel from what is on air: menus, navigation, a manifest version, and one
delivery per target in the outbox. An unchanged channel makes no new version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, delete, select, update

from feeds.channel import PART_EXT, AlertSpec, ChannelSpec, ColumnSpec, ItemSpec, PageRef, build_channel, digest
from feeds.channel_check import invalid_items_chunked
from feeds.exports import EXPORTERS, PLAYOUT, ExportInput, attach, manifest_exports
from feeds.urls import public_url
from pusher.errors import TvPusherError
from pusher.interfaces import Menu, MenuEntry, PageContext
from pusher.names import alert_ref, item_owner, item_ref, menu_owner, parse_alert_ref, parse_asset_name, parse_item_owner, parse_item_ref
from pusher.runtime import Runtime
from pusher.stages import playout as playout_stage
from pusher.stages import quiet
from pusher.stages.manifest import parts_missing
from pusher.stages.render import store_pages
from pusher.stages.retention import apply_limits, cycle_seconds, trim_to
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store.codec import attachments_from_json, document_of
from pusher.store.models import Alert, ChannelVersion, Delivery, DeliveryState, Item, Page
from pusher.timeutil import local, utcnow

log = logging.getLogger("tvpusher.publish")


@dataclass(frozen=True, slots=True)
class PageRow:
    """What the channel needs of a stored page: its file and, from its layout, the entries it
    links and how many characters it shows (the reading dwell). A year's 30,000 pages as ORM
    rows with their layout JSON were a quarter of publish's peak (issue 19)."""

    sha256: str
    bytes: int
    width: int
    height: int
    version: int = 1
    entries: tuple[tuple[Any, ...], ...] = ()
    chars: int = 0

    @classmethod
    def of(cls, sha256: str, nbytes: int, width: int, height: int, version: int, layout: str) -> PageRow:
        data = json.loads(layout)
        entries = tuple(tuple(e) for e in data.get("entries", ())) or _NO_ENTRIES
        return cls(sha256, nbytes, width, height, version, entries, sum(len(line) for line in data.get("lines", ())))

    @classmethod
    def of_page(cls, page: Page) -> PageRow:
        return cls.of(page.sha256, page.bytes, page.width, page.height, page.version, page.layout)


_NO_ENTRIES: tuple[tuple[Any, ...], ...] = ()


def _menu_pages(rt: Runtime, menu: Menu, ctx: PageContext) -> list[PageRow]:
    """Menus are re-rendered only when what they show changes (the cache key is their input)."""
    key = hashlib.sha256(repr((rt.renderer.profile, menu, ctx)).encode()).hexdigest()[:32]
    owner = menu_owner(key)
    with rt.store.read() as db:
        cached = list(db.exec(select(Page).where(Page.owner == owner).order_by(Page.seq)))  # type: ignore[arg-type]
    if cached and all(rt.assets.has(p.sha256) for p in cached):
        return [PageRow.of_page(p) for p in cached]
    rows = store_pages(rt, owner, 1, rt.renderer.render_menu(menu, ctx))
    with rt.store.write() as db:
        db.exec(delete(Page).where(col(Page.owner) == owner))
        for r in rows:
            db.add(r)
    return [PageRow.of_page(p) for p in rows]


def _page_entries(page: PageRow, ids: list[str]) -> list[tuple[int, str, str, int, int, int, int]]:
    """A contents page's entries (``page-N``) as entries to the item's own pages; an entry past
    the pages on air (an item cut at ``render.max_pages``) is left out."""
    out = []
    for e in page.entries:
        key = str(e[1])
        if key.startswith("page-") and key[5:].isdigit() and 1 <= int(key[5:]) <= len(ids):
            out.append((int(e[0]), ids[int(key[5:]) - 1], "", *e[2:6]))
    return out


def _ref(
    rt: Runtime,
    page: PageRow,
    pid: str,
    entries: Sequence[tuple[int, str, str, int, int, int, int]] = (),
    keys: Sequence[tuple[str, str]] = (),
) -> PageRef:
    b = rt.settings.broadcast
    # A fixed dwell is the channel's page_seconds, said once in the exports, not on every page.
    return PageRef(pid, page.sha256, page.bytes, page.width, page.height, tuple(entries), tuple(keys),
                   b.dwell_seconds(page.chars) if b.dwell == "reading" else 0)  # fmt: skip


def _turns(ids: list[str], n: int) -> list[tuple[str, str]]:
    keys = []
    if n > 0:
        keys.append(("LEFT", ids[n - 1]))
    if n < len(ids) - 1:
        keys.append(("RIGHT", ids[n + 1]))
    return keys


@dataclass(frozen=True, slots=True)
class Aired:
    """What planning reads of an item: its row's channel fields, not the ORM object (a year's
    15,000 rows with their instance state were the largest part of planning, issue 19); the
    texts and the poll's bookkeeping stay in the database (the exports' descriptions read the
    screened text a chunk at a time, :func:`describe`)."""

    id: int | None
    column: str
    pinned: bool
    published: datetime | None
    first_seen: datetime
    title: str
    screened_title: str
    url: str
    version: int
    rendered_version: int
    publisher: str
    index_no: str
    doc_no: str
    topic: str
    attachments: str


_AIRED_COLUMNS: tuple[Any, ...] = tuple(getattr(Item, f) for f in Aired.__dataclass_fields__)

#: What the stage's own state changes leave unread of an item's row.
_NOT_PLANNED: tuple[Any, ...] = (Item.text, Item.body, Item.screened_body, Item.findings, Item.validators)


#: The columns of a page the channel reads (its layout parsed row by row, then dropped).
_PAGE_COLUMNS: tuple[Any, ...] = (Page.owner, Page.sha256, Page.bytes, Page.width, Page.height, Page.version, Page.layout)


def _candidates(rt: Runtime) -> list[tuple[Aired, list[PageRow]]]:
    """Items that may be in the channel with their current pages, pinned then newest first."""
    profile = rt.renderer.profile.name
    # A column the operator removed from the configuration takes its items off the air with it.
    columns = [c.id for c in rt.settings.columns]
    with rt.store.read() as db:
        items = [
            Aired(*row)
            for row in db.exec(
                select(*_AIRED_COLUMNS)
                .where(col(Item.state).in_(list(ON_AIR)), col(Item.duplicate_of).is_(None), col(Item.column).in_(columns))
                .order_by(col(Item.pinned).desc(), col(Item.published).desc(), col(Item.id).desc())
            )
        ]
        pages: dict[int, list[PageRow]] = {}
        # Only the candidates' pages: years of withdrawn and expired items keep theirs in the store.
        owners = [item_owner(i.id) for i in items]
        for start in range(0, len(owners), 500):
            chunk = owners[start : start + 500]
            q = select(*_PAGE_COLUMNS).where(col(Page.owner).in_(chunk), col(Page.profile) == profile).order_by(col(Page.seq))
            for owner, *row in db.exec(q):
                pages.setdefault(parse_item_owner(owner), []).append(PageRow.of(*row))
    return [(i, pages[i.id]) for i in items if i.id in pages and all(p.version == i.rendered_version for p in pages[i.id])]


def on_air(rt: Runtime) -> list[tuple[Aired, list[PageRow]]]:
    """Items in the channel with their current pages, pinned then newest first, within the
    columns' retention limits (the byte budget is applied by :func:`plan`, which needs menus)."""
    return apply_limits(_candidates(rt), rt.settings.broadcast, utcnow()).kept


@dataclass(frozen=True)
class Plan:
    spec: ChannelSpec
    dropped: dict[int, str]  # item id → why it leaves the air (retention, budget)
    items: tuple[Aired, ...]  # the items that air
    failed: dict[int, str] = field(default_factory=dict)  # item id → why its data cannot air
    cost: Cost | None = None  # what a cycle of this channel carries (with a byte budget)
    known: dict[str, str] | None = None  # descriptions already made for the budget

    def descriptions(self, rt: Runtime) -> dict[str, str]:
        """Item id in the manifest → opening of its text, for exports. Made when asked: an idle
        round (the digest unchanged) must not decode every item's text."""
        if self.known is None:
            return describe(rt, [i.id for i in self.items])
        kept = {item_ref(i.id) for i in self.items}
        return {k: v for k, v in self.known.items() if k in kept}


@dataclass(frozen=True)
class Cost:
    """Bytes one carousel cycle carries: every file that travels with a version."""

    pages: int
    exports: int  # XMLTV, RSS, playlist
    video: int  # playout segments, playlists and the loop (estimated for pages not yet encoded)
    video_of: dict[str, int] = field(default_factory=dict)  # page id → its segments' bytes

    @property
    def total(self) -> int:
        return self.pages + self.exports + self.video


DESCRIPTION_CHARS = 160
#: An item whose data the channel schema refuses (a link no ``xs:anyURI``): left out of the
#: channel alone, FAILED with this reason until the portal changes it or ``pusher retry``.
SCHEMA_FAILURE = "publish: left out of the channel, its data fails the channel schema: "


def plan(rt: Runtime) -> Plan:
    """The channel as it will air: retention limits, alerts, items whose data the schema refuses
    left out, then items dropped oldest-first (never pinned ones, never alerts) until what a
    cycle carries — pages, exports and video — fits the byte budget."""
    from pusher.stages.alerts import active_alerts, alert_pages

    sel = apply_limits(_candidates(rt), rt.settings.broadcast, utcnow())
    chosen, dropped = sel.kept, dict(sel.dropped)
    failed: dict[int, str] = {}
    alerts = [(a, [PageRow.of_page(p) for p in alert_pages(rt, a)]) for a in active_alerts(rt)]
    budget = rt.settings.broadcast.budget_bytes
    descriptions = describe(rt, [i.id for i, _ in chosen]) if budget else None
    cost: Cost | None = None
    while True:
        spec = _assemble(rt, chosen, alerts)
        bad = {parse_item_ref(ref): f"{SCHEMA_FAILURE}{why}" for ref, why in invalid_items_chunked(spec).items()}
        if bad:
            for item_id, why in bad.items():
                log.error("item %d left out of the channel: %s", item_id, why)
            failed.update(bad)
            chosen = [p for p in chosen if (p[0].id or 0) not in bad]
            continue
        if not budget:
            break
        assert descriptions is not None
        cost = cycle_cost(rt, spec, descriptions)
        log.debug("plan: %d items, %d bytes a cycle (pages %d, exports %d, video %d) for a budget of %d",
                  len(chosen), cost.total, cost.pages, cost.exports, cost.video, budget)  # fmt: skip
        if cost.total <= budget:
            break
        cut = trim_to(chosen, cost.total - budget, _item_cost(cost))
        if not cut.dropped:
            log.warning("channel is %d bytes over its budget of %d with only pinned items and alerts left", cost.total - budget, budget)
            break
        chosen = cut.kept
        dropped.update(cut.dropped)
    return Plan(spec, dropped, tuple(i for i, _ in chosen), failed, cost, descriptions)


def cycle_cost(rt: Runtime, spec: ChannelSpec, descriptions: dict[str, str]) -> Cost:
    """What one cycle of ``spec`` carries. Exports are made (they are small and quick) with the
    next version's number; video is estimated by :func:`pusher.stages.playout.estimate`."""
    pages = sum(spec.assets().values())
    exports = 0
    if rt.settings.broadcast.exports:
        inp = export_input(rt, spec, 1, local(utcnow(), rt.settings.channel.timezone), descriptions)
        exports = sum(len(EXPORTERS[kind].make(inp)) for kind in rt.settings.broadcast.exports)
    try:
        video = playout_stage.estimate(rt, spec)
    except TvPusherError as exc:  # the build will say so too, and keep the last loop on air
        log.warning("playout bytes not estimated, the budget counts pages and exports only: %s", exc)
        video = playout_stage.Estimate(0, {})
    return Cost(pages, exports, video.bytes, video.per_page)


def _item_cost(cost: Cost) -> Callable[[Aired, list[PageRow]], int]:
    """What leaving an item out saves: its pages and their video. (Not a share of the exports:
    the XMLTV fills its hours with the loop, so a shorter loop repeats more, not less.)"""

    def of(it: Aired, pages: list[PageRow]) -> int:
        ref = item_ref(it.id)
        return sum(p.bytes for p in pages) + sum(cost.video_of.get(f"{ref}-{n}", 0) for n in range(1, len(pages) + 1))

    return of


def build_spec(rt: Runtime) -> ChannelSpec:
    return plan(rt).spec


def _alert_spec(rt: Runtime, alert: Alert, pages: list[PageRow]) -> AlertSpec:
    tz = rt.settings.channel.timezone
    ids = [f"alert-{alert.id}-{n}" for n in range(1, len(pages) + 1)]
    refs = tuple(_ref(rt, p, ids[n], (), [*_turns(ids, n), ("BACK", "home-1")]) for n, p in enumerate(pages))
    until = local(alert.until, tz) if alert.until else None
    return AlertSpec(alert_ref(alert.id), alert.level, alert.text, until, alert.column or None, refs)


def _assemble(rt: Runtime, chosen: list[tuple[Aired, list[PageRow]]], alerts: list[tuple[Alert, list[PageRow]]]) -> ChannelSpec:
    st = rt.settings
    tz = st.channel.timezone
    today = local(utcnow(), tz).date()
    items = [i for i, _ in chosen]
    item_pages = {i.id: pages for i, pages in chosen}
    by_col: dict[str, list[Aired]] = {c.id: [] for c in st.columns}
    for it in items:
        by_col.setdefault(it.column, []).append(it)
    columns = list(st.columns)
    col_ids = [c.id for c in columns]

    # Render menus first: navigation needs to know which menu page lists which entry.
    # The colour keys the viewer binds to columns, for the menus' legend; a home tile shows its
    # column's newest title (pinned items lead the list, so the first unpinned one).
    keys = tuple((c.key, c.name) for c in columns if c.key)

    def newest(cid: str) -> str:
        its = by_col[cid]
        it = next((i for i in its if not i.pinned), its[0]) if its else None
        return (it.screened_title or it.title) if it else ""

    home_entries = tuple(MenuEntry(c.id, f"{c.name}（{len(by_col[c.id])}）", note=newest(c.id)) for c in columns)
    home_menu = Menu(st.channel.name, home_entries, kind="home", keys=keys)
    home_pages = _menu_pages(rt, home_menu, PageContext(st.channel.name, "", today))
    col_pages: dict[str, list[PageRow]] = {}
    for c in columns:
        # The screened title: a title the gate masked must stay masked on the menu page too.
        entries = tuple(
            MenuEntry(item_ref(it.id), it.screened_title or it.title, local(it.published, tz).date() if it.published else None)
            for it in by_col[c.id]
        )
        menu = Menu(c.name, entries, keys=keys)
        col_pages[c.id] = _menu_pages(rt, menu, PageContext(st.channel.name, c.name, today))

    home_ids = [f"home-{n}" for n in range(1, len(home_pages) + 1)]
    col_first = {c: f"c-{c}-1" for c in col_ids}
    home_of_col: dict[str, str] = {}
    for n, p in enumerate(home_pages):
        for e in p.entries:
            home_of_col[e[1]] = home_ids[n]
    menu_of_item: dict[str, str] = {}
    for cid in col_ids:
        for n, page in enumerate(col_pages[cid]):
            for e in page.entries:
                menu_of_item[e[1]] = f"c-{cid}-{n + 1}"

    def channel_keys(cid: str) -> list[tuple[str, str]]:
        i = col_ids.index(cid)
        return [("CH_UP", col_first[col_ids[(i + 1) % len(col_ids)]]), ("CH_DOWN", col_first[col_ids[(i - 1) % len(col_ids)]])]

    home = tuple(
        _ref(rt, p, home_ids[n], [(e[0], col_first[e[1]], "", *e[2:6]) for e in p.entries], _turns(home_ids, n))
        for n, p in enumerate(home_pages)
    )
    col_specs = []
    for c in columns:
        ids = [f"c-{c.id}-{n}" for n in range(1, len(col_pages[c.id]) + 1)]
        refs = tuple(
            _ref(rt, p, ids[n], [(e[0], f"{e[1]}-1", e[1], *e[2:6]) for e in p.entries],
                 [*_turns(ids, n), ("BACK", home_of_col.get(c.id, home_ids[0])), *channel_keys(c.id)])
            for n, p in enumerate(col_pages[c.id])
        )  # fmt: skip
        col_specs.append(ColumnSpec(c.id, c.name, c.key, len(by_col[c.id]), refs))
    item_specs = []
    for it in items:
        iid = item_ref(it.id)
        ids = [f"{iid}-{n}" for n in range(1, len(item_pages[it.id]) + 1)]
        back = menu_of_item.get(iid, col_first.get(it.column, home_ids[0]))
        refs = tuple(
            _ref(rt, p, ids[n], _page_entries(p, ids), [*_turns(ids, n), ("BACK", back), *channel_keys(it.column)])
            for n, p in enumerate(item_pages[it.id])
        )
        item_specs.append(
            ItemSpec(
                id=iid, column=it.column, version=it.version, title=it.screened_title or it.title, url=public_url(it.url), pages=refs,
                published=local(it.published, tz) if it.published else None, publisher=it.publisher, index_no=it.index_no,
                doc_no=it.doc_no, topic=it.topic, pinned=it.pinned,
                attachments=tuple((a.name, public_url(a.url)) for a in attachments_from_json(it.attachments)),
            )
        )  # fmt: skip
    prof = rt.renderer.profile
    alert_specs = tuple(_alert_spec(rt, a, pages) for a, pages in alerts)
    return ChannelSpec(st.channel.name, prof.name, prof.width, prof.height, home, tuple(col_specs), tuple(item_specs), alert_specs)


def _take_off(rt: Runtime, why: dict[int, str], state: ItemState, mark: quiet.Mark) -> None:
    """Items on air that the plan left out go to ``state`` with the reason: EXPIRED for
    retention or the budget, FAILED for data no valid manifest can hold (the operator sees it in
    ``status`` and ``review``; the rest of the channel airs without them)."""
    if not why:
        return
    now = utcnow()
    with rt.store.write() as db:
        mark.enter(db)
        q = select(Item).options(*(defer(c) for c in _NOT_PLANNED))
        for it in db.exec(q.where(col(Item.id).in_(list(why)), col(Item.state).in_(list(ON_AIR)))):
            set_state(it, state, why[it.id or 0], now=now)
        mark.leave(db)
    if state is ItemState.EXPIRED:
        log.info("%d items left the air (retention, budget)", len(why))


def _site(rt: Runtime) -> str:
    if rt.settings.broadcast.site_url or not rt.settings.sources:
        return rt.settings.broadcast.site_url
    u = urlsplit(public_url(rt.settings.sources[0].url))
    return f"{u.scheme}://{u.netloc}/"


def describe(rt: Runtime, ids: Sequence[int | None]) -> dict[str, str]:
    """Item id in the manifest → the opening of its screened text, for the exports (the items
    read a chunk at a time, so that a year's texts are never in memory together)."""
    out: dict[str, str] = {}
    wanted = [i for i in ids if i is not None]
    for start in range(0, len(wanted), 500):
        with rt.store.read() as db:
            for it in db.exec(select(Item).where(col(Item.id).in_(wanted[start : start + 500]))):
                out[item_ref(it.id)] = " ".join(document_of(it, screened=True).text.split())[:DESCRIPTION_CHARS]
    return out


def export_input(rt: Runtime, spec: ChannelSpec, number: int, generated: datetime, descriptions: dict[str, str]) -> ExportInput:
    b = rt.settings.broadcast
    return ExportInput(spec, number, generated, page_seconds=b.page_seconds, epg_hours=b.epg_hours, channel_id=b.xmltv_id,
                       site_url=_site(rt), rss_items=b.rss_items, descriptions=descriptions, alert_every=b.alert_every,
                       epg_blocks=b.epg_blocks)  # fmt: skip


def _exports(rt: Runtime, p: Plan, number: int, generated: datetime) -> list[tuple[str, str, str, int]]:
    """Writes the configured exports to the asset store; (kind, href, sha256, bytes) each."""
    kinds = rt.settings.broadcast.exports
    if not kinds:
        return []
    inp = export_input(rt, p.spec, number, generated, p.descriptions(rt))
    out: list[tuple[str, str, str, int]] = []
    for kind in kinds:
        exp = EXPORTERS[kind]
        data = exp.make(inp)
        sha = rt.assets.put(data, exp.ext)
        out.append((kind, rt.assets.name_of(sha, exp.ext), sha, len(data)))
    return out


def _playout_missing(rt: Runtime, last: ChannelVersion) -> bool:
    """Playout switched on (or an output added) since the last version: it needs a new one."""
    p = rt.settings.broadcast.playout
    return p.enabled and not set(p.outputs) <= set(manifest_exports(last.manifest.encode("utf-8")))


def _playout(rt: Runtime, spec: ChannelSpec, last: ChannelVersion | None) -> playout_stage.Playout:
    """This version's playout, or — when it cannot be made (a page that will not encode, a full
    disk) — the last version's, so that the loop on air stays on air and is never half-written."""
    if not rt.settings.broadcast.playout.enabled:
        return playout_stage.Playout([], {}, 0, 0)
    try:
        return playout_stage.build(rt, spec)
    except TvPusherError as exc:
        log.error("playout not rebuilt, the previous loop stays on air: %s", exc)
    if last is None:
        return playout_stage.Playout([], {}, 0, 0)
    kept = manifest_exports(last.manifest.encode("utf-8"))
    old = dict(json.loads(last.assets))
    outputs = [playout_stage.Output(k, href, parse_asset_name(href)[0], old.get(href, 0)) for k, href in kept.items() if k in PLAYOUT]
    segments = {a: n for a, n in old.items() if a.endswith(".ts") and a not in {o.href for o in outputs}}
    return playout_stage.Playout(outputs, segments, 0, 0)


def _stale_epg(rt: Runtime, last: ChannelVersion) -> bool:
    """An unchanged channel still needs a new version before its XMLTV schedule runs out."""
    b = rt.settings.broadcast
    if "xmltv" not in b.exports:
        return False
    made = last.created_at if last.created_at.tzinfo else last.created_at.replace(tzinfo=UTC)
    return utcnow() - made >= timedelta(hours=b.epg_hours) / 2


#: Items moved to PUBLISHED a flush at a time (their rows then leave the session).
_STATE_CHUNK = 500

#: Plans made again when what they show changed while they were made (an operator's retraction,
#: a poll, a cleared alert): a stale plan must not air.
PLAN_ATTEMPTS = 3


def publish(rt: Runtime, *, force: bool = False, priority: int = 0) -> ChannelVersion | None:
    """Make a new channel version if the channel changed; queue it for every enabled target
    (``priority``: the deliveries' priority, raised for alerts)."""
    if not force and quiet.unchanged(rt, utcnow()):
        # Nothing that can alter what airs changed since the last plan (issue 19: an idle round
        # at 15,000 items spent seconds planning the same channel again).
        log.debug("nothing changed since the last plan: no new version")
        return None
    quiet.forget(rt)
    for _ in range(PLAN_ATTEMPTS):
        current, cv = _publish_once(rt, force=force, priority=priority)
        if current:
            return cv
    log.warning("items or alerts kept changing while the channel was planned: the next round publishes it")
    return None


def _still_current(db: Session, spec: ChannelSpec) -> bool:
    """Every planned item still on air at the planned version, every planned alert still on air."""
    planned = {parse_item_ref(i.id): i.version for i in spec.items}
    if planned:
        q = select(Item.id, Item.version).where(col(Item.id).in_(list(planned)), col(Item.state).in_(list(ON_AIR)))
        if dict(db.exec(q.where(col(Item.duplicate_of).is_(None))).all()) != planned:
            return False
    alerts = [parse_alert_ref(a.id) for a in spec.alerts]
    if alerts:
        live = db.exec(select(func.count()).select_from(Alert).where(col(Alert.id).in_(alerts), col(Alert.ended_at).is_(None))).one()
        if live != len(alerts):
            return False
    return True


def _publish_once(rt: Runtime, *, force: bool, priority: int) -> tuple[bool, ChannelVersion | None]:
    """One plan and, if the channel changed, its version; (False, None) if the plan went stale."""
    mark = quiet.Mark.read(rt)  # before the plan's first read: a change committed after it counts
    p = plan(rt)
    spec = p.spec
    d = digest(spec)
    with rt.store.read() as db:
        last = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
    if (
        last is not None and last.digest == d and not force and not _stale_epg(rt, last) and not _playout_missing(rt, last)
        and not parts_missing(rt, last)
    ):  # fmt: skip
        _take_off(rt, p.dropped, ItemState.EXPIRED, mark)
        _take_off(rt, p.failed, ItemState.FAILED, mark)
        quiet.remember(rt, mark, spec, p.items, last, utcnow())
        return True, None
    # Encoding happens before the write transaction: a cold loop takes seconds.
    playout = _playout(rt, spec, last)
    budget = rt.settings.broadcast.budget_bytes
    if budget and p.cost and p.cost.total <= budget:
        video = sum(playout.segments.values()) + sum(o.bytes for o in playout.outputs)
        if p.cost.pages + p.cost.exports + video > budget:
            # The plan estimated pages not encoded yet; they are now, so the next plan is exact.
            log.info("playout came out %d bytes larger than estimated: planning again", video - p.cost.video)
            return False, None
    _take_off(rt, p.dropped, ItemState.EXPIRED, mark)
    _take_off(rt, p.failed, ItemState.FAILED, mark)
    now = utcnow()
    with rt.store.write() as db:
        if not _still_current(db, spec):
            log.info("items or alerts changed while the channel was planned: planning again")
            return False, None
        number = (db.exec(select(func.max(ChannelVersion.version))).one() or 0) + 1
        generated = local(now, rt.settings.channel.timezone)
        # channel.xml is the small root; the column manifests it names travel as assets, with
        # the pages and before the root (issue 19: a one-item edit sends its column's shelf).
        built = build_channel(spec, number, generated)
        for data in built.parts.values():
            rt.assets.put(data, PART_EXT)
        manifest = built.root
        assets = {**spec.assets(), **built.assets()}
        exports = _exports(rt, p, number, generated)
        listed = [(EXPORTERS[k], href, sha, n) for k, href, sha, n in exports]
        listed += [(PLAYOUT[o.kind], o.href, o.sha256, o.bytes) for o in playout.outputs]
        manifest = attach(manifest, listed)
        travelling = {**assets, **{href: n for _, href, _, n in listed}, **playout.segments}
        cv = ChannelVersion(
            version=number, created_at=now, digest=d, manifest=manifest.decode("utf-8"),
            assets=json.dumps(sorted(travelling.items())), items=len(spec.items), pages=len(spec.pages()),
            # Every file that travels with the version: pages, exports (EPG, RSS, playlist), video.
            bytes=sum(assets.values()) + sum(n for _, _, _, n in exports) + sum(playout.segments.values())
            + sum(o.bytes for o in playout.outputs),
        )  # fmt: skip
        db.add(cv)
        # Here, before the first write the counter watches: on PostgreSQL its row stays locked to
        # the commit, and other nodes' writes must not wait for the manifests built above.
        mark.enter(db)
        on_air = [parse_item_ref(i.id) for i in spec.items]
        # Row by row, not a bulk UPDATE: each transition is then one logged event. A chunk at a
        # time without the texts (a year's first version moves every item).
        for start in range(0, len(on_air), _STATE_CHUNK):
            q = select(Item).options(*(defer(c) for c in _NOT_PLANNED))
            q = q.where(col(Item.id).in_(on_air[start : start + _STATE_CHUNK]), col(Item.state) == ItemState.RENDERED)
            moved = list(db.exec(q))
            for it in moved:
                set_state(it, ItemState.PUBLISHED, it.state_reason, now=now)
            db.flush()
            for it in moved:
                db.expunge(it)
        for t in rt.settings.targets:
            if not t.enabled:
                continue
            db.exec(
                update(Delivery)
                .where(col(Delivery.target) == t.name, col(Delivery.state) == DeliveryState.PENDING)
                .values(state=DeliveryState.SUPERSEDED)
            )
            db.add(Delivery(target=t.name, channel_version=number, next_attempt_at=now, created_at=now, priority=priority))
        mark.leave(db)
    if not _playout_missing(rt, cv):  # a loop that could not be made is tried again next round
        quiet.remember(rt, mark, spec, p.items, cv, now)
    log.info("channel version %d: %d items, %d pages, %d bytes", number, cv.items, cv.pages, cv.bytes)
    limit = rt.settings.broadcast.max_cycle_seconds
    if limit and (cycle := cycle_seconds(cv.bytes, rt.settings.broadcast)) > limit:
        log.warning("channel version %d: carousel cycle %.0f s exceeds broadcast.max_cycle_seconds %.0f s", number, cycle, limit)
    return True, cv
