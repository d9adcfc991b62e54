"""Playlists over cached segments: HLS for players, ffconcat/M3U for looping playout servers.

Segments are content-addressed and each starts at its own timestamp origin, so no join
continues the previous timestamps: every segment after the first is preceded by
``#EXT-X-DISCONTINUITY``. Hrefs are relative (``prefix`` + name), e.g. ``../assets/<sha>.ts``
from a ``playout/`` directory.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pusher.errors import PlayoutError


@dataclass(frozen=True)
class PlaylistEntry:
    href: str
    seconds: float
    title: str = ""


def _entries(items: Sequence[PlaylistEntry | tuple[str, float, str]], prefix: str) -> list[PlaylistEntry]:
    out = []
    for item in items:
        e = item if isinstance(item, PlaylistEntry) else PlaylistEntry(*item)
        if not e.href or any(c in e.href for c in "\r\n") or not 0 < e.seconds < math.inf:
            raise PlayoutError(f"playlist entry {e.href!r}: needs a one-line href and a positive duration")
        out.append(PlaylistEntry(prefix + e.href, e.seconds, " ".join(e.title.split())))
    if not out:
        raise PlayoutError("a playlist needs at least one segment")
    return out


def hls_text(items: Sequence[PlaylistEntry | tuple[str, float, str]], prefix: str = "") -> str:
    entries = _entries(items, prefix)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(max(e.seconds for e in entries))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for i, e in enumerate(entries):
        if i:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXTINF:{e.seconds:.3f},{e.title}", e.href]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def ffconcat_text(items: Sequence[PlaylistEntry | tuple[str, float, str]], prefix: str = "") -> str:
    lines = ["ffconcat version 1.0"]
    for e in _entries(items, prefix):
        quoted = e.href.replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {e.seconds:.3f}"]
    return "\n".join(lines) + "\n"


def loop_m3u_text(items: Sequence[PlaylistEntry | tuple[str, float, str]], prefix: str = "") -> str:
    """A plain extended M3U (no HLS tags): what VLC-style servers loop with ``--loop``."""
    lines = ["#EXTM3U"]
    for e in _entries(items, prefix):
        lines += [f"#EXTINF:{math.ceil(e.seconds)},{e.title}", e.href]
    return "\n".join(lines) + "\n"


def write_hls(
    items: Sequence[PlaylistEntry | tuple[str, float, str]], directory: str | os.PathLike[str], prefix: str = "../assets/"
) -> dict[str, Path]:
    """Write ``index.m3u8``, ``loop.ffconcat`` and ``loop.m3u`` into ``directory``, each
    atomically; returns them by name."""
    texts = {
        "index.m3u8": hls_text(items, prefix),
        "loop.ffconcat": ffconcat_text(items, prefix),
        "loop.m3u": loop_m3u_text(items, prefix),
    }
    d = Path(directory)
    written = {}
    for name, text in texts.items():
        target = d / name
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=d)
            os.fchmod(fd, 0o644)  # mkstemp makes 0600: the playlists are for other programs to read
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                    f.write(text)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as e:
            raise PlayoutError(f"cannot write playlist {target}: {e.strerror or e}") from e
        written[name] = target
    return written


@dataclass(frozen=True)
class ParsedPlaylist:
    version: int
    target_duration: int
    vod: bool
    ended: bool
    entries: tuple[PlaylistEntry, ...]
    discontinuities: tuple[int, ...]  # indexes of entries preceded by EXT-X-DISCONTINUITY


def parse_hls(text: str) -> ParsedPlaylist:
    """A strict reader of the media playlists :func:`hls_text` writes (for tests and checks)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlayoutError("not an M3U playlist (no #EXTM3U)")
    version = target = 0
    vod = ended = pending_break = False
    pending: tuple[float, str] | None = None
    entries: list[PlaylistEntry] = []
    breaks: list[int] = []
    for ln in lines[1:]:
        tag, _, value = ln.partition(":")
        if tag == "#EXT-X-VERSION":
            version = int(value)
        elif tag == "#EXT-X-TARGETDURATION":
            target = int(value)
        elif tag == "#EXT-X-PLAYLIST-TYPE":
            vod = value == "VOD"
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif tag == "#EXT-X-DISCONTINUITY":
            pending_break = True
        elif tag == "#EXTINF":
            seconds, _, title = value.partition(",")
            pending = (float(seconds), title)
        elif not ln.startswith("#"):
            if pending is None:
                raise PlayoutError(f"playlist: {ln!r} has no #EXTINF")
            if pending_break:
                breaks.append(len(entries))
            entries.append(PlaylistEntry(ln, *pending))
            pending, pending_break = None, False
    return ParsedPlaylist(version, target, vod, ended, tuple(entries), tuple(breaks))
