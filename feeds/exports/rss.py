"""RSS 2.0 of the channel's items, newest first, for the portal and other consumers.

Each item links to its page on the portal (also its permanent ``guid``), carries its column as
``category``, its publication time as an RFC 822 ``pubDate`` and, as ``description``, the
publisher, document number and the opening of the text as it airs (after screening).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from feeds.exports.base import ExportInput


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = value
    return el


def build(inp: ExportInput) -> bytes:
    spec = inp.spec
    names = {c.id: c.name for c in spec.columns}
    rss = etree.Element("rss", version="2.0")
    ch = etree.SubElement(rss, "channel")
    _text(ch, "title", spec.name)
    _text(ch, "link", inp.site_url or next((i.url for i in spec.items if i.url), "http://localhost/"))
    _text(ch, "description", f"{spec.name}：{len(spec.items)} 条在播信息（频道版本 {inp.version}）")
    _text(ch, "language", "zh-cn")
    _text(ch, "lastBuildDate", format_datetime(inp.generated))
    _text(ch, "generator", "tvpusher")
    for a in spec.alerts:
        item = etree.SubElement(ch, "item")
        _text(item, "title", f"【{a.level}】{a.text}")
        _text(item, "description", a.text)
        _text(item, "category", "紧急通知")
        _text(item, "guid", f"tvpusher-alert-{a.id}").set("isPermaLink", "false")
    floor = datetime.min.replace(tzinfo=inp.generated.tzinfo)
    newest = sorted(spec.items, key=lambda i: (i.published or floor, i.id), reverse=True)[: inp.rss_items]
    for i in newest:
        item = etree.SubElement(ch, "item")
        _text(item, "title", i.title)
        _text(item, "link", i.url)
        parts = [p for p in (i.publisher, i.doc_no, inp.descriptions.get(i.id, "")) if p]
        if parts:
            _text(item, "description", " ".join(parts))
        if i.column in names:
            _text(item, "category", names[i.column])
        _text(item, "guid", i.url).set("isPermaLink", "true")
        if i.published:
            _text(item, "pubDate", format_datetime(i.published))
    data: bytes = etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
