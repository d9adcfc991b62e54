"""Pictures in item bodies: fetched with the item (the renderer never touches the network),
kept on disk under the hash of their URL, and handed to the renderer by URL. With a shared
:class:`BlobStore` (nodes without a shared disk) the folder is a cache in front of it: the node
that polled an item may not be the one that draws it, and a page drawn without its picture would
differ from the same page drawn with it.

A picture that cannot be fetched is not an error of the item: the page shows its alt text.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from pusher.errors import SourceError
from pusher.interfaces import Document, HttpClient
from pusher.store.blobs import BlobStore, fetch_to_file

log = logging.getLogger("tvpusher.images")

MAX_IMAGES_PER_ITEM = 12
MAX_IMAGE_BYTES = 5 * 1024 * 1024


class ImageCache:
    def __init__(self, root: Path, blobs: BlobStore | None = None) -> None:
        self.root = root
        self.blobs = blobs
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, url: str) -> Path:
        return self.root / hashlib.sha256(url.encode("utf-8")).hexdigest()

    def _name(self, path: Path) -> str:
        return f"images/{path.name}"

    def load(self, url: str) -> bytes | None:
        """The renderer's image loader."""
        path = self._path(url)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            if self.blobs is None or not fetch_to_file(self.blobs, self._name(path), path):
                return None
        return path.read_bytes()

    def localise(self, doc: Document) -> int:
        """Brings the document's pictures from the shared store into the local folder; returns
        how many are there. For drawers that read the folder only (render worker processes,
        which hold no database connection): call it before handing them the document."""
        srcs = [b.src for b in doc.blocks if b.kind == "img" and b.src][:MAX_IMAGES_PER_ITEM]
        return sum(self.load(src) is not None for src in srcs)

    def fetch(self, http: HttpClient, doc: Document) -> int:
        """Fetch the document's pictures not cached yet; returns how many were stored."""
        stored = 0
        for block in [b for b in doc.blocks if b.kind == "img" and b.src][:MAX_IMAGES_PER_ITEM]:
            path = self._path(block.src)
            if path.exists() or (self.blobs is not None and self.blobs.has(self._name(path))):
                continue
            try:
                resp = http.get(block.src)
            except SourceError as exc:
                log.info("picture not fetched: %s", exc)
                continue
            kind = resp.headers.get("content-type", "")
            if resp.status != 200 or not kind.startswith("image/") or len(resp.body) > MAX_IMAGE_BYTES:
                log.info("picture %s not kept: HTTP %d, %s, %d bytes", block.src, resp.status, kind or "no type", len(resp.body))
                continue
            if self.blobs is not None:  # shared before the item is stored: whoever draws it finds the picture
                self.blobs.put(self._name(path), resp.body)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(resp.body)
            os.replace(tmp, path)
            stored += 1
        return stored
