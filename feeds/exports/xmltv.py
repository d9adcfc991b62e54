"""XMLTV (``xmltv.dtd``) for the rolling version of the channel, repeated from the generation
time for ``epg_hours``. By default one programme per block a viewer recognises — the alerts, the
home menu, each column (its menu and its items, the titles listed in the description) — so that
a 500-item channel's guide is kilobytes, not a megabyte; ``epg_blocks = "item"`` gives one
programme per slot of the loop (an item, a column's menu, the home menu, an alert) instead.
Each lasts its pages' seconds, the timing the playlist and the playout use.

Times are ``YYYYMMDDhhmmss ±hhmm`` in the channel's time zone, as the DTD asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from feeds.exports.base import ExportInput, Slot, schedule

LANG = "zh"
CATEGORY = {"alert": "紧急通知", "home": "频道导航", "column": "栏目导航"}
#: Item titles a column block's description lists before "等 N 条".
BLOCK_TITLES = 8


@dataclass
class _Programme:
    kind: str
    title: str
    seconds: int
    sub_title: str = ""
    desc: str = ""
    category: str = ""
    url: str = ""
    items: int = 0
    titles: tuple[str, ...] = ()


def _per_slot(slots: list[Slot], inp: ExportInput) -> list[_Programme]:
    out = []
    for s in slots:
        item = s.kind == "item"
        category = s.column if item and s.column else CATEGORY.get(s.kind, "其他")
        desc = inp.descriptions.get(s.key, "") if item else ""
        out.append(_Programme(s.kind, s.title, sum(s.seconds(inp.page_seconds)), s.column if item else "", desc, category, s.url))
    return out


def _per_block(slots: list[Slot], inp: ExportInput) -> list[_Programme]:
    out: list[_Programme] = []
    for s in slots:
        secs = sum(s.seconds(inp.page_seconds))
        last = out[-1] if out else None
        if last is not None and (s.kind == "alert" == last.kind or (s.kind == "item" and last.kind == "column" and last.title == s.column)):
            last.seconds += secs
            if s.kind == "item":
                last.items += 1
                last.titles += (s.title,)
            continue
        if s.kind == "alert":
            out.append(_Programme("alert", "预警信息", secs, desc=s.title, category=CATEGORY["alert"]))
        elif s.kind == "column":
            out.append(_Programme("column", s.column, secs, category=s.column))
        elif s.kind == "home":
            out.append(_Programme("home", s.title, secs, category=CATEGORY["home"]))
        else:  # an item whose column block was not just before it (alerts between): its own programme
            out += _per_slot([s], inp)
    for p in out:
        if p.kind == "column" and p.items:
            more = f"等 {p.items} 条" if p.items > BLOCK_TITLES else f"共 {p.items} 条"
            p.desc = "本栏目信息：" + "；".join(p.titles[:BLOCK_TITLES]) + f"（{more}）"
    return out


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
    progs = _per_slot(slots, inp) if inp.epg_blocks == "item" else _per_block(slots, inp)
    start, end = inp.generated.replace(microsecond=0), inp.generated + timedelta(hours=inp.epg_hours)
    while start < end:
        for prog in progs:
            stop = start + timedelta(seconds=prog.seconds)
            p = etree.SubElement(tv, "programme", start=_t(start), stop=_t(stop), channel=inp.channel_id)
            _text(p, "title", prog.title)
            if prog.sub_title:
                _text(p, "sub-title", prog.sub_title)
            if prog.desc:
                _text(p, "desc", prog.desc)
            _text(p, "category", prog.category)
            length = etree.SubElement(p, "length", units="seconds")
            length.text = str(prog.seconds)
            if prog.url:
                _text(p, "url", prog.url, lang=False)
            start = stop
            if start >= end:
                break
    return _serialise(tv)


def _serialise(tv: etree._Element) -> bytes:
    data: bytes = etree.tostring(tv, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype='<!DOCTYPE tv SYSTEM "xmltv.dtd">')
    return data
