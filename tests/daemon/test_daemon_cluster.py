"""Two daemons on one PostgreSQL database and one folder headend: 300 items flow through, the
leader is killed with SIGKILL half-way, the other node takes the scheduler over, and at the end
every item is on air exactly once, at its version, with every page landed in the headend once."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonkit import FileWrites, Portal, check_headend, event_time, manifest_items, start_daemon, wait_for, write_config
from sqlmodel import col, select

from pusher.states import ItemState
from pusher.store.db import Store
from pusher.store.models import Delivery, Item

N = 300
LEADER_JOBS = ("poll:", "publish")


@pytest.fixture
def headend(tmp_path: Path) -> Iterator[Path]:
    # tmpfs when there is one: the folder target fsyncs every file, a disk makes that slow.
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp_path
    d = Path(tempfile.mkdtemp(prefix="tvp-headend-", dir=base))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_nodes_300_items_leader_killed(pg_url: str, fixture_portal: Portal, tmp_path: Path, headend: Path) -> None:
    fixture_portal.add(N // 3)  # a first wave; the rest arrives while the leader works
    work = tmp_path / "work"  # shared by both nodes, as a shared volume would be: the page cache
    store = Store(pg_url)
    store.migrate()
    writes = FileWrites(headend, headend / "assets")
    nodes = {}
    for name in ("A", "B"):
        cfg = write_config(tmp_path / f"{name}.toml", portal=fixture_portal, work=work, headend=headend, database=pg_url, node=name)
        nodes[name] = start_daemon(cfg, tmp_path / f"{name}.log")
    # Both start at once, so both are up before the first wave is rendered; one of them leads.
    lead = lambda p: any(e.get("event") == "leader" for e in p.events())  # noqa: E731
    assert wait_for(lambda: any(lead(p) for p in nodes.values()), 30), nodes["A"].text() + nodes["B"].text()
    a, b = (nodes["A"], nodes["B"]) if lead(nodes["A"]) else (nodes["B"], nodes["A"])  # a: the leader, to be killed
    try:

        def published() -> int:
            with store.read() as db:
                return len(db.exec(select(Item.id).where(Item.state == ItemState.PUBLISHED)).all())

        def rendered_by(proc_events: list[dict[str, object]]) -> int:
            return sum(1 for e in proc_events if e.get("event") == "transition" and e.get("state") == "rendered")

        def stored() -> int:
            with store.read() as db:
                return len(db.exec(select(Item.id)).all())

        assert wait_for(lambda: published() >= N // 3, 60), a.text()[-3000:]
        assert rendered_by(b.events()) > 0, "the follower took no render work"
        # The second wave: kill the leader in the middle of polling it.
        fixture_portal.add(N - N // 3)
        assert wait_for(lambda: stored() >= N // 2, 30, every=0.02), a.text()[-3000:]
        a.kill()
        t_kill = time.monotonic()
        assert stored() < N, "too late: the leader polled the whole second wave before it was killed"
        assert wait_for(lambda: any(e.get("event") == "leader" for e in b.events()), 30), b.text()[-3000:]
        assert wait_for(lambda: len(manifest_items(headend)) == N and published() == N, 120), b.text()[-3000:]
        # The last delivery may still be in flight; let it land, then stop B cleanly.
        assert wait_for(lambda: _idle(store), 30)
        print(f"takeover to all {N} delivered: {time.monotonic() - t_kill:.1f}s")
        assert b.stop() == 0, b.text()[-3000:]
    finally:
        for p in (a, b):
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
        counts = writes.close()

    # Every item on air exactly once, at version 1, every page there and whole.
    items = manifest_items(headend)
    assert len(items) == N
    assert Counter(t for _, _, t in items) == Counter(fixture_portal.titles)
    assert {v for _, v, _ in items} == {"1"}
    check_headend(headend)
    with store.read() as db:
        rows = list(db.exec(select(Item)))
        assert {i.state for i in rows} == {ItemState.PUBLISHED} and len(rows) == N
        assert all(i.claimed_by == "" for i in rows), "B handed back its claims; A's ran out or were voided"
        done = list(db.exec(select(Delivery).where(Delivery.state == "done").order_by(col(Delivery.channel_version))))
        assert not db.exec(select(Delivery).where(Delivery.claimed_by != "")).all()

    # Each page landed in the headend once. The one exception the design allows: the file the
    # killed node was writing when it died may have landed without the store hearing of it, and
    # is sent again (same name, same bytes).
    twice = {k: n for k, n in counts.items() if n > 1 and k != "channel.xml"}
    assert len(twice) <= 1 and all(n == 2 for n in twice.values()), twice
    # One manifest per delivered version (plus, at most, the killed node's in-flight one again).
    assert len(done) <= counts["channel.xml"] <= len(done) + 1

    # Each channel version was delivered by one node only; each item rendered by one node once.
    ev = {"A": a.events(), "B": b.events()}  # A: the killed leader, B: the survivor
    delivered = Counter(e["msg"].split()[2] for evs in ev.values() for e in evs if str(e.get("msg", "")).startswith("delivered version"))
    assert delivered and max(delivered.values()) == 1, delivered
    renders = Counter(e["item"] for evs in ev.values() for e in evs if e.get("event") == "transition" and e.get("state") == "rendered")
    assert max(renders.values()) == 1, [k for k, n in renders.items() if n > 1]
    assert rendered_by(ev["A"]) > 0 and rendered_by(ev["B"]) > 0, "both nodes took render work"

    # The scheduler moved: A led until it died, B only after; no leader job ran on both at once.
    assert a.killed_at is not None
    b_lead = min(event_time(e) for e in ev["B"] if e.get("event") == "leader")
    assert b_lead >= a.killed_at - 0.01
    a_jobs = _job_spans(ev["A"], end_of_open=a.killed_at)
    b_jobs = _job_spans(ev["B"], end_of_open=time.time())
    assert a_jobs and b_jobs
    assert all(start >= b_lead for start, _ in b_jobs)
    assert max(end for _, end in a_jobs) <= min(start for start, _ in b_jobs) + 0.01
    store.dispose()


def _idle(store: Store) -> bool:
    with store.read() as db:
        return not db.exec(select(Delivery).where(Delivery.state == "pending")).all()


def _job_spans(events: list[dict[str, object]], end_of_open: float) -> list[tuple[float, float]]:
    """(start, end) of every leader job a node ran; a job cut by SIGKILL ends at the kill."""
    spans, open_ = [], {}
    for e in events:
        job = str(e.get("job", ""))
        if not job.startswith(LEADER_JOBS):
            continue
        if e.get("event") == "job_start":
            open_[job] = event_time(e)
        elif e.get("event") == "job_end" and job in open_:
            spans.append((open_.pop(job), event_time(e)))
    spans += [(s, end_of_open) for s in open_.values()]
    return spans
