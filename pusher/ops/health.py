"""Whether the service is healthy, from the figures of :func:`pusher.ops.status.collect_status`.

Pure: ``pusher status`` and the daemon's ``/healthz`` (:mod:`pusher.daemon.health`) both judge
with it, and the operations layer needs nothing of the daemon to do so.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from pusher.names import parse_asset_name
from pusher.store.models import ChannelVersion

if TYPE_CHECKING:
    from pusher.ops.status import Status
    from pusher.runtime import Runtime


def evaluate(st: Status, settings: Any, beat_age: float | None = None) -> list[str]:
    """The reasons the service is unhealthy, from a ``collect_status`` :class:`Status`; empty if it is fine."""
    d = settings.daemon
    problems = []
    for s in st.sources:
        if s.enabled and s.failing_seconds > d.source_failing_after:
            problems.append(f"source {s.name} failing for {s.failing_seconds:.0f}s: {s.last_error}")
    for t in st.targets:
        if t.enabled and t.failing_seconds > d.target_failing_after:
            problems.append(f"target {t.name} failing for {t.failing_seconds:.0f}s: {t.last_error}")
    if beat_age is not None and beat_age > d.scheduler_stuck_after:
        problems.append(f"scheduler stuck: no heartbeat for {beat_age:.0f}s")
    ch, limit = st.channel, getattr(settings.broadcast, "max_cycle_seconds", 0)
    if limit and ch.cycle_seconds > limit:
        problems.append(f"carousel cycle {ch.cycle_seconds:.0f}s exceeds broadcast.max_cycle_seconds {limit:.0f}s ({ch.bytes} bytes)")
    alive = [n for n in st.nodes if n.alive]
    if alive and not any(n.leader for n in alive):
        problems.append("no live node leads the scheduler")
    return problems


def degradations(st: Status) -> list[str]:
    """What is wrong now, before any threshold: a source or target whose last attempt failed
    (since when, and why), items that failed to render. ``pusher status`` says "degraded"."""
    out = []
    for s in st.sources:
        if s.enabled and s.last_status == "error":
            out.append(f"source {s.name} failing since {s.failing_since or s.last_poll_at}: {s.last_error}")
    for t in st.targets:
        if t.enabled and t.last_error:
            out.append(f"target {t.name} failing since {t.failing_since or t.next_attempt_at}: {t.last_error}")
    if st.failed:
        out.append(f"{len(st.failed)} items failed to render (pusher retry --all once the cause is fixed)")
    return out


def process_problems(rt: Runtime) -> list[str]:
    """What this process found wrong with its own parts, beyond the store's figures: the
    database file it opened gone or replaced, pages of the channel on air lost from the asset
    cache that could not be drawn again (they are drawn anew for the next version)."""
    if rt.store.lost:
        return [rt.store.lost]
    lost = set(rt.assets.lost)
    if not lost:
        return []
    with rt.store.read() as db:
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
    if cv is None:
        return []
    gone = sorted(n for n, _ in json.loads(cv.assets) if n in lost and not rt.assets.has(*parse_asset_name(n)))
    if not gone:
        return []
    return [f"{len(gone)} assets of channel version {cv.version} are missing from the local asset cache {rt.assets.root} and cannot "
            f"be drawn again (first {gone[0]}): a headend that lost them cannot be repaired until the next version"]  # fmt: skip
