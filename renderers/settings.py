"""The ``[render]`` section of the configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pusher.config.base import SettingsModel


class RenderSettings(SettingsModel):
    # fontconfig patterns or file paths (``/x/y.ttc#2``), in fallback order; the first must exist.
    fonts: tuple[str, ...] = ("Noto Sans CJK SC", "DejaVu Sans")
    bold_fonts: tuple[str, ...] = ("Noto Sans CJK SC:bold", "DejaVu Sans:bold")
    qr: bool = True  # QR code of the item's original URL on its first page
    # Half-width ,;:?!() beside Chinese text drawn full-width (portals mix both forms).
    normalize_punctuation: bool = True
    # Thicken glyph strokes to ≥ 2 scan lines against interlace flicker; default: SD only.
    flicker_safe: bool | None = None
    png_level: Annotated[int, Field(ge=1, le=9)] = 5  # deflate level: 5 is the knee (6: -1% bytes, +45% time)
    # Display aspect of the set an SD (720×576) channel is watched on. "" draws square pixels (as
    # before); "4:3" or "16:9" lays the page out at that aspect and stores it anamorphic with the
    # BT.601 pixel aspect (12:11, 16:11), so circles stay round on the set. HD/FHD ignore it.
    aspect: Literal["", "4:3", "16:9"] = ""
    # An item of more pages than this opens with a contents page (its sections, digit keys and
    # page numbers); 0: never.
    contents_after: Annotated[int, Field(ge=0, le=1000)] = 6
    # "elderly": the 长辈版 of the MIIT 适老化 guidance — body text 1.3× the standard size, more
    # leading, fewer entries a page, secondary text in the main ink (7:1 contrast at least).
    style: Literal["standard", "elderly"] = "standard"
    # Pages one item may take (0: no limit; the channel's [render] sets 30): past it the last page
    # says the rest is on the portal, and footers and contents count only the pages on air.
    max_pages: Annotated[int, Field(ge=0, le=10_000)] = 0
