"""The channel manifest ``channel.xml``: built from a :class:`ChannelSpec`, validated against
``channel.xsd`` (shipped beside this module), and read back for verification.

The whole tree is built, then serialised once. ``digest`` covers everything but the version
number and the generation time, so that an unchanged channel is recognised as unchanged.

One item's data must never cost the channel (issue 15: one link that was no ``xs:anyURI`` made
every publish fail, alerts included): :func:`invalid_items` names the items whose data the
schema refuses, with the schema's reason, so that the publish stage leaves them out alone. Text
is stripped of the characters XML 1.0 cannot hold, so no title or alert can fail that way.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from lxml import etree

from feeds.xmlsafe import parse_xml
from pusher.errors import ChannelError
from pusher.names import asset_name

NS = "urn:tvpusher:channel:1"
XSD = Path(__file__).with_name("channel.xsd")


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


def _tree(spec: ChannelSpec, version: int, generated: datetime) -> etree._Element:
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
    cols = etree.SubElement(root, _q("columns"))
    for c in spec.columns:
        attrs = {"id": c.id, "name": c.name, "items": str(c.items)}
        if c.key:
            attrs["key"] = c.key
        el = etree.SubElement(cols, _q("column"), attrs)
        for p in c.pages:
            _page(el, p)
    items = etree.SubElement(root, _q("items"))
    for i in spec.items:
        attrs = {"id": i.id, "column": i.column, "version": str(i.version)}
        if i.pinned:
            attrs["pinned"] = "true"
        el = etree.SubElement(items, _q("item"), attrs)
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
    return root


def build_manifest(spec: ChannelSpec, version: int, generated: datetime) -> bytes:
    root = _tree(spec, version, generated)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(data)
    return data


def digest(spec: ChannelSpec) -> str:
    """Content digest: equal for two builds of the same channel, whatever their version and time."""
    root = _tree(spec, 1, datetime(2000, 1, 1))
    return hashlib.sha256(etree.tostring(root, method="c14n")).hexdigest()


@functools.lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), parser=etree.XMLParser(resolve_entities=False, no_network=True)))


def validate(data: bytes) -> None:
    root = parse_xml(data)
    schema = _schema()
    if not schema.validate(root):
        raise ChannelError(f"channel.xml fails its schema: {schema.error_log.last_error}")


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
    """Asset names referenced by a manifest → (sha256, bytes). Used to verify a headend."""
    root = parse_xml(data)
    return {p.get("href"): (p.get("sha256"), int(p.get("bytes"))) for p in root.iter(_q("page"))}


def manifest_version(data: bytes) -> int:
    return int(parse_xml(data).get("version", "0"))
