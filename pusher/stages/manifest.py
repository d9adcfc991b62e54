"""A channel version's manifest beyond its root: the column manifests (parts) it names live in
the asset store like the pages, so whatever needs the whole channel reads them from there.

``channel.xml`` of format 2 (see :mod:`feeds.channel`) is what travels and what the store keeps
in ``ChannelVersion.manifest``; its parts are ``assets/<sha256>.xml`` listed in the version's
assets, delivered with the pages, verified and collected like them.
"""

from __future__ import annotations

import json

from feeds.channel import PART_EXT, Reader, expand_manifest
from pusher.names import parse_asset_name
from pusher.runtime import Runtime
from pusher.store.models import ChannelVersion


def reader(rt: Runtime) -> Reader:
    """``read(href) -> bytes | None`` over the local asset store."""

    def read(href: str) -> bytes | None:
        try:
            return rt.assets.read(*parse_asset_name(href))
        except (ValueError, FileNotFoundError):
            return None

    return read


def full_manifest(rt: Runtime, cv: ChannelVersion) -> bytes:
    """The version's whole channel in one document (format 1), its parts read from the asset
    store: what the exports, playout and reports read items from."""
    return expand_manifest(cv.manifest.encode("utf-8"), reader(rt))


def parts_missing(rt: Runtime, cv: ChannelVersion) -> bool:
    """Whether a column manifest of ``cv`` is gone from the asset cache. Pages lost from it are
    drawn again when read; a part is made again only by a new version (same content, same
    name), so publish makes one even though the channel did not change."""
    for href, _ in json.loads(cv.assets or "[]"):
        if href.endswith(f".{PART_EXT}"):
            try:
                sha, ext = parse_asset_name(href)
            except ValueError:
                continue
            if not rt.assets.has(sha, ext):
                return True
    return False
