"""Images in bodies: drawn from the caller's loader only, opened safely, legal and scaled."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image
from render_corpus import CTX

from pusher.interfaces import Block, Document
from renderers import make_renderer
from renderers.images import BadImage, open_image


def photo(w: int = 400, h: int = 300, fmt: str = "JPEG") -> bytes:
    """A saturated gradient with pure black and white in it: everything a TV must not show."""
    x = np.linspace(0, 255, w, dtype=np.uint8)
    a = np.stack([np.tile(x, (h, 1)), np.tile(x[::-1], (h, 1)), np.full((h, w), 255, np.uint8)], axis=2)
    a[: h // 4, : w // 4] = 0
    a[-h // 4 :, -w // 4 :] = 255
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt)
    return buf.getvalue()


def doc_with_image(src: str = "http://portal.example/img/a.jpg") -> Document:
    return Document(
        url="http://portal.example/art/1.html",
        title="行政服务中心启用",
        blocks=(Block("p", "新的行政服务中心今日启用。"), Block("img", text="行政服务中心大厅", src=src), Block("p", "欢迎市民前来办事。")),
    )


@pytest.mark.parametrize("profile", ["sd", "hd"])
def test_loaded_image_is_drawn_legal_inside_safe_area(profile: str) -> None:
    asked: list[str] = []

    def loader(url: str) -> bytes:
        asked.append(url)
        return photo()

    pages = make_renderer(profile, images=loader).render_item(doc_with_image(), CTX)
    assert asked == ["http://portal.example/img/a.jpg"]
    page = next(p for p in pages if "行政服务中心大厅" in p.lines)  # the caption
    im = Image.open(io.BytesIO(page.png))
    a = np.asarray(im.convert("RGB"))
    assert a.min() >= 16 and a.max() <= 235
    assert len(im.getpalette() or []) // 3 > 16, "a photo gets its own palette slots"
    w, h = im.size
    inner = a[round(h * 0.05) : h - round(h * 0.05), round(w * 0.05) : w - round(w * 0.05)]
    assert len(np.unique(inner.reshape(-1, 3), axis=0)) > 24, "the photo is there"


def test_without_loader_a_placeholder_names_the_image_and_nothing_is_fetched() -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            self.wfile.write(photo())

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        src = f"http://127.0.0.1:{srv.server_address[1]}/a.jpg"
        pages = make_renderer("hd").render_item(doc_with_image(src), CTX)
    finally:
        srv.shutdown()
        srv.server_close()
    assert hits == [], "the renderer must never fetch"
    assert any("［图片］行政服务中心大厅" in ln for p in pages for ln in p.lines)
    assert all(struct.unpack(">B", p.png[24:25])[0] == 4 for p in pages), "placeholder pages stay 4-bit"


def _png_claiming(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims ``w``×``h`` pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_png_claiming(50_000, 50_000), id="bomb"),
        pytest.param(_png_claiming(12_000, 5_000), id="over-our-cap"),
        pytest.param(photo(64, 64, "TIFF"), id="tiff-not-allowed"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", id="eps"),
        pytest.param(b"GIF89a broken", id="truncated"),
    ],
)
def test_unsafe_or_broken_images_are_refused(data: bytes) -> None:
    with pytest.raises(BadImage):
        open_image(data)
    pages = make_renderer("sd", images=lambda _url: data).render_item(doc_with_image(), CTX)
    assert any("［图片］" in ln for p in pages for ln in p.lines)


def test_large_image_is_scaled_to_fit_the_page() -> None:
    pages = make_renderer("sd", images=lambda _u: photo(3000, 4000)).render_item(doc_with_image(), CTX)
    for p in pages:
        a = np.asarray(Image.open(io.BytesIO(p.png)).convert("RGB"))
        assert a.min() >= 16 and a.max() <= 235
