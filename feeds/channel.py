"""The channel manifest ``channel.xml``: built from a :class:`ChannelSpec`, validated against
``channel.xsd`` (shipped beside this module), and read back for verification.

The whole tree is built, then serialised once. ``digest`` covers everything but the version
number and the generation time, so that an unchanged channel is recognised as unchanged.

**Format 2: a root sized to the channel, parts sized to what changed** (issue 19: a one-item
update of a 500-item channel uploaded a 295 KB manifest for 42 KB of new pages). ``channel.xml``
holds the channel header, the alerts, the home menu and, per column, the name, sha256 and size
of the column's manifest ``assets/<sha256>.xml``: a *part*, content-addressed like the pages and
delivered with them, so that only the root is replaced in place. A part holds one menu page of
the column and the items that page lists (a *shelf*: the unit an edit of one item changes), or
names up to :data:`FANOUT` further parts (a column of many menu pages is a small tree). Parts
carry no version and no time, so an unchanged column keeps its name from version to version and
never travels again. :func:`build_manifest` still writes the whole channel in one document
(format 1, what :func:`expand_manifest` rebuilds from a root and its parts); the exports and
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
from collections.abc import Callable, Iterator
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
FORMAT = 2
#: Extension of a part's asset name (``assets/<sha256>.xml``, an asset like the exports).
PART_EXT = "xml"
#: Parts one part names at most: a column of 100 menu pages is a root entry, a part of 7 names,
#: and shelves of 16 names — a one-item edit sends a few hundred bytes of names per level.
FANOUT = 16
#: Items a shelf holds when the column's menu pages do not say which items they list.
SHELF_ITEMS = 8


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


def _page(parent: etree._Element, p: PageRef) -> None:
    el = etree.SubElement(
        parent, _q("page"), id=p.id, href=p.href, sha256=p.sha256, bytes=str(p.bytes), width=str(p.width), height=str(p.height)
    )
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


def _header(spec: ChannelSpec, version: int, generated: datetime) -> etree._Element:
    """The root with the channel's attributes, its alerts and its home menu."""
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
                _page(el, p)
    home = etree.SubElement(root, _q("home"))
    for p in spec.home:
        _page(home, p)
    return root


def _column(parent: etree._Element, c: ColumnSpec) -> etree._Element:
    attrs = {"id": c.id, "name": c.name, "items": str(c.items)}
    if c.key:
        attrs["key"] = c.key
    return etree.SubElement(parent, _q("column"), attrs)


def _item(parent: etree._Element, i: ItemSpec) -> None:
    attrs = {"id": i.id, "column": i.column, "version": str(i.version)}
    if i.pinned:
        attrs["pinned"] = "true"
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
    for p in i.pages:
        _page(el, p)


def _tree(spec: ChannelSpec, version: int, generated: datetime) -> etree._Element:
    """The whole channel in one document (format 1)."""
    root = _header(spec, version, generated)
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


# -- format 2: the root and its parts ----------------------------------------------------------


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


def _shelves(c: ColumnSpec, items: list[ItemSpec]) -> list[tuple[tuple[PageRef, ...], list[ItemSpec]]]:
    """A column cut where an edit is local: each menu page with the items it lists (a new item
    shifts every menu page anyway, and their new images outweigh the shelves' text); items no
    menu page lists go by :data:`SHELF_ITEMS` in the column's order."""
    by_id = {i.id: i for i in items}
    placed: set[str] = set()
    out: list[tuple[tuple[PageRef, ...], list[ItemSpec]]] = []
    for p in c.pages:
        listed = []
        for _number, _to, iid, *_box in p.entries:
            if iid in by_id and iid not in placed:
                placed.add(iid)
                listed.append(by_id[iid])
        out.append(((p,), listed))
    rest = [i for i in items if i.id not in placed]
    out += [((), rest[k : k + SHELF_ITEMS]) for k in range(0, len(rest), SHELF_ITEMS)]
    return out or [((), [])]


def _named(parts: dict[str, bytes], data: bytes) -> str:
    href = asset_name(hashlib.sha256(data).hexdigest(), PART_EXT)
    parts[href] = data
    return href


def _reference(parent: etree._Element, tag: str, href: str, data: bytes) -> None:
    etree.SubElement(parent, _q(tag), href=href, sha256=parse_asset_name(href)[0], bytes=str(len(data)))


