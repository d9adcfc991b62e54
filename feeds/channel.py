"""The channel manifest ``channel.xml``: built from a :class:`ChannelSpec`, validated against
``channel.xsd`` (shipped beside this module), and read back for verification.

The whole tree is built, then serialised once. ``digest`` covers everything but the version
number and the generation time, so that an unchanged channel is recognised as unchanged.

**Formats 2 and 3: a root sized to the channel, parts sized to what changed** (issue 19: a
one-item update of a 500-item channel uploaded a 295 KB manifest for 42 KB of new pages).
``channel.xml`` holds the channel header, the alerts and the names of *parts*
(``assets/<sha256>.xml``), content-addressed like the pages and delivered with them, so that
only the root is replaced in place. Parts carry no version and no time, so an unchanged part
keeps its name from version to version and never travels again.

Format 3 (what :func:`build_channel` writes) is cut for the smallest update: the root names
the home menu's part and each column's top part by sha256 alone (``home/@part``,
``column/@part``); a column is a tree of parts, each leaf one menu page or one item, each
inner part the names of up to :data:`FANOUT` parts below it (``part/@parts``). An edit of one
item sends its leaf, one inner part per level and the root: 3.5 KB of manifests for a
500-item column (bench/update_bytes_bench.py: 1.26× the item's new pages, 1.28× for an item of
19 pages whose last page changed), where format 2 (a shelf of a menu page and its 6 items under
parts of 16 names, each name with its href, sha256 and size) sent 13.7 KB (2.02×). Names are
bare hashes: a page has no ``sha256`` beside the href that names it; an item says once that its
pages turn to each other (``turns``: LEFT/RIGHT) and writes once, as its own, the keys all its
pages end with (BACK, CH_UP, CH_DOWN). The cost is files: a part per menu page and per item (747
for 507 items, against 96), each fetched once by a box.

:func:`build_manifest` still writes the whole channel in one document (format 1, what
:func:`expand_manifest` rebuilds from a root and its parts, of format 2 or 3); the exports and
the tests read that.

One item's data must never cost the channel (issue 15: one link that was no ``xs:anyURI`` made
every publish fail, alerts included): :func:`invalid_items` names the items whose data the
schema refuses, with the schema's reason, so that the publish stage leaves them out alone. Text
is stripped of the characters XML 1.0 cannot hold, so no title or alert can fail that way.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from lxml import etree

from feeds.xmlsafe import parse_xml
from pusher.errors import ChannelError
from pusher.names import asset_name, parse_asset_name

NS = "urn:tvpusher:channel:1"
XSD = Path(__file__).with_name("channel.xsd")
#: The manifest format :func:`build_channel` writes (``channel/@format``; absent means 1).
FORMAT = 3
#: Extension of a part's asset name (``assets/<sha256>.xml``, an asset like the exports).
PART_EXT = "xml"
#: Parts one inner part names at most. An edit sends one inner part per level, of FANOUT
#: names (65 bytes each) and 50 bytes of its own. Measured on the 500-item bench channel (586
#: leaves), manifest bytes per one-item edit / parts in all: fanout 3: 3,470 B / 896, 4: 3,489 /
#: 796, 5: 3,508 / 746, 6: 3,573 / 717, 8: 3,898 / 685, 16: 4,437 / 639. 5 is near the least
#: bytes with fewer files than 3 or 4 (a box fetches each once).
FANOUT = 5


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@dataclass(frozen=True)
class PageRef:
    id: str
    sha256: str
    bytes: int
    width: int
    height: int
    entries: tuple[tuple[int, str, str, int, int, int, int], ...] = ()  # number, to page, item id, x, y, w, h
    keys: tuple[tuple[str, str], ...] = ()  # code, to page
    seconds: int = 0  # on screen in the rolling version (0: the channel's page_seconds)

    @property
    def href(self) -> str:
        return asset_name(self.sha256, "png")


@dataclass(frozen=True)
class ItemSpec:
    id: str
    column: str
    version: int
    title: str
    url: str
    pages: tuple[PageRef, ...]
    published: datetime | None = None  # aware
    publisher: str = ""
    index_no: str = ""
    doc_no: str = ""
    topic: str = ""
    attachments: tuple[tuple[str, str], ...] = ()  # name, url
    pinned: bool = False


@dataclass(frozen=True)
class ColumnSpec:
    id: str
    name: str
    key: str | None
    items: int
    pages: tuple[PageRef, ...]


@dataclass(frozen=True)
class AlertSpec:
    id: str
    level: str
    text: str
    until: datetime | None = None
    column: str | None = None
    pages: tuple[PageRef, ...] = ()


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    profile: str
    width: int
    height: int
    home: tuple[PageRef, ...]
    columns: tuple[ColumnSpec, ...]
    items: tuple[ItemSpec, ...]
    alerts: tuple[AlertSpec, ...] = ()

    def pages(self) -> list[PageRef]:
        out = list(self.home)
        for a in self.alerts:
            out += a.pages
        for c in self.columns:
            out += c.pages
        for i in self.items:
            out += i.pages
        return out

    def assets(self) -> dict[str, int]:
        """Asset names (``assets/<sha>.png``) → bytes, each once."""
        return {p.href: p.bytes for p in self.pages()}


def _page(parent: etree._Element, p: PageRef, *, hashed: bool = True) -> None:
    """A page; ``hashed=False`` (format 3) leaves out ``sha256``, which its href already names."""
    el = etree.SubElement(parent, _q("page"), id=p.id, href=p.href)
    if hashed:
        el.set("sha256", p.sha256)
    el.set("bytes", str(p.bytes))
    el.set("width", str(p.width))
    el.set("height", str(p.height))
    if p.seconds:
        el.set("seconds", str(p.seconds))
    for number, to, item, x, y, w, h in p.entries:
        attrs = {"number": str(number), "to": to}
        if item:
            attrs["item"] = item
        attrs.update(x=str(x), y=str(y), w=str(w), h=str(h))
        etree.SubElement(el, _q("entry"), attrs)
    for code, to in p.keys:
        etree.SubElement(el, _q("key"), code=code, to=to)


# What XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, U+FFFE/FFFF):
# lxml refuses such a string outright, so one in a title would stop the whole manifest.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _text(parent: etree._Element, tag: str, value: str | None) -> None:
    if value and (value := xml_text(value)):
        etree.SubElement(parent, _q(tag)).text = value


def _header(spec: ChannelSpec, version: int, generated: datetime, *, hashed: bool = True) -> etree._Element:
    """The root with the channel's attributes and its alerts."""
    home_id = spec.home[0].id if spec.home else "home-1"
    root = etree.Element(
        _q("channel"), nsmap={None: NS},
        version=str(version), generated=generated.isoformat(timespec="seconds"), name=spec.name, profile=spec.profile,
        width=str(spec.width), height=str(spec.height), home=home_id, bytes=str(sum(spec.assets().values())),
    )  # fmt: skip
    if spec.alerts:
        alerts = etree.SubElement(root, _q("alerts"))
        for a in spec.alerts:
            attrs = {"id": a.id, "level": a.level}
            if a.until:
                attrs["until"] = a.until.isoformat(timespec="seconds")
            if a.column:
                attrs["column"] = a.column
            el = etree.SubElement(alerts, _q("alert"), attrs)
            _text(el, "text", a.text)
            for p in a.pages:
                _page(el, p, hashed=hashed)
    return root


