"""``[broadcast]``: the channel as a broadcaster runs it — carousel bandwidth, byte budget,
retention per column, the rolling (轮播) schedule and the exports written with each publication.

::

    [broadcast]
    bitrate_kbps = 1000          # what the data carousel gets; sets the cycle time
    budget_bytes = 10_000_000    # 0: no budget
    max_items = 200              # per column, unless [broadcast.columns.<id>] says otherwise
    max_age_days = 0             # 0: no age limit
    page_seconds = 10            # each page on screen in the rolling version (XMLTV, playlist)
    exports = ["xmltv", "rss"]   # written and delivered with every channel version
    epg_hours = 6                # how far ahead the XMLTV schedule reaches
    xmltv_id = "zw.yk.tv"        # the XMLTV channel id
    site_url = "https://www.yk.gov.cn/"   # the RSS channel link

    [broadcast.columns.tzgg]
    max_items = 30
    max_age_days = 90
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pusher.config.base import SettingsModel

ExportKind = Literal["xmltv", "playlist", "rss"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("xmltv", "playlist", "rss")


class ColumnLimits(SettingsModel):
    max_items: int | None = Field(default=None, ge=1)  # None: the channel-wide default
    max_age_days: int | None = Field(default=None, ge=0)  # 0: no age limit


class BroadcastSettings(SettingsModel):
    bitrate_kbps: float = Field(default=1000.0, gt=0)  # carousel bandwidth, kbit/s (1000 bit)
    budget_bytes: int = Field(default=0, ge=0)  # 0: unlimited
    max_items: int = Field(default=0, ge=0)  # per column; 0: unlimited
    max_age_days: int = Field(default=0, ge=0)  # 0: unlimited
    columns: dict[str, ColumnLimits] = Field(default_factory=dict)
    page_seconds: int = Field(default=10, ge=1, le=3600)
    epg_hours: int = Field(default=6, ge=1, le=168)  # how far ahead the XMLTV schedule reaches
    exports: tuple[ExportKind, ...] = ()
    site_url: str = ""  # link of the RSS channel (default: the first source's site)
    xmltv_id: str = Field(default="zw.tvpusher", pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")  # RFC 2838 style
    rss_items: int = Field(default=50, ge=1)

    def limits(self, column: str) -> tuple[int, int]:
        """(max items, max age in days) for a column; 0 means no limit."""
        c = self.columns.get(column, ColumnLimits())
        items = c.max_items if c.max_items is not None else self.max_items
        age = c.max_age_days if c.max_age_days is not None else self.max_age_days
        return items, age
