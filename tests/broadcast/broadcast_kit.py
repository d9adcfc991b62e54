"""A channel made of rows, without rendering items: Item and Page rows inserted directly, each
page a small distinct PNG (seeded noise, so its size is about what was asked) in the asset
store. Menus and alert pages are still drawn by the real renderer."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from pusher.config.settings import parse_settings
from pusher.demo import COLUMNS
from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.store.models import Item, Page
from pusher.timeutil import utcnow


def make_runtime(tmp_path: Path, *, targets: list[dict[str, Any]] | None = None, database: str = "", **broadcast: Any) -> Runtime:
    cfg: dict[str, Any] = {
        "channel": {"name": "永康市数字电视政务频道", "profile": "hd", "workdir": str(tmp_path / "work"), "database": database},
        "columns": COLUMNS,
        "targets": targets
        if targets is not None
        else [{"name": "headend", "kind": "folder", "options": {"path": str(tmp_path / "headend")}}],
        "broadcast": broadcast,
    }
    return Runtime(parse_settings(cfg, tmp_path))


def png(seed: int, approx_bytes: int = 2000) -> bytes:
    """A distinct PNG of roughly ``approx_bytes`` (noise does not compress)."""
    rng = random.Random(seed)
    side = max(4, int((approx_bytes / 3) ** 0.5))
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def add_item(
    rt: Runtime,
    n: int,
    *,
    column: str = "tzgg",
    published: datetime | None = None,
    pinned: bool = False,
    pages: int = 1,
    page_bytes: int = 2000,
    state: ItemState = ItemState.RENDERED,
    **fields: Any,
) -> int:
    """An item ready to air (RENDERED, its pages stored); returns its id."""
    now = utcnow()
    blobs = [png(n * 1000 + k, page_bytes) for k in range(pages)]
    with rt.store.write() as db:
        item = Item(source="kit", url=f"http://portal.test/art/{n}.html", dedupe_key=f"k{n}", title=fields.pop("title", f"测试信息第{n}号"),
                    column=column, published=published, pinned=pinned, state=state, rendered_version=1, content_hash=f"h{n}",
                    first_seen=published or now, updated_at=now, **fields)  # fmt: skip
        db.add(item)
        db.flush()
        assert item.id is not None
        for seq, data in enumerate(blobs, 1):
            sha = rt.assets.put(data)
            db.add(Page(owner=f"item:{item.id}", version=1, seq=seq, profile=rt.renderer.profile.name, sha256=sha, bytes=len(data),
                        width=1280, height=720, layout=json.dumps({"lines": [], "entries": []})))  # fmt: skip
        return item.id
