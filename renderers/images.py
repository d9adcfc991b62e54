"""Images in item bodies: opened safely, made broadcast-legal, scaled to fit.

The renderer never fetches anything itself: the caller passes an :data:`ImageLoader` (the
render stage reads the stored asset, tests pass a dict's ``get``). Bytes are opened with a
format allowlist (no PSD, EPS, or other decoder zoo reachable from a portal page) and the
decompression-bomb check turned into an error; anything that fails becomes a placeholder with
the alt text, so one broken picture never keeps a notice off air.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable

from PIL import Image, ImageFilter

log = logging.getLogger(__name__)

ImageLoader = Callable[[str], bytes | None]

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is the largest thing a portal plausibly posts
MAX_BYTES = 20 * 1024 * 1024


class BadImage(Exception):
    """Internal: the bytes are not an image we will draw (becomes a placeholder)."""


def open_image(data: bytes) -> Image.Image:
    """Decode with the allowlist and bomb checks; returns a loaded RGB image."""
    if len(data) > MAX_BYTES:
        raise BadImage(f"{len(data)} bytes is more than {MAX_BYTES}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            w, h = im.size
            if w * h > MAX_PIXELS or w <= 0 or h <= 0:
                raise BadImage(f"{w}×{h} pixels is out of bounds")
            im.draft("RGB", (1920, 1080))  # JPEG: decode at reduced scale when it can
            im.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage(f"{type(exc).__name__}: {exc}") from None
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # Transparent areas show the page background, not black.
        base = Image.new("RGB", im.size, (22, 36, 66))
        base.paste(im.convert("RGBA"), mask=im.convert("RGBA").getchannel("A"))
        return base
    return im.convert("RGB")


def fit(im: Image.Image, max_w: int, max_h: int, *, flicker_safe: bool) -> Image.Image:
    """Scale to fit (never up by more than 2×), clamp to 16–235, soften for interlace at SD."""
    scale = min(max_w / im.width, max_h / im.height, 2.0)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    out = im.resize(size, Image.Resampling.LANCZOS) if size != im.size else im.copy()
    if flicker_safe:
        out = out.filter(ImageFilter.Kernel((3, 3), (0, 1, 0, 0, 2, 0, 0, 1, 0), scale=4))
    return out.point([min(235, max(16, v)) for v in range(256)] * 3)


def load(src: str, loader: ImageLoader | None) -> Image.Image | None:
    if loader is None or not src:
        return None
    try:
        data = loader(src)
    except Exception as exc:  # the loader is the caller's code: any failure is a placeholder
        log.warning("image %s: loader failed: %s", src, exc)
        return None
    if not data:
        return None
    try:
        return open_image(data)
    except BadImage as exc:
        log.warning("image %s not drawn: %s", src, exc)
        return None
