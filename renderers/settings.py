"""The ``[render]`` section of the configuration."""

from __future__ import annotations

from pusher.settings_base import SettingsModel


class RenderSettings(SettingsModel):
    fonts: tuple[str, ...] = ("Noto Sans CJK SC",)  # fontconfig names or file paths, in fallback order
    bold_fonts: tuple[str, ...] = ("Noto Sans CJK SC:bold",)
    theme: str = "default"
    qr: bool = True
