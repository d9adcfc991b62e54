"""The ``[[columns]]`` tables: the channel's columns and the rules that fill them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pusher.config.base import SettingsModel


class ColumnSettings(SettingsModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    name: str
    key: Literal["red", "green", "yellow", "blue"] | None = None
    # An item lands in the first column whose rule matches (see feeds.classify); a source's
    # own ``column`` is the fallback.
    portal_columns: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
