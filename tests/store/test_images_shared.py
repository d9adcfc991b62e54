"""Body pictures on nodes without a shared disk: the node that polls an item fetches its
pictures over real HTTP into its folder and the shared store; another node's folder starts
empty and loads them from the store (the renderer's loader), or brings them in before handing
the document to drawers that read the folder alone (``localise``)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from feeds.http import Http
from pusher.config.http import HttpSettings
from pusher.interfaces import Block, Document
from pusher.store.blobs import DatabaseBlobs
from pusher.store.db import Store
from pusher.store.images import ImageCache
from pusher.web.httpserve import StaticServer


def test_a_picture_one_node_fetched_is_loaded_by_another(tmp_path: Path, store: Store) -> None:
    site = tmp_path / "site"
    site.mkdir()
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 60)).save(buf, format="PNG")
    (site / "map.png").write_bytes(buf.getvalue())
    with StaticServer(site) as srv:
        doc = Document(url=f"{srv.url}/a.html", title="t", blocks=(Block("img", "图", src=f"{srv.url}/map.png"),
                                                                   Block("img", "缺", src=f"{srv.url}/none.png")))  # fmt: skip
        a = ImageCache(tmp_path / "A", DatabaseBlobs(store))
        with Http(HttpSettings(timeout=5.0, delay=0.0), source="t", hosts={srv.url}) as http:
            assert a.fetch(http, doc) == 1
            assert a.fetch(http, doc) == 0  # kept: not fetched again
    b = ImageCache(tmp_path / "B", DatabaseBlobs(store))
    assert not list(b.root.iterdir())
    assert b.load(f"{srv.url}/map.png") == buf.getvalue()
    assert b.load(f"{srv.url}/none.png") is None  # a picture nobody could fetch shows its alt text
    c = ImageCache(tmp_path / "C", DatabaseBlobs(store))
    assert c.localise(doc) == 1
    assert ImageCache(tmp_path / "C").load(f"{srv.url}/map.png") == buf.getvalue()  # the folder alone, as a worker reads it
    alone = ImageCache(tmp_path / "D")  # no shared store: the folder is all there is
    assert alone.load(f"{srv.url}/map.png") is None
