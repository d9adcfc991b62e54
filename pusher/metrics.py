"""Prometheus figures: the store's (the same ``collect_status`` the CLI prints, read at each
scrape, so every node shows the cluster's figures) and this process's own (render time and
bytes per page, observed as pages are drawn).

The process's instruments live in one registry of their own, created on import; the daemon's
endpoint serves it together with a collector that reads the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from pusher.ops.status import Status

PROCESS = CollectorRegistry(auto_describe=True)
RENDER_SECONDS = Histogram(
    "tvpusher_render_seconds_per_page", "Time to draw one page image (an item's render time over its pages)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=PROCESS,
)  # fmt: skip
PAGE_BYTES = Histogram(
    "tvpusher_page_bytes", "Size of a rendered page image (PNG bytes)",
    buckets=(5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000), registry=PROCESS,
)  # fmt: skip


def observe_render(seconds: float, page_bytes: Iterable[int]) -> None:
    sizes = list(page_bytes)
    for b in sizes:
        RENDER_SECONDS.observe(seconds / max(1, len(sizes)))
        PAGE_BYTES.observe(b)


class StoreCollector(Collector):
    """Turns a ``collect_status`` :class:`~pusher.ops.status.Status` into metric families at scrape time."""

    def __init__(self, status: Callable[[], Status]) -> None:
        self.status = status

    def describe(self) -> list[Metric]:
        return []  # do not touch the store when registering

    def collect(self) -> Iterator[Metric]:
        st = self.status()
        polls = CounterMetricFamily("tvpusher_source_polls", "Polls of each source", labels=["source"])
        errors = CounterMetricFamily("tvpusher_source_errors", "Failed polls of each source", labels=["source"])
        failing = GaugeMetricFamily("tvpusher_source_failing_seconds", "How long a source has been failing (0: it is fine)",
                                    labels=["source"])  # fmt: skip
        for s in st.sources:
            polls.add_metric([s.name], s.polls)
            errors.add_metric([s.name], s.errors)
            failing.add_metric([s.name], s.failing_seconds)
        yield from (polls, errors, failing)
        items = GaugeMetricFamily("tvpusher_items", "Items by state", labels=["state"])
        for state, n in st.items.items():
            items.add_metric([state], n)
        yield items
        backlog = GaugeMetricFamily("tvpusher_backlog", "Work waiting, by kind", labels=["kind"])
        for kind, n in asdict(st.backlog).items():
            backlog.add_metric([kind], n)
        yield backlog
        pushed = CounterMetricFamily("tvpusher_push_bytes", "Bytes pushed to each target", labels=["target"])
        failures = CounterMetricFamily("tvpusher_push_failures", "Failed delivery attempts per target", labels=["target"])
        outbox = GaugeMetricFamily("tvpusher_outbox_backlog", "Pending deliveries per target", labels=["target"])
        tfail = GaugeMetricFamily("tvpusher_target_failing_seconds", "How long a target has been failing (0: it is fine)",
                                  labels=["target"])  # fmt: skip
        for t in st.targets:
            pushed.add_metric([t.name], t.pushed_bytes)
            failures.add_metric([t.name], t.failures)
            outbox.add_metric([t.name], t.backlog)
            tfail.add_metric([t.name], t.failing_seconds)
        yield from (pushed, failures, outbox, tfail)
        ch = st.channel
        yield GaugeMetricFamily("tvpusher_channel_version", "Newest channel version", value=ch.version or 0)
        age = ch.age_seconds
        yield GaugeMetricFamily("tvpusher_channel_age_seconds", "Age of the newest channel version (-1: none yet)",
                                value=-1 if age is None else age)  # fmt: skip
        yield GaugeMetricFamily("tvpusher_channel_bytes", "Bytes of the newest channel version", value=ch.bytes)
        nodes = GaugeMetricFamily("tvpusher_node_leader", "1 for the node running the scheduler, 0 for the others",
                                  labels=["node"])  # fmt: skip
        for node in st.nodes:
            if node.alive:
                nodes.add_metric([node.name], 1 if node.leader else 0)
        yield nodes
