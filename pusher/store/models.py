"""The store's tables (SQLModel). All datetimes are aware, kept in UTC (see :mod:`pusher.timeutil`).

Schema changes go through a new Alembic revision in ``pusher/store/migrations/versions``; the test
``tests/store/test_migrations.py`` checks that the migrations and these models agree.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Dialect, Index, LargeBinary, Text, TypeDecorator, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from pusher.states import ItemState
from pusher.timeutil import utcnow


class DeliveryState(enum.StrEnum):
    """Where a :class:`Delivery` row stands. Stored as its value (a plain string column)."""

    PENDING = "pending"  # to be pushed (or being retried)
    DONE = "done"  # the target holds this version
    SUPERSEDED = "superseded"  # a newer version replaced it before it was delivered


class AuditAction(enum.StrEnum):
    """What an operator did, as written in :class:`Audit` ``action``."""

    PUSH = "push"
    RETRACT = "retract"
    APPROVE_MASKED = "review.approve-masked"
    APPROVE_AS_IS = "review.approve-as-is"
    REJECT = "review.reject"
    ALERT_RAISE = "alert.raise"
    ALERT_CLEAR = "alert.clear"
    ALERT_EXPIRE = "alert.expire"
    # A failed render drawn again: by the operator (``pusher retry``) or by itself (a changed
    # configuration or font, or its backoff passed); ``detail`` is "version N" of the item.
    RENDER_RETRY = "render.retry"
    RENDER_HEAL = "render.heal"
    # An item on air screened again (the gate's lists, policy or code, or its attachments
    # changed) and taken off the air or sent to be drawn with new masking; ``detail`` says which.
    GATE_RESCREEN = "gate.rescreen"

    @property
    def is_review(self) -> bool:
        return self.value.startswith(REVIEW_PREFIX)


#: The prefix shared by the review decisions (``review.approve-masked`` …).
REVIEW_PREFIX = "review."


class DeliveryStateColumn(TypeDecorator[DeliveryState]):
    """A plain string column (as the migrations made it) that reads back a :class:`DeliveryState`."""

    impl = AutoString
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else DeliveryState(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> DeliveryState | None:
        return None if value is None else DeliveryState(value)


class SourceRow(SQLModel, table=True):
    __tablename__ = "source"

    name: str = Field(primary_key=True)
    kind: str
    validators: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_status: str = ""  # ok | not_modified | error
    last_error: str = ""
    failing_since: datetime | None = None
    polls: int = 0
    errors: int = 0
    requests: int = 0


class Item(SQLModel, table=True):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("source", "url", name="uq_item_source_url"),
        Index("ix_item_state", "state"),
        Index("ix_item_dedupe", "dedupe_key"),
        # Claims of dead processes are looked up every round: without it, a scan of every item.
        Index("ix_item_claimed_by", "claimed_by"),
        # A poll's re-checks (the oldest few) and its missing items, without a scan of the
        # source's rows: an idle poll of a year's source reads a few index entries (issue 19).
        Index("ix_item_source_checked", "source", "checked_at"),
        Index("ix_item_source_missing", "source", "missing_polls"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    url: str
    dedupe_key: str = ""  # 索引号, else title + date: the same notice under two URLs
    duplicate_of: int | None = None
    title: str
    column: str = ""  # channel column id
    portal_column: str = ""
    index_no: str = ""  # 索引号
    publisher: str = ""  # 发布机构
    doc_no: str = ""  # 文号
    topic: str = ""  # 主题分类
    validity: str = ""  # 有效性
    published: datetime | None = None
    written: datetime | None = None  # 成文日期
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    body: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))  # JSON blocks
    attachments: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    content_hash: str = ""
    version: int = 1
    state: ItemState = Field(default=ItemState.NEW)
    state_reason: str = ""
    screened_body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # JSON, as it may air
    screened_title: str = ""
    findings: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    rendered_version: int = 0
    pinned: bool = False
    missing_polls: int = 0
    # Conditional re-checks of the detail page: {"etag", "last_modified", "list"} ("list" is the
    # title|date the column list showed, so that a changed list line triggers a re-read).
    validators: str = Field(default="{}", sa_column=Column("validators", Text, nullable=False, server_default="{}"))
    checked_at: datetime | None = None  # last time the detail page was fetched or answered 304
    first_seen: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    claimed_by: str = ""
    claimed_until: datetime | None = None


class Page(SQLModel, table=True):
    """A rendered page image. ``owner`` is ``item:<id>``, ``menu:<column>``, ``home`` or ``alert:<id>``."""

    __tablename__ = "page"
    __table_args__ = (Index("ix_page_owner", "owner", "profile", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str
    version: int = 1
    seq: int
    profile: str
    sha256: str
    bytes: int
    width: int
    height: int
    layout: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))  # lines, entries
    created_at: datetime = Field(default_factory=utcnow)


class ChannelVersion(SQLModel, table=True):
    __tablename__ = "channel_version"

    version: int = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    digest: str  # hash of the content, without version and time: equal digest = unchanged channel
    manifest: str = Field(sa_column=Column(Text, nullable=False))
    assets: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))  # JSON [[sha, bytes]]
    items: int = 0
    pages: int = 0
    bytes: int = 0


class Delivery(SQLModel, table=True):
    """The outbox: one row per channel version per target."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("target", "channel_version", name="uq_delivery_target_version"),)

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(index=True)
    channel_version: int
    state: DeliveryState = Field(default=DeliveryState.PENDING, sa_type=DeliveryStateColumn, nullable=False)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = ""
    bytes_sent: int = 0
    files_sent: int = 0
    priority: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    claimed_by: str = ""
    claimed_until: datetime | None = None


