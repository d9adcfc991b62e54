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
from collections.abc import Callable, Iterable

from PIL import Image, ImageFilter

log = logging.getLogger(__name__)

ImageLoader = Callable[[str], bytes | None]
Box = tuple[int, int]

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is the largest thing a portal plausibly posts
MAX_BYTES = 20 * 1024 * 1024
#: Pixels one item may decode, over all its pictures (a JPEG counts at the reduced scale it is
#: decoded at, a PNG in full). Twelve 6300×6300 pictures in one notice took ``pusher push`` to
#: 2.2 GB and a minute: past this the rest are placeholders with their alt text.
MAX_ITEM_PIXELS = 160_000_000
#: The box a picture is decoded for when the caller names none (the largest page's body).
DEFAULT_BOX: Box = (1920, 1080)


class BadImage(Exception):
    """Internal: the bytes are not an image we will draw (becomes a placeholder)."""


def _fitted(size: Box, box: Box) -> Box:
    """``size`` scaled down to fit ``box`` (never up), at least 1×1."""
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _opened(data: bytes, box: Box) -> Image.Image:
    """The image opened (not decoded) with the allowlist and bomb checks; a JPEG set to decode
    at the smallest DCT scale (1/2, 1/4, 1/8) that still covers its size in ``box``."""
    if len(data) > MAX_BYTES:
        raise BadImage(f"{len(data)} bytes is more than {MAX_BYTES}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            w, h = im.size
            if w * h > MAX_PIXELS or w <= 0 or h <= 0:
                raise BadImage(f"{w}×{h} pixels is out of bounds")
            im.draft("RGB", _fitted((w, h), box))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage(f"{type(exc).__name__}: {exc}") from None
    return im


def _decoded(im: Image.Image, box: Box) -> Image.Image:
    """Decode ``im`` and bring it down to at most twice its size in ``box`` (``reduce``: whole
    pixel blocks, so the full-size decode is dropped before anything else is made of it)."""
    try:
        im.load()
        if im.mode not in ("L", "LA", "RGB", "RGBA"):
            transparent = im.mode in ("PA", "La") or (im.mode == "P" and "transparency" in im.info)
            im = im.convert("RGBA" if transparent else "RGB")
        tw, th = _fitted(im.size, box)
        factor = min(im.width // tw, im.height // th)
        if factor >= 2:
            im = im.reduce(factor)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"{type(exc).__name__}: {exc}") from None
    if im.mode in ("RGBA", "LA"):
        # Transparent areas show the page background, not black.
        rgba = im.convert("RGBA")
        base = Image.new("RGB", im.size, (22, 36, 66))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return im.convert("RGB")


def open_image(data: bytes, box: Box = DEFAULT_BOX) -> Image.Image:
    """Decode with the allowlist and bomb checks; returns a loaded RGB image, reduced when it is
    more than twice the size it can have in ``box`` (a photo never needs its full resolution)."""
    return _decoded(_opened(data, box), box)


def fit(im: Image.Image, max_w: int, max_h: int, *, flicker_safe: bool) -> Image.Image:
    """Scale to fit (never up by more than 2×), clamp to 16–235, soften for interlace at SD."""
    scale = min(max_w / im.width, max_h / im.height, 2.0)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    out = im.resize(size, Image.Resampling.LANCZOS) if size != im.size else im.copy()
    if flicker_safe:
        out = out.filter(ImageFilter.Kernel((3, 3), (0, 1, 0, 0, 2, 0, 0, 1, 0), scale=4))
    return out.point([min(235, max(16, v)) for v in range(256)] * 3)


def load(src: str, loader: ImageLoader | None, box: Box = DEFAULT_BOX) -> Image.Image | None:
    """One picture, or None (drawn as a placeholder) when it cannot be had."""
    return load_all([(0, src)], loader, box)[0]


def load_all(srcs: Iterable[tuple[int, str]], loader: ImageLoader | None, box: Box = DEFAULT_BOX) -> dict[int, Image.Image | None]:
    """An item's pictures by key, decoded one after the other for ``box`` (each reduced before
    the next is read, so a push holds one full-size decode at a time) within
    ``MAX_ITEM_PIXELS``; what cannot be had, or is past the budget, is None."""
    out: dict[int, Image.Image | None] = {}
    left = MAX_ITEM_PIXELS
    for key, src in srcs:
        out[key] = None
        data = _fetched(src, loader)
        if data is None:
            continue
        try:
            im = _opened(data, box)
            cost = im.width * im.height  # after draft: what decoding it takes
            if cost > left:
                log.warning("image %s not drawn: the item's pictures are past %d pixels", src, MAX_ITEM_PIXELS)
                continue
            left -= cost
            out[key] = _decoded(im, box)
        except BadImage as exc:
            log.warning("image %s not drawn: %s", src, exc)
    return out


def _fetched(src: str, loader: ImageLoader | None) -> bytes | None:
    if loader is None or not src:
        return None
    try:
        data = loader(src)
    except Exception as exc:  # the loader is the caller's code: any failure is a placeholder
        log.warning("image %s: loader failed: %s", src, exc)
        return None
    return data or None
