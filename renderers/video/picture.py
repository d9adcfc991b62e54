"""A page PNG as the frame a box should show: decoded safely, fitted, converted to Y'CbCr.

Pages come from our renderers but are still treated as untrusted input: PNG only (Pillow's
format allowlist), bounded in size before anything is decoded.
"""

from __future__ import annotations

import io
import warnings
from fractions import Fraction

import numpy as np
from PIL import Image

from pusher.errors import PlayoutError

from .profiles import LUMA_WEIGHTS, VideoProfile

#: A page is at most this many pixels before decoding (a 4K page is 8.3 M); beyond that a
#: small PNG is a decompression bomb, not a page.
MAX_PAGE_PIXELS = 16_000_000


def load_page(png: bytes) -> Image.Image:
    """The page as RGB; anything but a sound PNG of sane size is a :class:`PlayoutError`."""
    return open_page(png).convert("RGB")


def open_page(png: bytes) -> Image.Image:
    """The page as decoded (palette pages stay palette); errors as :func:`load_page`."""
    if not isinstance(png, bytes | bytearray | memoryview):
        raise PlayoutError(f"page must be PNG bytes, got {type(png).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(png), formats=["PNG"])
            if img.width * img.height > MAX_PAGE_PIXELS:
                raise PlayoutError(f"page is {img.width}×{img.height}: too large to be a TV page (decompression bomb?)")
            img.load()
    except PlayoutError:
        raise
    except Image.DecompressionBombError as e:
        raise PlayoutError(f"page is too large to be a TV page (decompression bomb?): {e}") from e
    except Image.UnidentifiedImageError:
        raise PlayoutError(f"page is not a PNG (starts {bytes(png[:8])!r})") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as e:
        raise PlayoutError(f"page PNG does not decode: {e}") from e
    return img


def page_yuv420(png: bytes, profile: VideoProfile, page_sar: Fraction = Fraction(1)) -> np.ndarray:
    """The page's ``yuv420p`` planes for the frame. A palette page that fills the frame as it
    is (HD, FHD, SD drawn for the set) is converted through its ≤ 16 palette entries: the same
    float32 arithmetic as :func:`rgb_to_yuv420`, so the same bytes, in a fifth of the time."""
    img = open_page(png)
    if img.mode == "P" and _fills_frame(img, profile, page_sar):
        return _palette_yuv420(img, profile.matrix)
    return rgb_to_yuv420(fit_page(img.convert("RGB"), profile, page_sar), profile.matrix)


def _fills_frame(img: Image.Image, profile: VideoProfile, page_sar: Fraction) -> bool:
    if img.size != (profile.width, profile.height):
        return False
    page_w = img.width * page_sar
    scale = min(profile.dar * profile.height / page_w, Fraction(profile.height, img.height))
    return (round(page_w * scale / profile.sar), round(img.height * scale)) == img.size


def _palette_yuv420(img: Image.Image, matrix: str) -> np.ndarray:
    kr, kb = LUMA_WEIGHTS[matrix]
    pal = np.zeros((256, 3), dtype=np.uint8)
    entries = np.frombuffer(bytes(img.getpalette("RGB") or []), dtype=np.uint8).reshape(-1, 3)[:256]
    pal[: len(entries)] = entries
    idx = np.asarray(img, dtype=np.uint8)
    f = pal.astype(np.float32) * np.float32(1 / 255)
    r, g, b = f[:, 0], f[:, 1], f[:, 2]
    y = kr * r + (1 - kr - kb) * g + kb * b
    h, w = idx.shape
    luma = np.clip(np.rint(y * 219 + 16), 0, 255).astype(np.uint8)[idx]
    scales = ((b - y, 224 / (2 - 2 * kb)), (r - y, 224 / (2 - 2 * kr)))
    if int(idx.max(initial=0)) < 16:
        # A 4-bit page: each 2×2 block is one of 16⁴ index quads, so its chroma comes from a
        # table made with the very sums and order of _sub (float addition is not associative).
        quads = [idx[0::2, 0::2], idx[1::2, 0::2], idx[0::2, 1::2], idx[1::2, 1::2]]
        key = ((quads[0].astype(np.uint16) * 16 + quads[1]) * 16 + quads[2]) * 16 + quads[3]
        chroma = []
        for v, k in scales:
            t = v[:16]
            mean = (t[:, None, None, None] + t[None, :, None, None] + t[None, None, :, None] + t[None, None, None, :]) * 0.25
            chroma.append(np.clip(np.rint(mean.reshape(-1) * k + 128), 0, 255).astype(np.uint8)[key])
    else:
        chroma = [np.clip(np.rint(_sub(v[idx]) * k + 128), 0, 255).astype(np.uint8) for v, k in scales]
    return np.concatenate([luma, chroma[0].reshape(h // 4, w), chroma[1].reshape(h // 4, w)])


def _sub(c: np.ndarray) -> np.ndarray:
    return (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) * 0.25


def fit_page(img: Image.Image, profile: VideoProfile, page_sar: Fraction = Fraction(1)) -> np.ndarray:
    """The page as the frame's RGB samples, undistorted on the signalled display aspect.

    ``page_sar`` is the page's own pixel aspect (square unless the renderer drew SD for the set
    already). The frame's samples are ``profile.sar`` wide, so the page is
    fitted into the display canvas (height × DAR, e.g. 768×576 for 4:3), padded with its
    background (:func:`edge_colour`), and that canvas squeezed to the frame width: a 720×576 page becomes
    675×576 samples centred on a 720-wide frame, a 768×576 page fills the frame exactly.
    """
    w, h = profile.width, profile.height
    display_w = profile.dar * h  # the canvas width in square pixels
    page_w = img.width * page_sar  # the page's width on the set, in square pixels
    scale = min(display_w / page_w, Fraction(h, img.height))
    content_w = round(page_w * scale / profile.sar)
    content_h = round(img.height * scale)
    if (content_w, content_h) == (w, h) and img.size == (w, h):
        return np.asarray(img, dtype=np.uint8)
    scaled = img if img.size == (content_w, content_h) else img.resize((content_w, content_h), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", (w, h), edge_colour(img))
    frame.paste(scaled, ((w - content_w) // 2, (h - content_h) // 2))
    return np.asarray(frame, dtype=np.uint8)


def edge_colour(img: Image.Image) -> tuple[int, int, int]:
    """The page's background as the bars beside it should show it: the commonest colour of its
    left and right edges (not the corner, which on a page with a title band is the band)."""
    rgb = np.asarray(img, dtype=np.uint8)
    edges = np.concatenate([rgb[:, 0], rgb[:, -1], rgb[0], rgb[-1]])
    colours, counts = np.unique(edges, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def rgb_to_yuv420(rgb: np.ndarray, matrix: str) -> np.ndarray:
    """Limited-range Y'CbCr 4:2:0 planes stacked as FFmpeg's ``yuv420p`` ndarray layout.

    Done here rather than by swscale so the matrix and range are exactly the ones we tag;
    chroma is the mean of each 2×2 block. (Plane arithmetic, not a BLAS matmul: on a busy
    machine OpenBLAS threads make a 3×3 matmul over a frame 20× slower.)"""
    kr, kb = LUMA_WEIGHTS[matrix]
    f = rgb.astype(np.float32) * np.float32(1 / 255)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = kr * r + (1 - kr - kb) * g + kb * b
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        return (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) * 0.25

    cb = sub(b - y) * (224 / (2 - 2 * kb)) + 128
    cr = sub(r - y) * (224 / (2 - 2 * kr)) + 128
    out = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y * 219 + 16, cb, cr)]
    return np.concatenate([out[0], out[1].reshape(h // 4, w), out[2].reshape(h // 4, w)])