def _column(parent: etree._Element, c: ColumnSpec) -> etree._Element:
    attrs = {"id": c.id, "name": c.name, "items": str(c.items)}
    if c.key:
        attrs["key"] = c.key
    return etree.SubElement(parent, _q("column"), attrs)


def _turn_keys(ids: list[str], n: int) -> tuple[tuple[str, str], ...]:
    """LEFT to the page before and RIGHT to the page after page ``n`` of a list, where there is one."""
    return ((("LEFT", ids[n - 1]),) if n else ()) + ((("RIGHT", ids[n + 1]),) if n + 1 < len(ids) else ())


def _turns(pages: tuple[PageRef, ...]) -> bool:
    """Whether each page of an item begins its keys with its turns (format 3 says so once,
    ``item/@turns``: a long item's part is mostly its pages, and LEFT/RIGHT were a third of each)."""
    ids = [p.id for p in pages]
    return len(pages) > 1 and all(p.keys[: len(t)] == t for n, p in enumerate(pages) if (t := _turn_keys(ids, n)))


def _shared_keys(pages: tuple[PageRef, ...]) -> tuple[tuple[str, str], ...]:
    """The keys every page of an item ends with (format 3 writes them once, on the item: its
    BACK, CH_UP and CH_DOWN were a third of a short item's part)."""
    if len(pages) < 2:
        return ()
    n = 0
    while all(len(p.keys) > n for p in pages) and len({p.keys[len(p.keys) - 1 - n] for p in pages}) == 1:
        n += 1
    return pages[0].keys[len(pages[0].keys) - n :]


