"""Every stage interface of tvpusher, in one place.

The flow is source → store → gate → renderer → channel → target. Each stage is a small
Protocol; implementations are plain classes listed by name in :mod:`pusher.registry`
and are exercised by the contract tests of their interface in ``tests/``.

Value objects here are frozen dataclasses: they cross stage boundaries and are never mutated.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

# ---------------------------------------------------------------- content ----


@dataclass(frozen=True)
class Block:
    """One block of an item's body, as the renderers and the gate see it.

    ``p`` paragraph, ``h`` heading, ``table`` (``rows`` of cell strings, the first
    ``header_rows`` of them repeated when a table spans pages), ``img`` (``src`` absolute URL,
    ``text`` the alt text).
    """

    kind: Literal["p", "h", "table", "img"]
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    header_rows: int = 0
    src: str = ""

    def texts(self) -> list[str]:
        """All human-readable strings of the block, in reading order."""
        if self.kind == "table":
            return [cell for row in self.rows for cell in row]
        return [self.text] if self.text else []


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str


@dataclass(frozen=True)
class ListEntry:
    """One record of a portal's column list."""

    url: str
    title: str
    published: datetime | None = None
    column: str | None = None  # the portal's column name, when the list says it


@dataclass(frozen=True)
class Listing:
    """What one poll of a source's lists found.

    ``not_modified`` means every list page answered 304 (or was byte-identical): nothing to do.
    ``complete`` is true when the listing covered the pages the source is configured to watch,
    so that an item missing from it may count toward withdrawal.
    ``validators`` maps each list URL to its ``{"etag": …, "last_modified": …}``.
    """

    entries: tuple[ListEntry, ...]
    not_modified: bool = False
    complete: bool = True
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    requests: int = 0


@dataclass(frozen=True)
class Document:
    """One portal item, fully read: what the store keeps and the renderers draw."""

    url: str
    title: str
    blocks: tuple[Block, ...]
    published: datetime | None = None  # aware (UTC in the store)
    publisher: str = ""  # 发布机构
    index_no: str = ""  # 索引号
    doc_no: str = ""  # 文号
    topic: str = ""  # 主题分类
    written: date | None = None  # 成文日期
    validity: str = ""  # 有效性
    column: str = ""  # the portal's column name (ColumnName meta, breadcrumb)
    attachments: tuple[Attachment, ...] = ()

    @property
    def text(self) -> str:
        """The normalised plain text: what is hashed, screened and searched."""
        return "\n".join(t for b in self.blocks for t in b.texts())


@dataclass(frozen=True)
class Gone:
    """The detail page answered 404/410: the item was withdrawn from the portal."""

    url: str
    status: int


# ------------------------------------------------------------------ sources --


@dataclass(frozen=True)
class Response:
    status: int
    url: str  # final URL after redirects
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        from feeds.charset import decode_html

        return decode_html(self.body, self.headers.get("content-type", ""))


class HttpClient(Protocol):
    """What a source adapter may use to reach its portal (see :mod:`feeds.http`)."""

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response: ...

    def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> Response: ...


@dataclass(frozen=True)
class SourceSpec:
    """What an adapter is built from (besides its own options): not the whole configuration."""

    name: str
    url: str  # the source's start page
    hosts: tuple[str, ...] = ()  # other hosts its links and redirects may go to

    def allowed_hosts(self) -> set[str]:
        """The source's URL (its origin: scheme, host and port) and its listed hosts, as
        :class:`feeds.urls.Origins` reads them: links, redirects and POSTs stay within these."""
        return {self.url, *self.hosts}


@runtime_checkable
class Source(Protocol):
    """A portal adapter. It never touches the store: the poll stage decides what is new."""

    name: str
    #: False when the listing carries whole items (a feed read alone): the poll stage then
    #: neither re-reads items nor asks their pages conditionally.
    reads_detail_pages: bool

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        """Read the configured list pages, conditionally (ETag / Last-Modified)."""
        ...

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        """Read one item's detail page."""
        ...


