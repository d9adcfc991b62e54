"""Whether the channel can have changed since the last plan: how an idle publish round skips
planning (issue 19: planning 15,000 items took seconds to learn that nothing changed).

After each plan the publish stage remembers (per runtime, in memory) what the plan depended on
that the store's change counter (:mod:`pusher.store.changes`) does not count:

- the counter itself as it was when the plan's reads began, and the newest channel version;
- the settings, the renderer's profile and the local date (menus and pages show it);
- the first moment a time-driven input changes: a kept item passes its column's maximum age,
  an alert on air reaches its ``until``, the XMLTV schedule needs a new version;
- the menu, home and alert pages and the version's other files (column manifests, exports)
  that the asset cache held: the plan renders a menu again, or a version writes its manifests
  again, when the cache lost one.

The next round skips planning only when all of it is as it was and the counter's triggers are
in place. Remembering in memory, not in the store, means a new process (a ``pusher push``, a
restart, an upgraded tvpusher, another node taking the lead) always plans once first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from feeds.channel import ChannelSpec
from pusher.names import parse_asset_name
from pusher.runtime import Runtime
from pusher.stages.retention import Aging, ages_out
from pusher.store import changes
from pusher.store.models import ChannelVersion
from pusher.timeutil import local

log = logging.getLogger("tvpusher.publish")


@dataclass(frozen=True)
class Quiet:
    changes: int  # the change counter when the plan's reads began
    version: int  # the newest channel version after the plan
    inputs: str  # hash of the settings, the profile and the local date
    until: datetime | None  # the first moment a time-driven input changes
    files: tuple[tuple[str, str], ...]  # (sha256, ext) the asset cache held and the plan needs
    folders: tuple[tuple[str, int, int], ...] = ()  # the files' folders: (path, inode, mtime_ns) when all were there
    seen_at: float = 0.0  # when ``folders`` was read (time.time())


_remembered: weakref.WeakKeyDictionary[Runtime, Quiet] = weakref.WeakKeyDictionary()


@dataclass
class Mark:
    """The change counter through one publish: read before the plan's first read; each of the
    stage's own writes checks that nobody else's came in between (then their bumps are the
    stage's own, already in the plan) and moves it on. ``clean`` False: something else
    changed meanwhile, so the plan may be stale and is not remembered."""

    n: int
    clean: bool = True

    @classmethod
    def read(cls, rt: Runtime) -> Mark:
        with rt.store.read() as db:
            return cls(changes.count(db))

    def enter(self, db: Session) -> None:
        """At the start of a write transaction of the stage's own (locks the counter)."""
        if changes.lock(db) != self.n:
            self.clean = False

    def leave(self, db: Session) -> None:
        """At the end of it, its writes flushed: their bumps are the stage's own."""
        db.flush()
        self.n = changes.count(db)


def forget(rt: Runtime) -> None:
    _remembered.pop(rt, None)


def _inputs(rt: Runtime, now: datetime) -> str:
    day = local(now, rt.settings.channel.timezone).date().isoformat()
    return hashlib.sha256(f"{rt.settings.model_dump_json()}\0{rt.renderer.profile.name}\0{day}".encode()).hexdigest()


def remember(rt: Runtime, mark: Mark, spec: ChannelSpec, items: Sequence[Aging], cv: ChannelVersion, now: datetime) -> None:
    """After a plan that aired as ``cv`` (made now, or found unchanged): what it depended on.
    ``now``: the time the plan was made at (the publish stage's clock)."""
    if not mark.clean:
        forget(rt)
        return
    due: list[datetime] = []
    if (aged := ages_out(items, rt.settings.broadcast)) is not None:
        due.append(aged)
    due += [a.until for a in spec.alerts if a.until is not None]
    b = rt.settings.broadcast
    if "xmltv" in b.exports:
        made = cv.created_at if cv.created_at.tzinfo else cv.created_at.replace(tzinfo=UTC)
        due.append(made + timedelta(hours=b.epg_hours) / 2)
    menus = [*spec.home, *(p for c in spec.columns for p in c.pages), *(p for a in spec.alerts for p in a.pages)]
    wanted = {(p.sha256, "png") for p in menus}
    wanted |= set(_version_files(cv))
    # Only what the cache holds now: a file already missing is the slow path's to judge, and
    # must not make every later round plan again.
    stamp = _folders(rt, wanted)
    files = tuple(sorted(f for f in wanted if rt.assets.has(*f)))
    _remembered[rt] = Quiet(mark.n, cv.version, _inputs(rt, now), min(due) if due else None, files, *stamp)


def _folders(rt: Runtime, files: Iterable[tuple[str, str]]) -> tuple[tuple[tuple[str, int, int], ...], float]:
    """The folders holding ``files``, stamped: a file removed from a folder changes its mtime."""
    at = time.time()
    out = []
    for folder in sorted({str(rt.assets.path(sha, ext).parent) for sha, ext in files}):
        try:
            st = os.stat(folder)
        except OSError:
            continue
        out.append((folder, st.st_ino, st.st_mtime_ns))
    return tuple(out), at


def _cached(rt: Runtime, q: Quiet) -> bool:
    """Whether the asset cache still holds every file the plan needs. Thousands of menu pages
    at 15,000 items cost a stat each (tens of milliseconds), so when none of their folders
    changed since every file was seen there, none was removed. A folder changed within a few
    seconds of being stamped is not trusted (mtimes tick coarser than a nanosecond)."""
    now = [(f, *_stat(f)) for f, _, _ in q.folders]
    if q.folders and now == list(q.folders) and all(m / 1e9 < q.seen_at - FOLDER_SETTLE for _, _, m in q.folders):
        return True
    stamp = _folders(rt, q.files)
    if not all(rt.assets.has(sha, ext) for sha, ext in q.files):
        return False
    _remembered[rt] = replace(q, folders=stamp[0], seen_at=stamp[1])
    return True


#: Seconds a folder's mtime must be older than its stamp to be trusted.
FOLDER_SETTLE = 2.0


def _stat(folder: str) -> tuple[int, int]:
    try:
        st = os.stat(folder)
    except OSError:
        return -1, -1
    return st.st_ino, st.st_mtime_ns


def _version_files(cv: ChannelVersion) -> Iterable[tuple[str, str]]:
    """The version's files other than pages and video segments (column manifests, exports, the
    playout playlists): a handful, where the pages and segments are thousands."""
    for href, _ in json.loads(cv.assets or "[]"):
        if href.endswith((".png", ".ts")):
            continue
        try:
            yield parse_asset_name(href)
        except ValueError:
            continue


def unchanged(rt: Runtime, now: datetime) -> bool:
    """Whether the last plan would come out again at ``now``, so that this round need not plan."""
    q = _remembered.get(rt)
    if q is None:
        return False
    if q.until is not None and now >= q.until:
        return False
    if _inputs(rt, now) != q.inputs:
        return False
    with rt.store.read() as db:
        if not changes.watching(db):
            # A batch migration that rebuilt a table dropped them: make them again, and plan.
            log.warning("the change counter's triggers were missing or stale: made again")
            with rt.store.write() as w:
                changes.install(w)
            forget(rt)
            return False
        if changes.count(db) != q.changes:
            return False
        if db.exec(select(func.max(ChannelVersion.version))).one() != q.version:
            return False
    return _cached(rt, q)
