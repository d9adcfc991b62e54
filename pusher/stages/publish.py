"""Build the channel from what is on air: menus, navigation, a manifest version, and one
delivery per target in the outbox. An unchanged channel makes no new version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, delete, select, update

from feeds.channel import ChannelSpec, ColumnSpec, ItemSpec, PageRef, build_manifest, digest
from pusher.codec import attachments_from_json
from pusher.interfaces import Menu, MenuEntry, PageContext
from pusher.models import ChannelVersion, Delivery, Item, Page
from pusher.runtime import Runtime
from pusher.states import ON_AIR, ItemState
from pusher.timeutil import local, utcnow

from .render import store_pages

log = logging.getLogger("tvpusher.publish")


def _menu_pages(rt: Runtime, menu: Menu, ctx: PageContext) -> list[Page]:
    """Menus are re-rendered only when what they show changes (the cache key is their input)."""
    key = hashlib.sha256(repr((rt.renderer.profile, menu, ctx)).encode()).hexdigest()[:32]
    owner = f"menu:{key}"
    with rt.store.read() as db:
        cached = list(db.exec(select(Page).where(Page.owner == owner).order_by(Page.seq)))  # type: ignore[arg-type]
    if cached and all(rt.assets.has(p.sha256) for p in cached):
        return cached
    rows = store_pages(rt, owner, 1, rt.renderer.render_menu(menu, ctx))
    with rt.store.write() as db:
        db.exec(delete(Page).where(col(Page.owner) == owner))
        for r in rows:
            db.add(r)
    return rows


def _entries(page: Page) -> list[list[Any]]:
    entries: list[list[Any]] = json.loads(page.layout).get("entries", [])
    return entries


def _ref(
    page: Page, pid: str, entries: Sequence[tuple[int, str, str, int, int, int, int]] = (), keys: Sequence[tuple[str, str]] = ()
) -> PageRef:
    return PageRef(pid, page.sha256, page.bytes, page.width, page.height, tuple(entries), tuple(keys))


def _turns(ids: list[str], n: int) -> list[tuple[str, str]]:
    keys = []
    if n > 0:
        keys.append(("LEFT", ids[n - 1]))
    if n < len(ids) - 1:
        keys.append(("RIGHT", ids[n + 1]))
    return keys


def on_air(rt: Runtime) -> list[tuple[Item, list[Page]]]:
    """Items in the channel with their current pages, pinned then newest first.
    Retention and the byte budget hook in here."""
    profile = rt.renderer.profile.name
    with rt.store.read() as db:
        items = list(
            db.exec(
                select(Item)
                .where(col(Item.state).in_(list(ON_AIR)), col(Item.duplicate_of).is_(None))
                .order_by(col(Item.pinned).desc(), col(Item.published).desc(), col(Item.id).desc())
            )
        )
        pages: dict[int, list[Page]] = {}
        for p in db.exec(
            select(Page).where(col(Page.owner).like("item:%"), col(Page.profile) == profile).order_by(col(Page.owner), col(Page.seq))
        ):
            pages.setdefault(int(p.owner.split(":")[1]), []).append(p)
    return [(i, pages[i.id]) for i in items if i.id in pages and all(p.version == i.rendered_version for p in pages[i.id])]


def build_spec(rt: Runtime) -> ChannelSpec:
    st = rt.settings
    tz = st.channel.timezone
    today = local(utcnow(), tz).date()
    chosen = on_air(rt)
    items = [i for i, _ in chosen]
    item_pages = {i.id: pages for i, pages in chosen}
    by_col: dict[str, list[Item]] = {c.id: [] for c in st.columns}
    for it in items:
        by_col.setdefault(it.column, []).append(it)
    columns = list(st.columns)
    col_ids = [c.id for c in columns]

    # Render menus first: navigation needs to know which menu page lists which entry.
    home_menu = Menu(st.channel.name, tuple(MenuEntry(c.id, f"{c.name}（{len(by_col[c.id])}）") for c in columns), kind="home")
    home_pages = _menu_pages(rt, home_menu, PageContext(st.channel.name, "", today))
    col_pages: dict[str, list[Page]] = {}
    for c in columns:
        menu = Menu(
            c.name, tuple(MenuEntry(f"i{it.id}", it.title, local(it.published, tz).date() if it.published else None) for it in by_col[c.id])
        )
        col_pages[c.id] = _menu_pages(rt, menu, PageContext(st.channel.name, c.name, today))

    home_ids = [f"home-{n}" for n in range(1, len(home_pages) + 1)]
    col_first = {c: f"c-{c}-1" for c in col_ids}
    home_of_col: dict[str, str] = {}
    for n, p in enumerate(home_pages):
        for e in _entries(p):
            home_of_col[e[1]] = home_ids[n]
    menu_of_item: dict[str, str] = {}
    for cid in col_ids:
        for n, page in enumerate(col_pages[cid]):
            for e in _entries(page):
                menu_of_item[e[1]] = f"c-{cid}-{n + 1}"

    def channel_keys(cid: str) -> list[tuple[str, str]]:
        i = col_ids.index(cid)
        return [("CH_UP", col_first[col_ids[(i + 1) % len(col_ids)]]), ("CH_DOWN", col_first[col_ids[(i - 1) % len(col_ids)]])]

    home = tuple(
        _ref(p, home_ids[n], [(e[0], col_first[e[1]], "", *e[2:6]) for e in _entries(p)], _turns(home_ids, n))
        for n, p in enumerate(home_pages)
    )
    col_specs = []
    for c in columns:
        ids = [f"c-{c.id}-{n}" for n in range(1, len(col_pages[c.id]) + 1)]
        refs = tuple(
            _ref(p, ids[n], [(e[0], f"{e[1]}-1", e[1], *e[2:6]) for e in _entries(p)],
                 [*_turns(ids, n), ("BACK", home_of_col.get(c.id, home_ids[0])), *channel_keys(c.id)])
            for n, p in enumerate(col_pages[c.id])
        )  # fmt: skip
        col_specs.append(ColumnSpec(c.id, c.name, c.key, len(by_col[c.id]), refs))
    item_specs = []
    for it in items:
        iid = f"i{it.id}"
        ids = [f"{iid}-{n}" for n in range(1, len(item_pages[it.id]) + 1)]
        back = menu_of_item.get(iid, col_first.get(it.column, home_ids[0]))
        refs = tuple(
            _ref(p, ids[n], (), [*_turns(ids, n), ("BACK", back), *channel_keys(it.column)]) for n, p in enumerate(item_pages[it.id])
        )
        item_specs.append(
            ItemSpec(
                id=iid, column=it.column, version=it.version, title=it.screened_title or it.title, url=it.url, pages=refs,
                published=local(it.published, tz) if it.published else None, publisher=it.publisher, index_no=it.index_no,
                doc_no=it.doc_no, topic=it.topic, attachments=tuple((a.name, a.url) for a in attachments_from_json(it.attachments)),
                pinned=it.pinned,
            )
        )  # fmt: skip
    prof = rt.renderer.profile
    return ChannelSpec(st.channel.name, prof.name, prof.width, prof.height, home, tuple(col_specs), tuple(item_specs))


def publish(rt: Runtime, *, force: bool = False) -> ChannelVersion | None:
    """Make a new channel version if the channel changed; queue it for every enabled target."""
    spec = build_spec(rt)
    d = digest(spec)
    with rt.store.read() as db:
        last = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
    if last is not None and last.digest == d and not force:
        return None
    now = utcnow()
    with rt.store.write() as db:
        number = (db.exec(select(func.max(ChannelVersion.version))).one() or 0) + 1
        manifest = build_manifest(spec, number, local(now, rt.settings.channel.timezone))
        assets = spec.assets()
        cv = ChannelVersion(
            version=number, created_at=now, digest=d, manifest=manifest.decode("utf-8"),
            assets=json.dumps(sorted(assets.items())), items=len(spec.items), pages=len(spec.pages()), bytes=sum(assets.values()),
        )  # fmt: skip
        db.add(cv)
        on_air = [int(i.id[1:]) for i in spec.items]
        if on_air:
            db.exec(
                update(Item)
                .where(col(Item.id).in_(on_air), col(Item.state) == ItemState.RENDERED)
                .values(state=ItemState.PUBLISHED, updated_at=now)
            )
        for t in rt.settings.targets:
            if not t.enabled:
                continue
            db.exec(update(Delivery).where(col(Delivery.target) == t.name, col(Delivery.state) == "pending").values(state="superseded"))
            db.add(Delivery(target=t.name, channel_version=number, next_attempt_at=now, created_at=now))
    log.info("channel version %d: %d items, %d pages, %d bytes", number, cv.items, cv.pages, cv.bytes)
    return cv