# --------------------------------------------------------------------- gate --


class Action(enum.StrEnum):
    PASS = "pass"
    MASK = "mask"
    HOLD = "hold"
    BLOCK = "block"


@dataclass(frozen=True)
class Finding:
    detector: str
    start: int
    end: int
    text: str
    action: Action = Action.HOLD


@dataclass(frozen=True)
class Screening:
    """The gate's verdict on one document: the strongest action of its findings wins.

    ``document`` is the document as it may go on air (masked where the policy says so).
    """

    action: Action
    findings: tuple[Finding, ...]
    document: Document


class Gate(Protocol):
    def screen(self, doc: Document) -> Screening: ...

    def scan(self, text: str) -> list[Finding]:
        """Findings in ``text`` (offsets into it, sorted by position), nothing decided."""
        ...


# ---------------------------------------------------------------- renderers --


@dataclass(frozen=True)
class Profile:
    name: str
    width: int
    height: int


@dataclass(frozen=True)
class PageImage:
    """One rendered page: PNG bytes plus what was drawn, for checks and the viewer.

    ``lines`` are the text lines in drawing order (``layout.json``); ``entries`` are menu
    entries as (number, item key, x, y, w, h) so that a viewer can highlight focus.
    """

    png: bytes
    width: int
    height: int
    lines: tuple[str, ...] = ()
    entries: tuple[tuple[int, str, int, int, int, int], ...] = ()
    # Beside ``lines``: what each line is (header, title, meta, head, body, cell, menu, footer…)
    # and the punctuation set narrower than full width as (line, column, advance in em).
    roles: tuple[str, ...] = ()
    marks: tuple[tuple[int, int, float], ...] = ()
    # Sample (pixel) aspect ratio of the stored pixels: (1, 1) square; SD pages drawn for a
    # 4:3 set are (16, 15), for a 16:9 set (64, 45) (all 720 samples across the screen).
    pixel_aspect: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class PageContext:
    channel: str  # channel name for the header band
    column: str  # column name ("" on the home page)
    today: date


@dataclass(frozen=True)
class MenuEntry:
    key: str  # item key or column id the entry leads to
    label: str
    date: date | None = None
    note: str = ""  # a home tile's second line: its column's newest title


@dataclass(frozen=True)
class Menu:
    title: str
    entries: tuple[MenuEntry, ...]
    kind: Literal["home", "column"] = "column"
    # The colour keys that do something on this page, (red|green|yellow|blue, what it opens),
    # drawn as a legend: swatch, the colour's word and the column's name.
    keys: tuple[tuple[str, str], ...] = ()


class Renderer(Protocol):
    profile: Profile

    def render_item(self, doc: Document, ctx: PageContext) -> Sequence[PageImage]: ...

    def render_menu(self, menu: Menu, ctx: PageContext) -> Sequence[PageImage]: ...

    def render_alert(self, text: str, level: str, ctx: PageContext) -> Sequence[PageImage]:
        """Alert pages (``level`` urgent / warning / info)."""
        ...


# ------------------------------------------------------------------ targets --


class Target(Protocol):
    """A headend. Names are relative paths such as ``assets/<sha256>.png`` or ``channel.xml``.

    ``put`` must be atomic and verified: after it returns the file is complete under its name.
    ``publish_manifest`` replaces ``channel.xml`` atomically. The delivery logic (what to send,
    in which order, what to delete) lives in the outbox, not here.
    """

    name: str
    #: How many ``put`` calls may run at once on this object (1: one at a time). Loopback and
    #: LAN headends are latency-bound, so an HTTP target uploads over several connections.
    concurrency: int

    def put(self, name: str, data: bytes) -> None: ...

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None: ...

    def list_assets(self) -> dict[str, int]:
        """Names under ``assets/`` with their sizes."""
        ...

    def read(self, name: str) -> bytes | None: ...

    def delete(self, name: str) -> None: ...

    def close(self) -> None: ...
