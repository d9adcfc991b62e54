"""/healthz and /metrics over a real store after a real round of the sample portal: figures
match ``pusher status``; each way of being unhealthy turns /healthz to 503 with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from pusher.demo import run_cycle
from pusher.health import HealthServer
from pusher.models import Delivery, Node, SourceRow
from pusher.runtime import Runtime
from pusher.status import collect_status
from pusher.timeutil import utcnow


class Beat:
    age: float | None = 1.0


@pytest.fixture
def served(demo_rt: Runtime) -> Iterator[tuple[Runtime, str, Beat]]:
    rep = run_cycle(demo_rt)
    assert rep.delivered and not rep.delivery_errors
    beat = Beat()
    srv = HealthServer(("127.0.0.1", 0), lambda: collect_status(demo_rt), demo_rt.settings, lambda: beat.age, lambda: True).start()
    try:
        yield demo_rt, srv.url, beat
    finally:
        srv.stop()


def _health(url: str) -> tuple[int, list[str]]:
    r = httpx.get(f"{url}/healthz", timeout=10)
    return r.status_code, r.json()["problems"]


def test_metrics_carry_the_status_figures(served: tuple[Runtime, str, Beat]) -> None:
    rt, url, _ = served
    st = collect_status(rt)
    text = httpx.get(f"{url}/metrics", timeout=10).text
    families = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    for name in ("tvpusher_source_polls_total", "tvpusher_source_errors_total", "tvpusher_items", "tvpusher_render_seconds_per_page_bucket",
                 "tvpusher_page_bytes_sum", "tvpusher_push_bytes_total", "tvpusher_push_failures_total", "tvpusher_outbox_backlog",
                 "tvpusher_channel_age_seconds", "tvpusher_heartbeat_age_seconds", "tvpusher_leader"):  # fmt: skip
        assert name in families, name
    assert f'tvpusher_items{{state="published"}} {float(st["items"]["published"])}' in text
    target = st["targets"][0]
    assert target["pushed_bytes"] > 0
    assert f'tvpusher_push_bytes_total{{target="headend"}} {float(target["pushed_bytes"])}' in text
    for s in st["sources"]:
        assert f'tvpusher_source_polls_total{{source="{s["name"]}"}} {float(s["polls"])}' in text
    assert 0 <= st["channel"]["age_seconds"] < 60
    assert _health(url) == (200, [])


def test_a_source_failing_too_long_is_unhealthy(served: tuple[Runtime, str, Beat]) -> None:
    rt, url, _ = served
    with rt.store.write() as db:
        row = db.get(SourceRow, "notices")
        assert row is not None
        row.failing_since, row.last_error = utcnow() - timedelta(seconds=rt.settings.daemon.source_failing_after - 60), "HTTP 521"
    assert _health(url) == (200, []), "failing, but not for long enough"
    with rt.store.write() as db:
        row = db.get(SourceRow, "notices")
        assert row is not None
        row.failing_since = utcnow() - timedelta(seconds=rt.settings.daemon.source_failing_after + 60)
    code, problems = _health(url)
    assert code == 503 and len(problems) == 1 and problems[0].startswith("source notices failing for") and "HTTP 521" in problems[0]


def test_a_target_failing_since_its_last_success_is_unhealthy(served: tuple[Runtime, str, Beat]) -> None:
    rt, url, _ = served
    long_ago = utcnow() - timedelta(seconds=rt.settings.daemon.target_failing_after + 60)
    with rt.store.write() as db:
        done = db.exec(select(Delivery).where(Delivery.state == "done")).one()
        done.done_at = long_ago
        db.add(Delivery(target="headend", channel_version=done.channel_version + 1, attempts=3, last_error="PUT answered 507"))
    code, problems = _health(url)
    assert code == 503 and problems == [problems[0]] and problems[0].startswith("target headend failing for")


def test_a_stuck_scheduler_and_a_cluster_without_leader_are_unhealthy(served: tuple[Runtime, str, Beat]) -> None:
    rt, url, beat = served
    beat.age = rt.settings.daemon.scheduler_stuck_after + 1.0
    assert _health(url) == (503, [f"scheduler stuck: no heartbeat for {beat.age:.0f}s"])
    beat.age = 0.5
    with rt.store.write() as db:
        db.add(Node(name="n1", seen_at=utcnow(), leader=False))
    assert _health(url) == (503, ["no live node leads the scheduler"])
    with rt.store.write() as db:
        db.add(Node(name="n2", seen_at=utcnow(), leader=True))
    assert _health(url) == (200, [])