def _item(parent: etree._Element, i: ItemSpec, *, hashed: bool = True) -> None:
    """An item; ``hashed=False`` (format 3): pages without ``sha256``, their turns said once
    (``turns``) and the keys all its pages end with written once, as the item's."""
    attrs = {"id": i.id, "column": i.column, "version": str(i.version)}
    if i.pinned:
        attrs["pinned"] = "true"
    pages = i.pages
    if not hashed and _turns(pages):
        attrs["turns"] = "true"
        pages = tuple(replace(p, keys=p.keys[len(_turn_keys([q.id for q in pages], n)) :]) for n, p in enumerate(pages))
    el = etree.SubElement(parent, _q("item"), attrs)
    _text(el, "title", i.title)
    _text(el, "url", i.url)
    if i.published:
        _text(el, "published", i.published.isoformat(timespec="seconds"))
    _text(el, "publisher", i.publisher)
    _text(el, "indexNo", i.index_no)
    _text(el, "docNo", i.doc_no)
    _text(el, "topic", i.topic)
    for name, url in i.attachments:
        etree.SubElement(el, _q("attachment"), url=xml_text(url)).text = xml_text(name)
    shared = () if hashed else _shared_keys(pages)
    for code, to in shared:
        etree.SubElement(el, _q("key"), code=code, to=to)
    for p in pages:
        _page(el, replace(p, keys=p.keys[: len(p.keys) - len(shared)]), hashed=hashed)


def _tree(spec: ChannelSpec, version: int, generated: datetime) -> etree._Element:
    """The whole channel in one document (format 1)."""
    root = _header(spec, version, generated)
    home = etree.SubElement(root, _q("home"))
    for p in spec.home:
        _page(home, p)
    cols = etree.SubElement(root, _q("columns"))
    for c in spec.columns:
        el = _column(cols, c)
        for p in c.pages:
            _page(el, p)
    items = etree.SubElement(root, _q("items"))
    for i in spec.items:
        _item(items, i)
    return root


def _serialise(root: etree._Element, *, pretty: bool = True) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)
    return data


def build_manifest(spec: ChannelSpec, version: int, generated: datetime) -> bytes:
    """The whole channel in one document (format 1): what :func:`expand_manifest` gives back."""
    data = _serialise(_tree(spec, version, generated))
    validate(data)
    return data


# -- format 3: the root and its parts ----------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A channel version as it travels: ``channel.xml`` (the root) and its parts, href → bytes."""

    root: bytes
    parts: dict[str, bytes] = field(default_factory=dict)

    def assets(self) -> dict[str, int]:
        """The parts as assets (``assets/<sha>.xml`` → bytes), to travel with the pages."""
        return {href: len(data) for href, data in self.parts.items()}


def _column_items(spec: ChannelSpec) -> dict[str, list[ItemSpec]]:
    by_col: dict[str, list[ItemSpec]] = {c.id: [] for c in spec.columns}
    for i in spec.items:
        if i.column not in by_col:
            raise ChannelError(f"item {i.id} is in column {i.column!r}, which the channel does not have")
        by_col[i.column].append(i)
    return by_col


def _units(c: ColumnSpec, items: list[ItemSpec]) -> list[PageRef | ItemSpec]:
    """A column in reading order, cut where an edit is local: each menu page, followed by the
    items it lists, then the items no menu page lists, in the column's order."""
    by_id = {i.id: i for i in items}
    placed: set[str] = set()
    out: list[PageRef | ItemSpec] = []
    for p in c.pages:
        out.append(p)
        for _number, _to, iid, *_box in p.entries:
            if iid in by_id and iid not in placed:
                placed.add(iid)
                out.append(by_id[iid])
    out += [i for i in items if i.id not in placed]
    return out


