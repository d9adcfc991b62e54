"""The figures an operator asks for: items by state, sources, targets, backlog, channel, nodes.

``pusher status`` prints them; the health endpoint and ``/metrics`` read the same function.
Error texts pass through :func:`pusher.logs.redact`: no password or token ever shows here.
:func:`collect_status` returns a frozen :class:`Status`; :meth:`Status.to_dict` is the JSON of
``pusher status --json`` (times as local ISO strings, ages in seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select

from pusher.logs import redact, register_secrets
from pusher.runtime import Runtime
from pusher.stages.render import automatic_retries
from pusher.stages.retention import cycle_seconds
from pusher.states import ItemState
from pusher.store.models import Alert, ChannelVersion, Delivery, DeliveryState, Item, Node, SourceRow
from pusher.timeutil import utcnow


def _iso(dt: datetime | None, tz: str) -> str | None:
    from pusher.timeutil import local

    return local(dt, tz).isoformat(timespec="seconds") if dt else None


def _age(dt: datetime | None, now: datetime) -> float | None:
    if dt is None:
        return None
    return max(0.0, (now - (dt if dt.tzinfo else dt.replace(tzinfo=UTC))).total_seconds())


@dataclass(frozen=True)
class ChannelStatus:
    name: str
    profile: str
    version: int | None
    generated_at: str | None
    age_seconds: float | None
    items: int
    pages: int
    bytes: int
    # The carousel sends every byte once per cycle: a box waits up to this for a page.
    cycle_seconds: float
    bitrate_kbps: float
    budget_bytes: int
    # What travels, by kind: page PNGs, exports (EPG, RSS, playlist) and video; their sum is ``bytes``.
    page_bytes: int = 0
    export_bytes: int = 0
    video_bytes: int = 0
    max_cycle_seconds: float = 0


@dataclass(frozen=True)
class AlertStatus:
    id: int
    level: str
    text: str
    column: str
    until: str | None


@dataclass(frozen=True)
class FailedItem:
    id: int
    title: str
    source: str
    reason: str
    since: str | None
    # When it is drawn again by itself (its backoff ends; sooner if the configuration or a font
    # changes); None for a failure that does not heal by itself.
    retry_at: str | None = None


@dataclass(frozen=True)
class Backlog:
    to_screen: int
    held_for_review: int
    to_render: int
    deliveries: int


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    enabled: bool
    interval: float
    last_poll_at: str | None
    last_ok_at: str | None
    last_status: str  # ok | not_modified | error | never
    last_error: str
    polls: int
    errors: int
    failing_since: str | None
    failing_seconds: float


@dataclass(frozen=True)
class TargetStatus:
    name: str
    kind: str
    enabled: bool
    last_delivered_version: int | None
    last_delivered_at: str | None
    backlog: int  # pending deliveries
    next_attempt_at: str | None
    attempts: int
    last_error: str
    failing_since: str | None
    failing_seconds: float
    pushed_bytes: int
    failures: int
    # What the outbox knows beyond the delivery rows: assets still to send, held, awaiting deletion.
    versions_behind: int
    to_send: int
    to_send_bytes: int
    assets_held: int
    awaiting_deletion: int
    busy_with: str


@dataclass(frozen=True)
class NodeStatus:
    name: str
    host: str
    pid: int
    leader: bool
    leader_since: str | None
    started_at: str | None
    seen_at: str | None
    alive: bool


@dataclass(frozen=True)
class Health:
    ok: bool  # what /healthz answers: False past a threshold (503)
    problems: tuple[str, ...] = ()
    # Everything that is wrong now, before any threshold: a target or source failing since
    # when, items that failed to render. ``state`` is ok, degraded (only these) or failing.
    degraded: tuple[str, ...] = ()
    state: str = "ok"


@dataclass(frozen=True)
class Status:
    channel: ChannelStatus
    items: Mapping[str, int]  # item state (its value) → count, every state listed
    backlog: Backlog
    sources: tuple[SourceStatus, ...]
    targets: tuple[TargetStatus, ...]
    nodes: tuple[NodeStatus, ...]
    health: Health
    alerts: tuple[AlertStatus, ...] = ()
    failed: tuple[FailedItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``pusher status --json``: nested dicts and lists, keys in field order."""
        out = _plain(self)
        assert isinstance(out, dict)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Status | ChannelStatus | Backlog | SourceStatus | TargetStatus | NodeStatus | Health | AlertStatus | FailedItem):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def collect_status(rt: Runtime) -> Status:
    register_secrets(rt.settings)  # the configuration's passwords and tokens never show here
    tz = rt.settings.channel.timezone
    now = utcnow()
    alive_within = rt.settings.daemon.scheduler_stuck_after
    with rt.store.read() as db:
        counts = {s.value: 0 for s in ItemState}
        for state, n in db.exec(select(Item.state, func.count()).group_by(Item.state)):
            counts[ItemState(state).value] = n
        rows = {r.name: r for r in db.exec(select(SourceRow))}
        cv = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
        sums = {
            t: (int(b or 0), int(a or 0) - int(d or 0))
            for t, b, a, d in db.exec(
                select(
                    Delivery.target, func.sum(Delivery.bytes_sent), func.sum(Delivery.attempts),
                    func.sum(case((col(Delivery.state) == DeliveryState.DONE, 1), else_=0)),
                ).group_by(Delivery.target)
            )
        }  # fmt: skip
        targets: list[dict[str, Any]] = []
        for t in rt.settings.targets:
            last = db.exec(
                select(Delivery)
                .where(Delivery.target == t.name, Delivery.state == DeliveryState.DONE)
                .order_by(col(Delivery.channel_version).desc())
            ).first()
            pending = list(
                db.exec(
                    select(Delivery)
                    .where(Delivery.target == t.name, Delivery.state == DeliveryState.PENDING)
                    .order_by(col(Delivery.channel_version).desc())
                )
            )
            failing_since = None
            if pending and pending[0].last_error:
                # Failing since the last success (or since the target's first delivery).
                first = db.exec(select(func.min(Delivery.created_at)).where(Delivery.target == t.name)).one()
                failing_since = last.done_at if last and last.done_at else first
            pushed, failures = sums.get(t.name, (0, 0))
            targets.append(
                {
                    "name": t.name,
                    "kind": t.kind,
                    "enabled": t.enabled,
                    "last_delivered_version": last.channel_version if last else None,
                    "last_delivered_at": _iso(last.done_at, tz) if last else None,
                    "backlog": len(pending),
                    "next_attempt_at": _iso(pending[0].next_attempt_at, tz) if pending else None,
                    "attempts": pending[0].attempts if pending else 0,
                    "last_error": redact(pending[0].last_error) if pending else "",
                    "failing_since": _iso(failing_since, tz),
                    "failing_seconds": _age(failing_since, now) or 0,
                    "pushed_bytes": pushed,
                    "failures": max(0, failures),
                }
            )
        nodes = tuple(
            NodeStatus(
                name=n.name,
                host=n.host,
                pid=n.pid,
                leader=n.leader and n.stopped_at is None,
                leader_since=_iso(n.leader_since, tz),
                started_at=_iso(n.started_at, tz),
                seen_at=_iso(n.seen_at, tz),
                alive=n.stopped_at is None and (_age(n.seen_at, now) or 0) <= alive_within,
            )
            for n in db.exec(select(Node).order_by(col(Node.name)))
        )
        alerts = tuple(
            AlertStatus(id=a.id or 0, level=a.level, text=a.text, column=a.column, until=_iso(a.until, tz))
            for a in db.exec(select(Alert).where(col(Alert.ended_at).is_(None)).order_by(col(Alert.id)))
            if a.until is None or (a.until if a.until.tzinfo else a.until.replace(tzinfo=UTC)) > now
        )
        failed_rows = list(db.exec(select(Item).where(Item.state == ItemState.FAILED).order_by(col(Item.id))))
        # The same count the backoff uses (reset by an operator's `pusher retry`).
        retries = automatic_retries(db, [i.id for i in failed_rows if i.id is not None]) if failed_rows else {}
        failed = tuple(
            FailedItem(
                id=i.id or 0,
                title=i.title,
                source=i.source,
                reason=redact(i.state_reason),
                since=_iso(i.updated_at, tz),
                retry_at=_retry_at(i, retries.get((i.id or 0, f"version {i.version}"), 0), tz),
            )
            for i in failed_rows
        )
    sources = []
    for s in rt.settings.sources:
        r = rows.get(s.name)
        sources.append(
            SourceStatus(
                name=s.name,
                kind=s.kind,
                enabled=s.enabled,
                interval=s.interval,
                last_poll_at=_iso(r.last_poll_at, tz) if r else None,
                last_ok_at=_iso(r.last_ok_at, tz) if r else None,
                last_status=r.last_status if r else "never",
                last_error=redact(r.last_error) if r else "",
                polls=r.polls if r else 0,
                errors=r.errors if r else 0,
                failing_since=_iso(r.failing_since, tz) if r else None,
                failing_seconds=(_age(r.failing_since, now) or 0) if r else 0,
            )
        )
    # What the outbox knows beyond the delivery rows: assets still to send, held, awaiting deletion.
    from pusher.stages.outbox import target_status

    target_rows = tuple(
        TargetStatus(
            **row,
            versions_behind=ts.versions_behind,
            to_send=ts.to_send,
            to_send_bytes=ts.to_send_bytes,
            assets_held=ts.held,
            awaiting_deletion=ts.awaiting_deletion,
            busy_with=ts.busy_with,
        )
        for row, ts in zip(targets, target_status(rt), strict=True)
    )
    st = Status(
        channel=ChannelStatus(
            name=rt.settings.channel.name,
            profile=rt.settings.channel.profile,
            version=cv.version if cv else None,
            generated_at=_iso(cv.created_at, tz) if cv else None,
            age_seconds=_age(cv.created_at, now) if cv else None,
            items=cv.items if cv else 0,
            pages=cv.pages if cv else 0,
            bytes=cv.bytes if cv else 0,
            cycle_seconds=round(cycle_seconds(cv.bytes if cv else 0, rt.settings.broadcast), 1),
            bitrate_kbps=rt.settings.broadcast.bitrate_kbps,
            budget_bytes=rt.settings.broadcast.budget_bytes,
            **_travelling(cv),
            max_cycle_seconds=rt.settings.broadcast.max_cycle_seconds,
        ),
        alerts=alerts,
        failed=failed,
        items=counts,
        backlog=Backlog(
            to_screen=counts["new"],
            held_for_review=counts["held"],
            to_render=counts["screened"],
            deliveries=sum(t.backlog for t in target_rows),
        ),
        sources=tuple(sources),
        targets=target_rows,
        nodes=nodes,
        health=Health(ok=True),
    )
    from pusher.ops.health import degradations, evaluate

    problems = evaluate(st, rt.settings)
    degraded = degradations(st)
    state = "failing" if problems else ("degraded" if degraded else "ok")
    return replace(st, health=Health(ok=not problems, problems=tuple(problems), degraded=tuple(degraded), state=state))


def _retry_at(item: Item, retries: int, tz: str) -> str | None:
    from datetime import timedelta

    from pusher.stages.render import RENDER_FAILURE, retry_delay

    if not item.state_reason.startswith(RENDER_FAILURE):
        return None
    at = item.updated_at if item.updated_at.tzinfo else item.updated_at.replace(tzinfo=UTC)
    return _iso(at + timedelta(seconds=retry_delay(retries)), tz)


def _travelling(cv: ChannelVersion | None) -> dict[str, int]:
    """The version's files by kind, from its asset list and the exports its manifest lists."""
    if cv is None:
        return {"page_bytes": 0, "export_bytes": 0, "video_bytes": 0}
    import json

    from feeds.exports import manifest_exports

    exported = set(manifest_exports(cv.manifest.encode("utf-8")).values())
    pages = exports = video = 0
    for href, n in json.loads(cv.assets or "[]"):
        if href.endswith(".png"):
            pages += n
        elif href.endswith((".ts", ".m3u8")):
            video += n
        elif href in exported:
            exports += n
    return {"page_bytes": pages, "export_bytes": exports, "video_bytes": video}
