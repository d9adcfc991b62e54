"""Two daemons (`pusher run`) as on two machines: one PostgreSQL database, and nothing else
shared — each node has a workdir of its own (issue 19). Both serve the channel to a folder
headend; then one node dies, the other's workdir is wiped out (a new disk) and so is the headend,
and that node, restarted alone, puts the whole channel back from the database: every file the
manifest names is there with its sha256, and only the newly arrived items are drawn."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pytest
from daemonkit import Portal, manifest_items, start_daemon, wait_for, write_config

from feeds.channel import manifest_tree

FIRST, LATER = 30, 6


def complete(headend: Path) -> bool:
    """Every file the manifest (and its column manifests) names is there, whole, as named."""
    try:
        tree = manifest_tree((headend / "channel.xml").read_bytes(), lambda h: _read(headend / h))
    except FileNotFoundError:
        return False
    for href, (sha, size) in tree.items():
        data = _read(headend / href)
        if data is None or len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            return False
    return True


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def pages_in(work: Path) -> int:
    return len(list((work / "assets").glob("*.png"))) if (work / "assets").is_dir() else 0


@pytest.mark.postgres
def test_two_machines_share_only_the_database(pg_url: str, fixture_portal: Portal, tmp_path: Path) -> None:
    headend = tmp_path / "headend"
    work = {n: tmp_path / f"machine-{n}" / "work" for n in "AB"}
    cfg = {
        n: write_config(tmp_path / f"{n}.toml", portal=fixture_portal, work=work[n], headend=headend, database=pg_url, node=n) for n in "AB"
    }
    fixture_portal.add(FIRST)
    nodes = {n: start_daemon(cfg[n], tmp_path / f"{n}.log") for n in "AB"}
    try:
        on_air = lambda n: len(manifest_items(headend)) == n and complete(headend)  # noqa: E731
        assert wait_for(lambda: on_air(FIRST), 120), nodes["A"].text()[-3000:] + nodes["B"].text()[-3000:]
        assert pages_in(work["A"]) + pages_in(work["B"]) > 0

        # A dies; B's workdir and the headend are wiped out; B comes back alone on a new disk.
        nodes["A"].kill()
        assert nodes["B"].stop() == 0, nodes["B"].text()[-3000:]
        shutil.rmtree(work["B"])
        shutil.rmtree(headend)
        headend.mkdir()
        fixture_portal.add(LATER)
        nodes["B"] = b = start_daemon(cfg["B"], tmp_path / "B-again.log")
        assert wait_for(lambda: on_air(FIRST + LATER), 120), b.text()[-4000:]
        assert b.stop() == 0, b.text()[-3000:]
    finally:
        for p in nodes.values():
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()

    # What B sent of the first wave came from the database: it drew only the items that arrived since.
    drawn = Counter(e["item"] for e in b.events() if e.get("event") == "transition" and e.get("state") == "rendered")
    assert len(drawn) == LATER and max(drawn.values()) == 1, drawn
    assert not [e for e in b.events() if "drawn again" in str(e.get("msg", ""))], "B drew lost pages instead of reading them"
    pngs = [h for h in manifest_tree((headend / "channel.xml").read_bytes(), lambda h: _read(headend / h)) if h.endswith(".png")]
    assert pngs and all((work["B"] / h).is_file() for h in pngs)  # in B's new cache: brought from the database
    assert Counter(t for _, _, t in manifest_items(headend)) == Counter(fixture_portal.titles)