def _part_bytes(el: etree._Element) -> bytes:
    """A part, not indented (no one reads them by eye; :func:`expand_manifest` gives the
    readable whole). One that is all ASCII (hashes and ids: the inner parts, the home menu)
    goes without an XML declaration, which it does not need."""
    data: bytes = etree.tostring(el, encoding="UTF-8", xml_declaration=False)
    return data if data.isascii() else b"<?xml version='1.0' encoding='UTF-8'?>\n" + data


def _leaf(column: str | None, units: Iterable[PageRef | ItemSpec]) -> bytes:
    el = etree.Element(_q("part"), nsmap={None: NS})
    if column is not None:
        el.set("column", column)
    for u in units:
        if isinstance(u, PageRef):
            _page(el, u, hashed=False)
        else:
            _item(el, u, hashed=False)
    return _part_bytes(el)


def _node(shas: list[str]) -> bytes:
    return _part_bytes(etree.Element(_q("part"), nsmap={None: NS}, parts=" ".join(shas)))


def _named(parts: dict[str, bytes], data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    parts[asset_name(sha, PART_EXT)] = data
    return sha


def _parts(spec: ChannelSpec) -> tuple[str, dict[str, str], dict[str, bytes]]:
    """The sha256 of the home menu's part, column id → the sha256 of its top part, and every
    part by href."""
    by_col = _column_items(spec)
    parts: dict[str, bytes] = {}
    home = _named(parts, _leaf(None, spec.home))
    tops: dict[str, str] = {}
    for c in spec.columns:
        # One menu page or one item a part: an edit sends that leaf and the names on its path.
        level = [_named(parts, _leaf(c.id, [u])) for u in _units(c, by_col[c.id])] or [_named(parts, _leaf(c.id, []))]
        while len(level) > 1:
            level = [_named(parts, _node(level[k : k + FANOUT])) for k in range(0, len(level), FANOUT)]
        tops[c.id] = level[0]
    return home, tops, parts


def _root(spec: ChannelSpec, version: int, generated: datetime, home: str, tops: dict[str, str]) -> etree._Element:
    root = _header(spec, version, generated, hashed=False)
    root.set("format", str(FORMAT))
    etree.SubElement(root, _q("home"), part=home)
    cols = etree.SubElement(root, _q("columns"))
    for c in spec.columns:
        _column(cols, c).set("part", tops[c.id])
    return root


#: Parts already validated (content-addressed: the same name is the same bytes).
_VALID_PARTS: set[str] = set()


def build_channel(spec: ChannelSpec, version: int, generated: datetime) -> Built:
    """The root ``channel.xml`` (format 3) and its parts, each validated against the schema."""
    home, tops, parts = _parts(spec)
    root = _serialise(_root(spec, version, generated, home, tops))
    validate(root)
    for href, data in parts.items():
        if href not in _VALID_PARTS:
            validate_part(data)
            _valid(href)
    return Built(root, parts)


def _valid(href: str) -> None:
    if len(_VALID_PARTS) > 4 * MAX_PARTS:
        _VALID_PARTS.clear()
    _VALID_PARTS.add(href)


def digest(spec: ChannelSpec) -> str:
    """Content digest: equal for two builds of the same channel, whatever their version and time."""
    home, tops, _ = _parts(spec)
    root = _root(spec, 1, datetime(2000, 1, 1), home, tops)
    return hashlib.sha256(etree.tostring(root, method="c14n")).hexdigest()


@functools.lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), parser=etree.XMLParser(resolve_entities=False, no_network=True)))


