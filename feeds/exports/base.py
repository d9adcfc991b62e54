"""What every exporter reads: the input of one channel version and the loop order of its
rolling (轮播) version. Apart from :mod:`feeds.exports` so that the exporters import it without
importing the package that lists them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from feeds.channel import ChannelSpec, PageRef


@dataclass(frozen=True)
class ExportInput:
    spec: ChannelSpec
    version: int
    generated: datetime  # aware, the channel's time zone
    page_seconds: int = 10
    epg_hours: int = 6
    channel_id: str = "zw.tvpusher"  # XMLTV channel id (RFC 2838 style)
    site_url: str = ""
    rss_items: int = 50
    descriptions: dict[str, str] = field(default_factory=dict)  # item id → excerpt of its text
    alert_every: int = 0  # seconds between repeats of the alerts in the loop (0: first only)
    epg_blocks: str = "column"  # XMLTV programmes: "column" (a column's menu and items as one) or "item"


@dataclass(frozen=True)
class Slot:
    """One programme of the rolling version: a run of consecutive pages."""

    kind: str  # alert | home | column | item
    key: str  # alert id, column id or item id
    title: str
    column: str  # column name ("" for alerts and home)
    pages: tuple[PageRef, ...]
    url: str = ""

    def seconds(self, default: int) -> list[int]:
        """Each page's time on screen (a page without its own takes the channel's default)."""
        return [p.seconds or default for p in self.pages]


def rolling(spec: ChannelSpec) -> list[Slot]:
    """The loop order of the rolling version."""
    names = {c.id: c.name for c in spec.columns}
    slots = [Slot("alert", a.id, a.text, names.get(a.column or "", ""), a.pages) for a in spec.alerts if a.pages]
    if spec.home:
        slots.append(Slot("home", "home", f"{spec.name} 首页", "", spec.home))
    for c in spec.columns:
        slots.append(Slot("column", c.id, f"{c.name} 目录", c.name, c.pages))
        slots += [Slot("item", i.id, i.title, c.name, i.pages, i.url) for i in spec.items if i.column == c.id]
    return slots


def schedule(spec: ChannelSpec, page_seconds: int, alert_every: int = 0) -> list[Slot]:
    """The loop as it airs: :func:`rolling`, with the alerts shown again whenever ``alert_every``
    seconds have passed since they last were. The XMLTV, the playlist and the playout streams
    are all made from this one list, so that the EPG tells the truth."""
    slots = [s for s in rolling(spec) if s.pages]
    alerts = [s for s in slots if s.kind == "alert"]
    if not alerts or alert_every <= 0:
        return slots
    out, since = list(alerts), 0
    for s in slots[len(alerts) :]:
        if since >= alert_every:
            out += alerts
            since = 0
        out.append(s)
        since += sum(s.seconds(page_seconds))
    return out
