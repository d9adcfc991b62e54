"""XMLTV (``xmltv.dtd``) for the rolling version of the channel: one channel, one programme per
slot of the loop (an item, a column's menu, the home menu, an alert), each lasting its pages ×
``page_seconds``, repeated from the generation time for ``epg_hours``.

Times are ``YYYYMMDDhhmmss ±hhmm`` in the channel's time zone, as the DTD asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from feeds.exports.base import ExportInput, schedule

LANG = "zh"
CATEGORY = {"alert": "紧急通知", "home": "频道导航", "column": "栏目导航"}


def _t(dt: datetime) -> str:
    return dt.strftime("%Y%m%d%H%M%S %z")


def _text(parent: etree._Element, tag: str, value: str, lang: bool = True) -> None:
    el = etree.SubElement(parent, tag, lang=LANG) if lang else etree.SubElement(parent, tag)
    el.text = value


def build(inp: ExportInput) -> bytes:
    spec = inp.spec
    tv = etree.Element("tv", {"date": _t(inp.generated), "generator-info-name": f"tvpusher (channel version {inp.version})"})
    if inp.site_url:
        tv.set("source-info-url", inp.site_url)
    tv.set("source-info-name", spec.name)
    ch = etree.SubElement(tv, "channel", id=inp.channel_id)
    _text(ch, "display-name", spec.name)
    if inp.site_url:
        _text(ch, "url", inp.site_url, lang=False)
    slots = schedule(spec, inp.page_seconds, inp.alert_every)
    if not slots:
        return _serialise(tv)
    start, end = inp.generated.replace(microsecond=0), inp.generated + timedelta(hours=inp.epg_hours)
    while start < end:
        for s in slots:
            stop = start + timedelta(seconds=sum(s.seconds(inp.page_seconds)))
            p = etree.SubElement(tv, "programme", start=_t(start), stop=_t(stop), channel=inp.channel_id)
            _text(p, "title", s.title)
            if s.column and s.kind == "item":
                _text(p, "sub-title", s.column)
            desc = inp.descriptions.get(s.key, "") if s.kind == "item" else ""
            if desc:
                _text(p, "desc", desc)
            _text(p, "category", s.column if s.kind == "item" and s.column else CATEGORY.get(s.kind, "其他"))
            length = etree.SubElement(p, "length", units="seconds")
            length.text = str(int((stop - start).total_seconds()))
            if s.url:
                _text(p, "url", s.url, lang=False)
            start = stop
            if start >= end:
                break
    return _serialise(tv)


def _serialise(tv: etree._Element) -> bytes:
    data: bytes = etree.tostring(tv, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype='<!DOCTYPE tv SYSTEM "xmltv.dtd">')
    return data