def validate(data: bytes) -> None:
    """``channel.xml`` of any format, with what the schema's one ``channel`` element cannot say
    alone: a root of format 2 or 3 names the manifests of its home menu (format 3) and columns
    and holds no item; pages of formats 1 and 2 carry their sha256."""
    root = _checked(data, "channel")
    fmt = root.get("format", "1")
    if fmt not in ("1", "2", str(FORMAT)):
        raise ChannelError(f"channel.xml is of format {fmt}, which this version cannot read")
    bad = f"channel.xml fails its schema: in format {fmt}"
    home = root.find(_q("home"))
    assert home is not None  # the schema requires it
    if (home.get("part") is not None) != (fmt == "3") or (home.find(_q("page")) is None) == (fmt != "3"):
        raise ChannelError(
            f"{bad} the home menu must {'name its part, not hold pages' if fmt == '3' else 'hold its pages, not name a part'}"
        )
    ref = {"1": None, "2": "href", "3": "part"}[fmt]
    for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
        named = {k for k in ("href", "part") if c.get(k) is not None}
        holds = c.find(_q("page")) is not None
        if (named, holds) != (({ref}, False) if ref else (set(), True)):
            what = f"name its manifest ({ref}), not hold pages" if ref else "hold its menu pages, not name a manifest"
            raise ChannelError(f"{bad} column {c.get('id')} must {what}")
    if fmt != "1" and root.find(_q("items")) is not None:
        raise ChannelError(f"{bad} the root holds no items")
    if fmt != "3":
        for p in root.iter(_q("page")):
            if p.get("sha256") is None:
                raise ChannelError(f"{bad} page {p.get('id')} must carry its sha256")
    for p in root.iter(_q("page")):
        _page_sha(p)


def validate_part(data: bytes) -> None:
    """A part (``assets/<sha>.xml``) against its own element of the schema."""
    _checked_part(data)


def _checked_part(data: bytes) -> etree._Element:
    part = _checked(data, "part")
    for p in part.iter(_q("page")):
        _page_sha(p)
    return part


def _checked(data: bytes, tag: str) -> etree._Element:
    root = parse_xml(data)
    name = "channel.xml" if tag == "channel" else "column manifest"
    if root.tag != _q(tag):
        raise ChannelError(f"{name} fails its schema: the root element is {_reason(str(root.tag))}, not {tag}")
    schema = _schema()
    if not schema.validate(root):
        raise ChannelError(f"{name} fails its schema: {schema.error_log.last_error}")
    return root


def invalid_items(spec: ChannelSpec) -> dict[str, str]:
    """Items (their manifest ids) whose data the schema refuses → the schema's reason. Empty when
    the channel is valid; an error outside every item (the channel's own settings) is not an
    item's and raises :class:`ChannelError` as :func:`build_manifest` would."""
    bad: dict[str, str] = {}
    items = list(spec.items)
    schema = _schema()
    for _ in range(len(items) + 1):
        root = parse_xml(etree.tostring(_tree(replace(spec, items=tuple(items)), 1, datetime(2000, 1, 1)), pretty_print=True))
        if schema.validate(root):
            return bad
        # Each <item> starts a line of its own in the parsed document; an error belongs to the
        # last item that starts at or before its line (items are the document's last section).
        starts = [(el.sourceline or 0, el.get("id", "")) for el in root.iter(_q("item"))]
        found = False
        for err in schema.error_log:
            owner = next((iid for line, iid in reversed(starts) if line <= err.line), None)
            if owner is None:
                raise ChannelError(f"channel.xml fails its schema: {err.message}")
            if owner not in bad:
                bad[owner] = _reason(err.message)
                found = True
        if not found:
            raise ChannelError(f"channel.xml fails its schema: {schema.error_log.last_error}")
        items = [i for i in items if i.id not in bad]
    return bad


def _reason(message: str) -> str:
    """The schema's message without the namespace in every element name."""
    return message.replace(f"{{{NS}}}", "")


# -- reading -----------------------------------------------------------------------------------

_PAGE_HREF = re.compile(r"assets/([0-9a-f]{64})\.(?:png|jpg)")
_PART_HREF = re.compile(r"assets/([0-9a-f]{64})\.xml")
#: What a reader takes from a headend at most: a part's bytes, the parts of one channel (a
#: year of 15,000 items in one column is about 22,000) and how deep a tree goes (500 items at
#: FANOUT 5 are 5 levels). Every part of a channel is distinct (a leaf holds an id of its own,
#: an inner part names distinct parts), so one named twice is refused: a hostile tree naming
#: one part many times on every level would otherwise be walked exponentially.
MAX_PART_BYTES = 8 << 20
MAX_PARTS = 100_000
MAX_DEPTH = 32


def _page_sha(p: etree._Element) -> str:
    """A page's sha256: the one its href names, which ``sha256`` (formats 1 and 2) repeats."""
    m = _PAGE_HREF.fullmatch(p.get("href", ""))
    if m is None:
        raise ChannelError(f"page {p.get('id')}: {p.get('href')!r} is no asset name")
    if p.get("sha256", m.group(1)) != m.group(1):
        raise ChannelError(f"page {p.get('id')}: its sha256 is not the one its href names")
    return m.group(1)


