"""One daemon process serves every channel of a configuration of several; two such nodes on
PostgreSQL (a schema per channel) share the channels' leaderships and work; a channel whose
portal or database fails does not stop the others."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonkit import Portal, check_headend, healthz, manifest_items, start_daemon, wait_for, write_channels_config

from pusher.cli import main

N = 12  # items per channel


@pytest.fixture
def portals(tmp_path: Path) -> Iterator[list[Portal]]:
    ps = [Portal(tmp_path / f"portal{i}") for i in range(4)]
    with contextlib.ExitStack() as stack:
        for p in ps:
            p.add(N)
            stack.enter_context(p.server)
        yield ps


def _drop_schemas(url: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for n in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{n}" CASCADE')


@pytest.mark.postgres
@pytest.mark.slow
def test_two_nodes_share_four_channels_on_postgresql(pg_url: str, portals: list[Portal], tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"c{tag}{i}" for i in range(4)]  # each channel's schema is named after it
    headends = {n: tmp_path / f"headend-{n}" for n in names}
    channels = {n: (p.list_url, headends[n]) for n, p in zip(names, portals, strict=True)}
    nodes = {}

    def leads(node: str) -> set[str]:
        led: set[str] = set()
        for e in nodes[node].events():
            if e.get("event") == "leader":
                led.add(str(e["channel"]))
            elif e.get("event") == "follower":
                led.discard(str(e["channel"]))
        return led

    def start(node: str) -> None:
        # Separate workdirs: nothing shared but the database (pages live in it on PostgreSQL).
        cfg = write_channels_config(tmp_path / f"{node}.toml", channels, work=tmp_path / f"work-{node}", database=pg_url, node=node)
        nodes[node] = start_daemon(cfg, tmp_path / f"{node}.log")

    def on_air(count: int) -> bool:
        return all(len(manifest_items(h)) == count for h in headends.values())

    try:
        # A alone leads every channel and puts the first wave on air ...
        start("A")
        assert wait_for(lambda: on_air(N), 240), nodes["A"].text()[-3000:]
        assert leads("A") == set(names)
        # ... then B comes up: A hands over the channels past its share (2 of 4), B takes them.
        start("B")
        balanced = lambda: len(leads("A")) == len(leads("B")) == 2 and leads("A") | leads("B") == set(names)  # noqa: E731
        assert wait_for(balanced, 90), (leads("A"), leads("B"), nodes["B"].text()[-3000:])
        handed = [e for e in nodes["A"].events() if e.get("event") == "follower"]
        assert len(handed) == 2 and all("handed over" in str(e["msg"]) for e in handed), handed
        # The second wave is polled and published by each channel's new leader; both draw.
        for p in portals:
            p.add(N)
        assert wait_for(lambda: on_air(2 * N), 240), "\n".join(p.text()[-2000:] for p in nodes.values())
        for n, h in headends.items():
            check_headend(h)
            assert sorted(t for _, _, t in manifest_items(h)) == sorted(portals[names.index(n)].titles), n
        drawn: Counter[tuple[str, str]] = Counter()
        for node, proc in nodes.items():
            for e in proc.events():
                if e.get("event") == "transition" and e.get("state") == "rendered":
                    drawn[(str(e["channel"]), node)] += 1
        for n in names:
            assert drawn[(n, "A")] + drawn[(n, "B")] >= 2 * N, (n, drawn)
        assert sum(v for (_, node), v in drawn.items() if node == "B") > 0, drawn
        assert leads("A") | leads("B") == set(names) and not leads("A") & leads("B")  # no ping-pong since
        for proc in nodes.values():
            assert proc.stop() == 0, proc.text()[-3000:]
    finally:
        for proc in nodes.values():
            if proc.proc.poll() is None:
                proc.proc.kill()
        _drop_schemas(pg_url, names)


def test_a_failing_channel_never_stops_the_others(portals: list[Portal], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from daemonkit import free_port

    dead = f"http://127.0.0.1:{free_port()}/col/col1001/index.html"  # nobody listens there
    headends = {n: tmp_path / f"headend-{n}" for n in ("good", "noportal", "nodb")}
    channels = {"good": (portals[0].list_url, headends["good"]), "noportal": (dead, headends["noportal"]),
                "nodb": (portals[1].list_url, headends["nodb"])}  # fmt: skip
    port = free_port()
    cfg = write_channels_config(tmp_path / "t.toml", channels, work=tmp_path / "work", health=f"127.0.0.1:{port}",
                                own={"nodb": f'database = "postgresql://tvp@127.0.0.1:{free_port()}/gone"'})  # fmt: skip
    d = start_daemon(cfg, tmp_path / "d.log")
    try:
        assert wait_for(lambda: len(manifest_items(headends["good"])) == N, 120), d.text()[-3000:]
        events = d.events()
        assert any(e.get("event") == "channel_unavailable" and e.get("channel") == "nodb" for e in events), d.text()[-3000:]
        assert any(e.get("channel") == "noportal" and "poll failed" in str(e.get("msg")) for e in events), d.text()[-3000:]
        assert not headends["nodb"].exists() and not manifest_items(headends["noportal"])
        code, body = healthz(f"http://127.0.0.1:{port}")
        assert code == 503 and any(p.startswith("channel nodb: store unreachable") for p in body["problems"]), body
        assert not [p for p in body["problems"] if p.startswith("channel good:")], body
        # `pusher status` without --channel: every channel in brief, the unreadable one saying why.
        capsys.readouterr()
        assert main(["status", "--config", str(cfg), "--json"]) == 1
        printed = capsys.readouterr()
        rows = {r["name"]: r for r in json.loads(printed.out)["channels"]}
        assert rows["good"]["status"]["items"]["published"] == N
        assert rows["good"]["status"]["nodes"][0]["leader"] is True
        assert "error" in rows["nodb"] and "status" in rows["noportal"]
        assert d.stop() == 0, d.text()[-3000:]
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
