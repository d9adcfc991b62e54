"""The ``[gate]`` section of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from pusher.settings_base import SettingsModel


class GateSettings(SettingsModel):
    enabled: bool = True
    keyword_files: tuple[Path, ...] = ()
    allow: tuple[str, ...] = ()  # public contacts (office phones, e-mails) that pass untouched
    policy: dict[str, Literal["pass", "mask", "hold", "block"]] = Field(default_factory=dict)