def _page_refs(el: etree._Element) -> Iterator[tuple[str, tuple[str, int]]]:
    for p in el.iter(_q("page")):
        if m := _PAGE_HREF.fullmatch(p.get("href", "")):
            yield p.get("href", ""), (m.group(1), int(p.get("bytes", "0")))


#: A part a document names: (href, sha256, bytes; None where format 3 does not say).
_Ref = tuple[str, str, int | None]


def _child_refs(part: etree._Element) -> list[_Ref]:
    """The parts one part names, in order: ``<part href sha256 bytes/>`` (format 2) or the
    sha256 in ``@parts`` (format 3)."""
    out: list[_Ref] = [(r.get("href", ""), r.get("sha256", ""), int(r.get("bytes", "0"))) for r in part.iterfind(_q("part"))]
    return out + [(asset_name(sha, PART_EXT), sha, None) for sha in part.get("parts", "").split()]


def _root_refs(root: etree._Element) -> list[tuple[str | None, _Ref]]:
    """(column id, None for the home menu; the part) for each part a root names."""
    out: list[tuple[str | None, _Ref]] = []
    home = root.find(_q("home"))
    if home is not None and (sha := home.get("part")) is not None:
        out.append((None, (asset_name(sha, PART_EXT), sha, None)))
    for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
        if (sha := c.get("part")) is not None:
            out.append((c.get("id", ""), (asset_name(sha, PART_EXT), sha, None)))
        elif (href := c.get("href")) is not None:
            out.append((c.get("id", ""), (href, c.get("sha256", ""), int(c.get("bytes", "0")))))
    return out


def manifest_assets(data: bytes) -> dict[str, tuple[str, int]]:
    """Asset names one document references (its pages, and in formats 2 and 3 the parts it
    names) → (sha256, bytes); bytes is 0 where the document does not say (format 3 names parts
    by their hash alone). :func:`manifest_tree` follows the parts, with their sizes."""
    root = parse_xml(data)
    out = dict(_page_refs(root))
    refs = [r for _, r in _root_refs(root)] if root.tag == _q("channel") else _child_refs(root)
    out.update((href, (sha, size or 0)) for href, sha, size in refs)
    return out


#: ``read(href) -> bytes | None``: a part of a manifest, from a headend or the asset store.
Reader = Callable[[str], bytes | None]


class _Parts:
    """The parts under a root read back, each checked before it is parsed: named as a part is,
    there, within :data:`MAX_PART_BYTES`, complete and what its name says, valid."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.seen: set[str] = set()

    def walk(self, ref: _Ref, column: str | None, depth: int = 0) -> Iterator[tuple[str, int, etree._Element]]:
        """(href, bytes, element) of the part and those under it, depth first: in reading order."""
        href, sha, size = ref
        m = _PART_HREF.fullmatch(href)
        if m is None or m.group(1) != sha:
            raise ChannelError(f"{href!r} is no column manifest's name")
        if href in self.seen:
            raise ChannelError(f"column manifest {href} is named twice")
        self.seen.add(href)
        if len(self.seen) > MAX_PARTS or depth > MAX_DEPTH:
            raise ChannelError(f"the channel names more than {MAX_PARTS} parts or nests them deeper than {MAX_DEPTH}")
        data = self.read(href)
        if data is None:
            raise ChannelError(f"column manifest {href} is missing")
        # Format 3 names a part by its hash alone: the hash is what proves it complete.
        if (size is not None and len(data) != size) or len(data) > MAX_PART_BYTES or hashlib.sha256(data).hexdigest() != sha:
            raise ChannelError(f"column manifest {href} is incomplete or corrupt")
        # Bytes of this name were validated before (built here, or read once already): the hash
        # just checked says these are the same bytes. A 15,000-item channel has 22,000 parts.
        if href in _VALID_PARTS:
            part = parse_xml(data)
        else:
            part = _checked_part(data)
            _valid(href)
        if part.get("column") not in (None, column):  # inner parts of format 3 name no column
            raise ChannelError(f"column manifest {href} is not the {column or 'home menu'}'s")
        yield href, len(data), part
        for child in _child_refs(part):
            yield from self.walk(child, column, depth + 1)


def _walk_root(root: etree._Element, read: Reader) -> Iterator[tuple[str | None, str, int, etree._Element]]:
    """(column id, None for the home menu; href; bytes; element) for every part under a root."""
    parts = _Parts(read)
    for column, ref in _root_refs(root):
        for href, size, part in parts.walk(ref, column):
            yield column, href, size, part


def manifest_tree(data: bytes, read: Reader) -> dict[str, tuple[str, int]]:
    """Every asset a ``channel.xml`` of any format references, through its parts (each read
    with ``read(href)``, checked and validated): what a headend must hold for the version."""
    root = parse_xml(data)
    out = manifest_assets(data)
    for _column, href, size, part in _walk_root(root, read):
        out[href] = (parse_asset_name(href)[0], size)
        out.update(_page_refs(part))
    return out


def folder_reader(folder: Path) -> Reader:
    """``read(href)`` over a headend folder (or any folder laid out like one)."""

    def read(href: str) -> bytes | None:
        path = folder / href
        return path.read_bytes() if path.is_file() else None

    return read


def headend_manifest(folder: Path) -> bytes:
    """A headend folder's ``channel.xml`` whole, in format 1, its parts read from the folder."""
    return expand_manifest((folder / "channel.xml").read_bytes(), folder_reader(folder))


