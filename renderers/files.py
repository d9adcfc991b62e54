"""Rendering to files: plain text in, page PNGs and ``layout.json`` out (``pusher render``).

``layout.json`` lists, for each page, its PNG file and the text lines drawn on it in drawing
order (header band, title, metadata, body, footer), with what each line is (``roles``) and the
punctuation compressed on it (``marks``), so anyone can check the line breaking and the
punctuation without reading pixels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pusher.errors import RenderError
from pusher.interfaces import Block, Document, PageImage, Profile


def read_text(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RenderError(f"{path}: neither UTF-8 nor GB18030 text")


def document_from_text(text: str, *, title: str = "", url: str = "") -> Document:
    """Each non-blank line is a paragraph; without ``title`` the first one is the title."""
    paras = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not title:
        if not paras:
            raise RenderError("the text file is empty")
        title, paras = paras[0], paras[1:]
    return Document(url=url, title=title, blocks=tuple(Block("p", p) for p in paras))


def write_pages(pages: Sequence[PageImage], out: Path, profile: Profile, prefix: str = "page") -> Path:
    """Write ``<prefix>-NNN.png`` and ``layout.json`` into ``out``; returns the layout path."""
    out.mkdir(parents=True, exist_ok=True)
    layout = {"profile": profile.name, "width": profile.width, "height": profile.height, "pages": []}
    for n, page in enumerate(pages, 1):
        name = f"{prefix}-{n:03d}.png"
        (out / name).write_bytes(page.png)
        entry: dict[str, object] = {"file": name, "bytes": len(page.png), "lines": list(page.lines)}
        if page.roles:
            entry["roles"] = list(page.roles)
        if page.marks:
            # Punctuation set narrower than full width: [line, column, advance in em].
            entry["marks"] = [list(mk) for mk in page.marks]
        if page.pixel_aspect != (1, 1):
            entry["pixel_aspect"] = list(page.pixel_aspect)
        if page.entries:
            entry["entries"] = [dict(zip(("number", "key", "x", "y", "w", "h"), e, strict=True)) for e in page.entries]
        layout["pages"].append(entry)  # type: ignore[attr-defined]
    path = out / "layout.json"
    path.write_text(json.dumps(layout, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