def _parts(spec: ChannelSpec) -> tuple[dict[str, tuple[str, bytes]], dict[str, bytes]]:
    """Column id → (href, bytes) of its manifest, and every part by href."""
    by_col = _column_items(spec)
    parts: dict[str, bytes] = {}
    tops: dict[str, tuple[str, bytes]] = {}
    for c in spec.columns:
        # Parts are not indented: no one reads them by eye, and indentation was a fifth of a
        # shelf's bytes (``expand_manifest`` gives the readable whole).
        level = []
        for pages, items in _shelves(c, by_col[c.id]):
            el = etree.Element(_q("part"), nsmap={None: NS}, column=c.id)
            for p in pages:
                _page(el, p)
            for i in items:
                _item(el, i)
            level.append(_serialise(el, pretty=False))
        while len(level) > 1:
            up = []
            for k in range(0, len(level), FANOUT):
                el = etree.Element(_q("part"), nsmap={None: NS}, column=c.id)
                for data in level[k : k + FANOUT]:
                    _reference(el, "part", _named(parts, data), data)
                up.append(_serialise(el, pretty=False))
            level = up
        tops[c.id] = (_named(parts, level[0]), level[0])
    return tops, parts


def _root(spec: ChannelSpec, version: int, generated: datetime, tops: dict[str, tuple[str, bytes]]) -> etree._Element:
    root = _header(spec, version, generated)
    root.set("format", str(FORMAT))
    cols = etree.SubElement(root, _q("columns"))
    for c in spec.columns:
        href, data = tops[c.id]
        el = _column(cols, c)
        el.set("href", href)
        el.set("sha256", parse_asset_name(href)[0])
        el.set("bytes", str(len(data)))
    return root


#: Parts already validated (content-addressed: the same name is the same bytes).
_VALID_PARTS: set[str] = set()


def build_channel(spec: ChannelSpec, version: int, generated: datetime) -> Built:
    """The root ``channel.xml`` (format 2) and its parts, each validated against the schema."""
    tops, parts = _parts(spec)
    root = _serialise(_root(spec, version, generated, tops))
    validate(root)
    for href, data in parts.items():
        if href not in _VALID_PARTS:
            validate_part(data)
            if len(_VALID_PARTS) > 100_000:
                _VALID_PARTS.clear()
            _VALID_PARTS.add(href)
    return Built(root, parts)


def digest(spec: ChannelSpec) -> str:
    """Content digest: equal for two builds of the same channel, whatever their version and time."""
    tops, _ = _parts(spec)
    root = _root(spec, 1, datetime(2000, 1, 1), tops)
    return hashlib.sha256(etree.tostring(root, method="c14n")).hexdigest()


@functools.lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), parser=etree.XMLParser(resolve_entities=False, no_network=True)))


def validate(data: bytes) -> None:
    """``channel.xml`` of either format; a format-2 root names a manifest for every column and
    holds no item itself (what the schema's one ``channel`` element cannot say alone)."""
    root = _checked(data, "channel")
    if root.get("format", "1") == str(FORMAT):
        for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
            if c.get("href") is None or c.find(_q("page")) is not None:
                raise ChannelError(f"channel.xml fails its schema: column {c.get('id')} of format 2 must name its manifest, not hold pages")
        if root.find(_q("items")) is not None:
            raise ChannelError("channel.xml fails its schema: a root of format 2 holds no items")
    elif root.get("format", "1") == "1":
        for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
            if c.get("href") is not None or c.find(_q("page")) is None:
                raise ChannelError(f"channel.xml fails its schema: column {c.get('id')} of format 1 must hold its menu pages")
    else:
        raise ChannelError(f"channel.xml is of format {root.get('format')}, which this version cannot read")


def validate_part(data: bytes) -> None:
    """A column manifest or shelf (``assets/<sha>.xml``) against its own element of the schema."""
    _checked(data, "part")


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


def manifest_assets(data: bytes) -> dict[str, tuple[str, int]]:
    """Asset names one document references (its pages, and in format 2 the column manifests or
    parts it names) → (sha256, bytes). :func:`manifest_tree` follows the parts too."""
    root = parse_xml(data)
    return {el.get("href", ""): (el.get("sha256", ""), int(el.get("bytes", "0"))) for el in _references(root)}


def _references(root: etree._Element) -> Iterator[etree._Element]:
    for el in root.iter(_q("page"), _q("column"), _q("part")):
        if el.get("href") is not None and el.get("sha256") is not None:
            yield el


#: ``read(href) -> bytes | None``: a part of a manifest, from a headend or the asset store.
Reader = Callable[[str], bytes | None]


def _part(read: Reader, href: str, sha256: str, size: int) -> etree._Element:
    """A part read back and checked: there, complete, what its name says, valid."""
    data = read(href)
    if data is None:
        raise ChannelError(f"column manifest {href} is missing")
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise ChannelError(f"column manifest {href} is incomplete or corrupt")
    return _checked(data, "part")