def expand_manifest(data: bytes, read: Reader) -> bytes:
    """A ``channel.xml`` of format 2 or 3 with its parts read back into one document of format 1
    (the same channel: alerts, home, every column's menu pages, every item, and the elements of
    other namespaces the root holds); format 1 as is, and byte for byte what
    :func:`build_manifest` writes. The parts' elements are moved into the root, not read into a
    spec and written again: for 15,000 items (22,000 parts) 6 s of CPU, against 10 s that way
    (format 2's 2,700 parts: 4 s)."""
    root = parse_xml(data)
    if root.get("format", "1") == "1":
        return data
    validate(data)
    home = root.find(_q("home"))
    assert home is not None  # validated
    columns = {c.get("id", ""): c for c in root.iterfind(f"{_q('columns')}/{_q('column')}")}
    items = etree.Element(_q("items"))
    for column, _href, _size, part in _walk_root(root, read):
        (home if column is None else columns[column]).extend(part.iterfind(_q("page")))
        items.extend(part.iterfind(_q("item")))
    for el in (home, *columns.values()):
        for k in ("href", "sha256", "bytes", "part"):
            el.attrib.pop(k, None)
    for it in items:
        _unfold(it)
    cols = root.find(_q("columns"))
    assert cols is not None
    cols.addnext(items)
    del root.attrib["format"]
    for p in root.iter(_q("page")):
        _hashed(p)
    etree.indent(root)
    out = _serialise(root)
    validate(out)
    return out


def _key(code: str, to: str) -> etree._Element:
    return etree.Element(_q("key"), code=code, to=to)


def _unfold(item: etree._Element) -> None:
    """An item of format 3 as format 1 writes it: each page with its turns, its own keys, then
    the item's keys (format 1 and 2 items are left as they are)."""
    shared = item.findall(_q("key"))
    for k in shared:
        item.remove(k)
    pages = item.findall(_q("page"))
    ids = [p.get("id", "") for p in pages] if item.attrib.pop("turns", "false") in ("true", "1") else []
    for n, p in enumerate(pages):
        at = len(p.findall(_q("entry")))  # a page's keys follow its entries
        for k, (code, to) in enumerate(_turn_keys(ids, n) if ids else ()):
            p.insert(at + k, _key(code, to))
        p.extend(_key(k.get("code", ""), k.get("to", "")) for k in shared)


_PAGE_ATTRS = ("id", "href", "sha256", "bytes", "width", "height")


def _hashed(p: etree._Element) -> None:
    """A page with its sha256 (format 3 leaves it to the href), attributes in format 1's order."""
    if p.get("sha256") is None:
        attrs = dict(p.attrib, sha256=_page_sha(p))
        p.attrib.clear()
        for k in (*_PAGE_ATTRS, *(k for k in attrs if k not in _PAGE_ATTRS)):
            if k in attrs:
                p.set(k, attrs[k])


