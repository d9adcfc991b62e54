"""/healthz and /metrics over a real store after a real round of the sample portal: figures
match ``pusher status``; each way of being unhealthy turns /healthz to 503 with its reason."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, select

from pusher.config.settings import parse_settings
from pusher.daemon.health import HealthServer
from pusher.demo import PORTAL, demo_config
from pusher.ops import run_cycle
from pusher.ops.status import collect_status
from pusher.runtime import Runtime
from pusher.store.models import Delivery, Node, Page, SourceRow
from pusher.timeutil import utcnow
from pusher.web.httpserve import StaticServer


class Beat:
    age: float | None = 1.0


@pytest.fixture(scope="module")
def one_round(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder after one real round over the sample portal, made once per module."""
    root = tmp_path_factory.mktemp("round")
    shutil.copytree(PORTAL, root / "portal")
    with StaticServer(root / "portal") as portal:
        rt = Runtime(parse_settings(demo_config(portal.url, root / "work"), root))
        try:
            rep = run_cycle(rt)
        finally:
            rt.close()
    assert rep.delivered and not rep.delivery_errors
    return root / "work"


@pytest.fixture
def served(one_round: Path, tmp_path: Path) -> Iterator[tuple[Runtime, str, Beat]]:
    work = tmp_path / "work"
    shutil.copytree(one_round, work)  # each test changes its own copy of the store
    rt = Runtime(parse_settings(demo_config("http://127.0.0.1:9", work), tmp_path))
    beat = Beat()
    srv = HealthServer(("127.0.0.1", 0), lambda: collect_status(rt), rt.settings, lambda: beat.age, lambda: True).start()
    try:
        yield rt, srv.url, beat
    finally:
        srv.stop()
        rt.close()


def _health(url: str) -> tuple[int, list[str]]:
    r = httpx.get(f"{url}/healthz", timeout=10)
    return r.status_code, r.json()["problems"]


def test_metrics_carry_the_status_figures(served: tuple[Runtime, str, Beat]) -> None:
    rt, url, _ = served
    st = collect_status(rt).to_dict()
    text = httpx.get(f"{url}/metrics", timeout=10).text
    values = {
        (smp.name, tuple(sorted(smp.labels.items()))): smp.value for fam in text_string_to_metric_families(text) for smp in fam.samples
    }
    names = {name for name, _ in values}
    for name in ("tvpusher_source_polls_total", "tvpusher_source_errors_total", "tvpusher_items", "tvpusher_render_seconds_per_page_bucket",
                 "tvpusher_page_bytes_sum", "tvpusher_push_bytes_total", "tvpusher_push_failures_total", "tvpusher_outbox_backlog",
                 "tvpusher_channel_age_seconds", "tvpusher_heartbeat_age_seconds", "tvpusher_leader"):  # fmt: skip
        assert name in names, name
    assert values[("tvpusher_items", (("state", "published"),))] == st["items"]["published"] > 0
    with rt.store.read() as db:
        item_pages = len(db.exec(select(Page.id).where(col(Page.owner).like("item:%"))).all())
    # Counted in this process, so at least the pages this test's round drew.
    assert values[("tvpusher_render_seconds_per_page_count", ())] >= item_pages > 0
    assert values[("tvpusher_page_bytes_count", ())] == values[("tvpusher_render_seconds_per_page_count", ())]
    target = st["targets"][0]
    assert values[("tvpusher_push_bytes_total", (("target", "headend"),))] == target["pushed_bytes"] > 0
    assert values[("tvpusher_outbox_backlog", (("target", "headend"),))] == target["backlog"] == 0
    for src in st["sources"]:
        assert values[("tvpusher_source_polls_total", (("source", src["name"]),))] == src["polls"] == 1
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
