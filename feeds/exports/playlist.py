"""A playlist for a playout system that loops the channel's pages: extended M3U.

::

    #EXTM3U
    #PLAYLIST:永康市数字电视政务频道 (version 12)
    #EXTINF:10,政府信息公开 — 关于……的通知 (1/3)
    assets/3f…a1.png

Every entry is one page image shown for ``#EXTINF`` seconds, in the order of the rolling
version (alerts, home menu, then each column's menu and its items); the player loops the list.
Paths are relative to the folder holding ``channel.xml`` (``prefix`` ``assets/``); the copy that
travels inside ``assets/`` itself is written with an empty prefix, so that both resolve.
"""

from __future__ import annotations

from feeds.exports.base import ExportInput, schedule
from pusher.names import ASSET_DIR


def _clean(s: str) -> str:
    return " ".join(s.replace(",", "，").split())  # a comma would end the #EXTINF title


def build(inp: ExportInput, prefix: str = "") -> bytes:
    lines = ["#EXTM3U", f"#PLAYLIST:{_clean(inp.spec.name)} (version {inp.version})"]
    for s in schedule(inp.spec, inp.page_seconds, inp.alert_every):
        label = f"{s.column} — {s.title}" if s.kind == "item" and s.column else s.title
        for n, (p, secs) in enumerate(zip(s.pages, s.seconds(inp.page_seconds), strict=True), 1):
            more = f" ({n}/{len(s.pages)})" if len(s.pages) > 1 else ""
            lines.append(f"#EXTINF:{secs},{_clean(label)}{more}")
            lines.append(prefix + p.href.removeprefix(ASSET_DIR))
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse(data: bytes) -> list[tuple[int, str, str]]:
    """(seconds, title, path) per entry: what a playout system reads back."""
    out, pending = [], None
    for line in data.decode("utf-8").splitlines():
        if line.startswith("#EXTINF:"):
            secs, _, title = line[len("#EXTINF:") :].partition(",")
            pending = (int(float(secs)), title)
        elif line and not line.startswith("#") and pending is not None:
            out.append((pending[0], pending[1], line))
            pending = None
    return out