def _read_keys(el: etree._Element) -> tuple[tuple[str, str], ...]:
    return tuple((k.get("code", ""), k.get("to", "")) for k in el.findall(_q("key")))


def _read_pages(el: etree._Element | None) -> tuple[PageRef, ...]:
    """The pages of an element; of an item (format 3), each page's keys are its turns (when the
    item says ``turns``), its own, then the item's."""
    if el is None:
        return ()
    shared = _read_keys(el) if el.tag == _q("item") else ()
    found = el.findall(_q("page"))
    ids = [p.get("id", "") for p in found] if el.tag == _q("item") and el.get("turns") in ("true", "1") else []
    out = []
    for n, p in enumerate(found):
        entries = tuple(
            (int(e.get("number", "0")), e.get("to", ""), e.get("item", ""), *(int(e.get(k, "0")) for k in "xywh"))
            for e in p.findall(_q("entry"))
        )
        keys = (_turn_keys(ids, n) if ids else ()) + _read_keys(p) + shared
        out.append(PageRef(p.get("id", ""), _page_sha(p), int(p.get("bytes", "0")), int(p.get("width", "0")),
                           int(p.get("height", "0")), entries, keys, int(p.get("seconds", "0"))))  # fmt: skip
    return tuple(out)


def _text_of(el: etree._Element, tag: str) -> str:
    return el.findtext(_q(tag)) or ""


def _read_items(el: etree._Element) -> list[ItemSpec]:
    text = _text_of
    return [
        ItemSpec(
            id=i.get("id", ""), column=i.get("column", ""), version=int(i.get("version", "1")), title=text(i, "title"), url=text(i, "url"),
            pages=_read_pages(i), published=datetime.fromisoformat(text(i, "published")) if text(i, "published") else None,
            publisher=text(i, "publisher"), index_no=text(i, "indexNo"), doc_no=text(i, "docNo"), topic=text(i, "topic"),
            attachments=tuple((a.text or "", a.get("url", "")) for a in i.findall(_q("attachment"))), pinned=i.get("pinned") == "true",
        )
        for i in el.iterfind(_q("item"))
    ]  # fmt: skip


def _read_columns(root: etree._Element) -> tuple[ColumnSpec, ...]:
    return tuple(
        ColumnSpec(c.get("id", ""), c.get("name", ""), c.get("key"), int(c.get("items", "0")), _read_pages(c))
        for c in root.iterfind(f"{_q('columns')}/{_q('column')}")
    )


def _read_channel(root: etree._Element) -> ChannelSpec:
    """The root's own: its attributes, alerts, home pages and columns (with their pages in format 1)."""
    alerts = tuple(
        AlertSpec(a.get("id", ""), a.get("level", "info"), _text_of(a, "text"),
                  datetime.fromisoformat(a.get("until", "")) if a.get("until") else None, a.get("column"), _read_pages(a))
        for a in root.iterfind(f"{_q('alerts')}/{_q('alert')}")
    )  # fmt: skip
    return ChannelSpec(root.get("name", ""), root.get("profile", ""), int(root.get("width", "0")), int(root.get("height", "0")),
                       _read_pages(root.find(_q("home"))), _read_columns(root), (), alerts)  # fmt: skip


def read_spec(data: bytes) -> tuple[ChannelSpec, int, datetime]:
    """A document of format 1 read back whole, navigation included: (spec, version, generated)."""
    root = parse_xml(data)
    items = root.find(_q("items"))
    spec = replace(_read_channel(root), items=tuple(_read_items(items)) if items is not None else ())
    return spec, int(root.get("version", "0")), datetime.fromisoformat(root.get("generated", ""))


def split_manifest(data: bytes) -> Built:
    """A document of format 1 as a root of format 3 and its parts (elements of other namespaces,
    such as the exports, stay in the root)."""
    spec, version, generated = read_spec(data)
    built = build_channel(spec, version, generated)
    extensions = [el for el in parse_xml(data) if isinstance(el.tag, str) and not el.tag.startswith(f"{{{NS}}}")]
    if not extensions:
        return built
    root = parse_xml(built.root)
    root.extend(extensions)
    etree.indent(root)
    out = _serialise(root)
    validate(out)
    return Built(out, built.parts)


def manifest_version(data: bytes) -> int:
    return int(parse_xml(data).get("version", "0"))
