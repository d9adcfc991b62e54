"""``[broadcast]``: the channel as a broadcaster runs it — carousel bandwidth, byte budget,
retention per column, the rolling (轮播) schedule and the exports written with each publication.

::

    [broadcast]
    bitrate_kbps = 1000          # what the data carousel gets; sets the cycle time
    budget_bytes = 10_000_000    # 0: no budget
    max_cycle_seconds = 600      # /healthz fails when a cycle takes longer (0: no limit)
    max_items = 200              # per column, unless [broadcast.columns.<id>] says otherwise
    max_age_days = 0             # 0: no age limit
    page_seconds = 10            # each page on screen in the rolling version (XMLTV, playlist, playout)
    dwell = "reading"            # or "fixed": page_seconds for every page
    reading_cpm = 300            # characters a viewer reads per minute (dwell = "reading")
    min_page_seconds = 6         # clamp of the reading time
    max_page_seconds = 30
    alert_every = 120            # alerts shown first and again every this many seconds (0: first only)
    exports = ["xmltv", "rss"]   # written and delivered with every channel version
    epg_hours = 6                # how far ahead the XMLTV schedule reaches
    xmltv_id = "zw.yk.tv"        # the XMLTV channel id
    site_url = "https://www.yk.gov.cn/"   # the RSS channel link

    [broadcast.columns.tzgg]
    max_items = 30
    max_age_days = 90

    [broadcast.playout]          # the channel as a linear TV service (MPEG-TS / HLS)
    enabled = true
    outputs = ["hls"]            # and/or "loop": one loop.ts a playout server loops 24/7
    video = "sd"                 # sd (MPEG-2, 4:3), sd-wide (16:9), hd, fhd (H.264); default: channel.profile
    service_id = 1
    pmt_pid = 4096
    video_pid = 256
    audio_pid = 257
    service_name = ""            # the SDT's service name (default: channel.name)
    provider_name = "tvpusher"
    muxrate_kbps = 0             # constant mux rate, null-padded (DVB-C multiplexers); 0: variable
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pusher.config.base import SettingsModel

ExportKind = Literal["xmltv", "playlist", "rss"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("xmltv", "playlist", "rss")


class ColumnLimits(SettingsModel):
    max_items: int | None = Field(default=None, ge=1)  # None: the channel-wide default
    max_age_days: int | None = Field(default=None, ge=0)  # 0: no age limit


PlayoutOutput = Literal["hls", "loop"]


class PlayoutSettings(SettingsModel):
    enabled: bool = False
    outputs: tuple[PlayoutOutput, ...] = ("hls",)
    video: Literal["sd", "sd-wide", "hd", "fhd"] | None = None  # None: the channel's page profile
    service_id: int = Field(default=1, ge=1, le=0xFFFF)
    pmt_pid: int = Field(default=0x1000, ge=0x10, le=0x1FFE)
    video_pid: int = Field(default=0x100, ge=0x10, le=0x1FFE)
    audio_pid: int = Field(default=0x101, ge=0x10, le=0x1FFE)
    service_name: str = ""  # default: the channel's name
    provider_name: str = "tvpusher"
    muxrate_kbps: int = Field(default=0, ge=0, le=80_000)  # 0: variable rate


class BroadcastSettings(SettingsModel):
    bitrate_kbps: float = Field(default=1000.0, gt=0)  # carousel bandwidth, kbit/s (1000 bit)
    budget_bytes: int = Field(default=0, ge=0)  # 0: unlimited
    # A box waits up to one carousel cycle for a page: past this, /healthz fails and publish warns.
    max_cycle_seconds: float = Field(default=600.0, ge=0)  # 0: no limit
    max_items: int = Field(default=0, ge=0)  # per column; 0: unlimited
    max_age_days: int = Field(default=0, ge=0)  # 0: unlimited
    columns: dict[str, ColumnLimits] = Field(default_factory=dict)
    page_seconds: int = Field(default=10, ge=1, le=3600)
    # How long a page stays on screen in the rolling version: one timing for the XMLTV, the
    # playlist and the playout streams, so that the EPG tells the truth.
    dwell: Literal["fixed", "reading"] = "fixed"
    reading_cpm: int = Field(default=300, ge=30, le=3000)  # characters per minute
    min_page_seconds: int = Field(default=6, ge=1, le=3600)
    max_page_seconds: int = Field(default=30, ge=1, le=3600)
    alert_every: int = Field(default=0, ge=0, le=86_400)  # seconds between repeats of the alerts; 0: first only
    epg_hours: int = Field(default=6, ge=1, le=168)  # how far ahead the XMLTV schedule reaches
    # One XMLTV programme per column block (its menu and items; titles in the description) or per item.
    epg_blocks: Literal["column", "item"] = "column"
    exports: tuple[ExportKind, ...] = ()
    site_url: str = ""  # link of the RSS channel (default: the first source's site)
    xmltv_id: str = Field(default="zw.tvpusher", pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")  # RFC 2838 style
    rss_items: int = Field(default=50, ge=1)
    playout: PlayoutSettings = PlayoutSettings()

    @model_validator(mode="after")
    def _clamp_in_order(self) -> BroadcastSettings:
        if self.min_page_seconds > self.max_page_seconds:
            raise ValueError(f"min_page_seconds ({self.min_page_seconds}) is above max_page_seconds ({self.max_page_seconds})")
        return self

    def dwell_seconds(self, chars: int) -> int:
        """Seconds a page with ``chars`` characters of text stays on screen."""
        if self.dwell == "fixed":
            return self.page_seconds
        reading = -(-chars * 60 // self.reading_cpm)  # ceil
        return max(self.min_page_seconds, min(self.max_page_seconds, reading))

    def limits(self, column: str) -> tuple[int, int]:
        """(max items, max age in days) for a column; 0 means no limit."""
        c = self.columns.get(column, ColumnLimits())
        items = c.max_items if c.max_items is not None else self.max_items
        age = c.max_age_days if c.max_age_days is not None else self.max_age_days
        return items, age