class TargetAsset(SQLModel, table=True):
    """What each target is known to hold, so that only missing assets travel."""

    __tablename__ = "target_asset"

    target: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    bytes: int
    pushed_at: datetime = Field(default_factory=utcnow)
    unreferenced_since: datetime | None = None


class Audit(SQLModel, table=True):
    """Operator actions (review, retract, manual push, alerts): who, when, why."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str
    action: str
    item_id: int | None = None
    reason: str = ""
    detail: str = ""


class Alert(SQLModel, table=True):
    """An emergency or service alert: a ticker line and an alert page, on air until ``until``
    (or until cleared). ``ended`` says how it left the air: ``cleared`` or ``expired``."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    level: str = "warning"  # info | warning | urgent
    column: str = ""  # a column it belongs to, or "" for the whole channel
    created_at: datetime = Field(default_factory=utcnow)
    until: datetime | None = None
    ended_at: datetime | None = None
    ended: str = ""
    actor: str = ""


class Node(SQLModel, table=True):
    """A running daemon: seen by its heartbeat; ``leader`` runs the scheduler's poll and publish
    jobs (one at a time, see :mod:`pusher.daemon.leader`)."""

    __tablename__ = "node"

    name: str = Field(primary_key=True)
    host: str = ""
    pid: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    seen_at: datetime = Field(default_factory=utcnow)  # the scheduler's last heartbeat
    leader: bool = False
    leader_since: datetime | None = None
    stopped_at: datetime | None = None  # a clean exit; a dead node simply stops being seen


class ChannelChange(SQLModel, table=True):
    """The channel's change counter: one row (``id`` 1) whose ``n`` database triggers bump on
    every write that can alter what airs (see :mod:`pusher.store.changes`)."""

    __tablename__ = "channel_change"

    id: int = Field(primary_key=True)
    n: int = 0


class AsRun(SQLModel, table=True):
    """The as-run log (proof of play): one row per page segment a live playout sent, with the
    time its first frame was due on screen. ``item`` is the manifest's item id (``i24``), empty
    for menus and alerts; ``output`` the stream it went to (``udp://239.1.1.1:1234``)."""

    __tablename__ = "asrun"
    __table_args__ = (Index("ix_asrun_aired_at", "aired_at"),)

    id: int | None = Field(default=None, primary_key=True)
    aired_at: datetime
    seconds: int
    channel_version: int
    page: str  # the manifest's page id (``i24-2``, ``home-1``, ``alert-3-1``)
    item: str = ""
    kind: str = ""  # alert | home | column | item
    output: str = ""
    node: str = ""


class Blob(SQLModel, table=True):
    """Files every node reads, whoever wrote them (:mod:`pusher.store.blobs`): a blob is its
    ``name`` and chunk rows ``seq`` 0…n-1 of at most 1 MiB; ``size`` is the whole blob's bytes."""

    __tablename__ = "blob"

    name: str = Field(primary_key=True)
    seq: int = Field(default=0, primary_key=True)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # a loop.ts may pass 2 GiB
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