def _walk(read: Reader, el: etree._Element) -> Iterator[etree._Element]:
    """The shelves under a column (or part) reference, depth first: menu pages in order."""
    part = _part(read, el.get("href", ""), el.get("sha256", ""), int(el.get("bytes", "0")))
    yield part
    for ref in part.iterfind(_q("part")):
        yield from _walk(read, ref)


def manifest_tree(data: bytes, read: Reader) -> dict[str, tuple[str, int]]:
    """Every asset a ``channel.xml`` of either format references, through its parts (each read
    with ``read(href)``, checked and validated): what a headend must hold for the version."""
    root = parse_xml(data)
    out = manifest_assets(data)
    for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
        if c.get("href") is not None:
            for part in _walk(read, c):
                out.update((el.get("href", ""), (el.get("sha256", ""), int(el.get("bytes", "0")))) for el in _references(part))
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
    """A ``channel.xml`` of format 2 with its parts read back into one document of format 1
    (the same channel: alerts, home, every column's menu pages, every item); format 1 as is."""
    root = parse_xml(data)
    if root.get("format", "1") == "1":
        return data
    validate(data)
    items = etree.Element(_q("items"))
    for c in root.iterfind(f"{_q('columns')}/{_q('column')}"):
        for part in _walk(read, c):
            c.extend(list(part.iterfind(_q("page"))))
            items.extend(list(part.iterfind(_q("item"))))
        for k in ("href", "sha256", "bytes"):
            del c.attrib[k]
    cols = root.find(_q("columns"))
    assert cols is not None
    cols.addnext(items)
    del root.attrib["format"]
    etree.indent(root)
    out = _serialise(root)
    validate(out)
    return out


def read_spec(data: bytes) -> tuple[ChannelSpec, int, datetime]:
    """A document of format 1 read back whole, navigation included: (spec, version, generated)."""
    root = parse_xml(data)

    def pages(el: etree._Element | None) -> tuple[PageRef, ...]:
        if el is None:
            return ()
        out = []
        for p in el.findall(_q("page")):
            entries = tuple(
                (int(e.get("number", "0")), e.get("to", ""), e.get("item", ""), *(int(e.get(k, "0")) for k in "xywh"))
                for e in p.findall(_q("entry"))
            )
            keys = tuple((k.get("code", ""), k.get("to", "")) for k in p.findall(_q("key")))
            out.append(PageRef(p.get("id", ""), p.get("sha256", ""), int(p.get("bytes", "0")), int(p.get("width", "0")),
                               int(p.get("height", "0")), entries, keys, int(p.get("seconds", "0"))))  # fmt: skip
        return tuple(out)

    def text(el: etree._Element, tag: str) -> str:
        return el.findtext(_q(tag)) or ""

    alerts = tuple(
        AlertSpec(a.get("id", ""), a.get("level", "info"), text(a, "text"),
                  datetime.fromisoformat(a.get("until", "")) if a.get("until") else None, a.get("column"), pages(a))
        for a in root.iterfind(f"{_q('alerts')}/{_q('alert')}")
    )  # fmt: skip
    columns = tuple(
        ColumnSpec(c.get("id", ""), c.get("name", ""), c.get("key"), int(c.get("items", "0")), pages(c))
        for c in root.iterfind(f"{_q('columns')}/{_q('column')}")
    )
    items = tuple(
        ItemSpec(
            id=i.get("id", ""), column=i.get("column", ""), version=int(i.get("version", "1")), title=text(i, "title"), url=text(i, "url"),
            pages=pages(i), published=datetime.fromisoformat(text(i, "published")) if text(i, "published") else None,
            publisher=text(i, "publisher"), index_no=text(i, "indexNo"), doc_no=text(i, "docNo"), topic=text(i, "topic"),
            attachments=tuple((a.text or "", a.get("url", "")) for a in i.findall(_q("attachment"))), pinned=i.get("pinned") == "true",
        )
        for i in root.iterfind(f"{_q('items')}/{_q('item')}")
    )  # fmt: skip
    spec = ChannelSpec(root.get("name", ""), root.get("profile", ""), int(root.get("width", "0")), int(root.get("height", "0")),
                       pages(root.find(_q("home"))), columns, items, alerts)  # fmt: skip
    return spec, int(root.get("version", "0")), datetime.fromisoformat(root.get("generated", ""))


def split_manifest(data: bytes) -> Built:
    """A document of format 1 as a root of format 2 and its parts (elements of other namespaces,
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
