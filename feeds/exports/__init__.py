"""Exports of one channel version for other systems: an XMLTV schedule of the rolling (轮播)
version, a playlist for a playout system that loops the pages, and an RSS 2.0 feed of the items.

Each exporter is a function ``(ExportInput) -> bytes`` registered in :data:`EXPORTERS`. The
rolling version shows every page of the channel for ``page_seconds`` in a fixed order (see
:func:`rolling`): alerts, the home menu, then each column's menu followed by its items.

With each publication the daemon stores the configured exports as content-named assets that
travel with the channel's pages, and lists them in the manifest in an extension element that
the manifest schema admits (``<x:exports xmlns:x="urn:tvpusher:exports:1">``, see :func:`attach`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from feeds.channel import ChannelSpec, read_spec, validate
from feeds.exports.base import ExportInput, Slot, rolling, schedule
from feeds.xmlsafe import parse_xml

NS = "urn:tvpusher:exports:1"


@dataclass(frozen=True)
class ExportKind:
    name: str
    filename: str  # the stable name beside channel.xml
    ext: str  # extension of the content-named asset
    media_type: str
    build: Callable[[ExportInput], bytes] | None  # None: made by the playout stage, not from the spec alone

    def make(self, inp: ExportInput) -> bytes:
        if self.build is None:
            raise ValueError(f"{self.name} is made by the playout stage, not from a channel spec")
        return self.build(inp)


def _kinds() -> dict[str, ExportKind]:
    from feeds.exports import playlist, rss, xmltv

    return {
        "xmltv": ExportKind("xmltv", "epg.xml", "xml", "application/xmltv+xml", xmltv.build),
        "playlist": ExportKind("playlist", "playlist.m3u", "m3u", "audio/x-mpegurl", playlist.build),
        "rss": ExportKind("rss", "rss.xml", "xml", "application/rss+xml", rss.build),
    }


EXPORTERS: dict[str, ExportKind] = _kinds()
#: The playout outputs (see :mod:`pusher.stages.playout`), listed in the manifest like exports.
PLAYOUT: dict[str, ExportKind] = {
    "hls": ExportKind("hls", "playout.m3u8", "m3u8", "application/vnd.apple.mpegurl", None),
    "ffconcat": ExportKind("ffconcat", "playout.ffconcat", "ffconcat", "text/plain", None),
    "loop": ExportKind("loop", "loop.ts", "ts", "video/mp2t", None),
}
KINDS: dict[str, ExportKind] = {**EXPORTERS, **PLAYOUT}


def attach(manifest: bytes, exports: list[tuple[ExportKind, str, str, int]]) -> bytes:
    """The manifest with ``<x:exports>`` listing (kind, href, sha256, bytes), validated again."""
    if not exports:
        return manifest
    root = parse_xml(manifest)
    box = etree.SubElement(root, f"{{{NS}}}exports", nsmap={"x": NS})
    for kind, href, sha, size in exports:
        etree.SubElement(box, f"{{{NS}}}export", kind=kind.name, name=kind.filename, type=kind.media_type, href=href, sha256=sha,
                         bytes=str(size))  # fmt: skip
    etree.indent(root)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(data)
    return data


def spec_of_manifest(manifest: bytes) -> tuple[ChannelSpec, int, datetime]:
    """A manifest read back as (spec, version, generated): exports made later from a stored
    channel version describe exactly that version (one reader, :func:`feeds.channel.read_spec`)."""
    return read_spec(manifest)


def manifest_exports(manifest: bytes) -> dict[str, str]:
    """Export kind → asset href, as a manifest lists them."""
    return {e.get("kind", ""): e.get("href", "") for e in parse_xml(manifest).iter(f"{{{NS}}}export")}


__all__ = [
    "EXPORTERS",
    "KINDS",
    "PLAYOUT",
    "ExportInput",
    "ExportKind",
    "Slot",
    "attach",
    "manifest_exports",
    "rolling",
    "schedule",
    "spec_of_manifest",
]
