"""The daemon's health and metrics endpoint (HTTP on 127.0.0.1 by default, ``[daemon]
health_listen``): ``/healthz`` answers 200 or 503 with the reasons, ``/metrics`` the Prometheus
text format.

Unhealthy means: a source or target has been failing for longer than its threshold, this
daemon's scheduler has not run its heartbeat job for ``scheduler_stuck_after`` seconds, the
store cannot be read, or live nodes exist but none of them leads the scheduler.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pusher.metrics import PROCESS, StoreCollector
from pusher.ops.health import evaluate

if TYPE_CHECKING:
    from pusher.ops.status import Status

log = logging.getLogger("tvpusher.health")


class _DaemonCollector(Collector):
    def __init__(self, beat_age: Callable[[], float | None], is_leader: Callable[[], bool]) -> None:
        self.beat_age, self.is_leader = beat_age, is_leader

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        age = self.beat_age()
        yield GaugeMetricFamily("tvpusher_heartbeat_age_seconds", "Seconds since this daemon's scheduler last ran its heartbeat",
                                value=-1 if age is None else age)  # fmt: skip
        yield GaugeMetricFamily(
            "tvpusher_leader", "1 if this daemon runs the scheduler's poll and publish jobs", value=int(self.is_leader())
        )


class _Endpoint:
    """The HTTP side: ``/healthz`` and ``/metrics`` served from a thread."""

    registry: CollectorRegistry

    def __init__(self, address: tuple[str, int]) -> None:
        self.httpd = ThreadingHTTPServer(address, self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="health", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        log.info("health and metrics at %s/healthz and %s/metrics", self.url, self.url)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def healthz(self) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def metrics(self) -> bytes:
        return generate_latest(PROCESS) + generate_latest(self.registry)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    code, body = server.healthz()
                    self._send(code, json.dumps(body, ensure_ascii=False).encode(), "application/json")
                elif path == "/metrics":
                    try:
                        data = server.metrics()
                    except Exception as exc:
                        self._send(503, f"store unreachable: {type(exc).__name__}\n".encode(), "text/plain")
                        return
                    self._send(200, data, CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class HealthServer(_Endpoint):
    """One channel's health; ``status`` reads the store."""

    def __init__(self, address: tuple[str, int], status: Callable[[], Status], settings: Any,
                 beat_age: Callable[[], float | None], is_leader: Callable[[], bool],
                 own: Callable[[], list[str]] = list) -> None:  # fmt: skip
        """``own``: problems of this process's own parts (:func:`pusher.ops.health.process_problems`)."""
        self.status, self.settings, self.beat_age, self.own = status, settings, beat_age, own
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(StoreCollector(status))
        self.registry.register(_DaemonCollector(beat_age, is_leader))
        super().__init__(address)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        from pusher.logs import redact

        try:
            own = self.own()
            st = self.status()
        except Exception as exc:  # the store is away: that is the answer, not a crash
            return 503, {"ok": False, "problems": [redact(f"store unreachable: {exc}")]}
        problems = [redact(p) for p in own] + evaluate(st, self.settings, self.beat_age())
        return (503 if problems else 200), {"ok": not problems, "problems": problems}


class ChannelsHealthServer(_Endpoint):
    """The health of every channel a process serves: a problem of one names its channel
    (``channel yongkang: source portal failing for …``); a channel whose store could not be opened
    is one. ``/metrics`` has the process's figures and which channels this node leads; the
    store figures per channel are ``pusher status --channel NAME --json``."""

    def __init__(self, address: tuple[str, int], channels: Sequence[Any], beat_age: Callable[[], float | None],
                 is_leader: Callable[[], bool]) -> None:  # fmt: skip
        """``channels``: the daemon's :class:`~pusher.daemon.scheduler.ChannelWork` objects."""
        self.channels, self.beat_age = channels, beat_age
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_DaemonCollector(beat_age, is_leader))
        self.registry.register(_ChannelsCollector(channels))
        super().__init__(address)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        from pusher.logs import redact
        from pusher.ops.health import process_problems
        from pusher.ops.status import collect_status

        problems: list[str] = []
        for cw in self.channels:
            rt = cw.rt
            if rt is None:
                problems.append(redact(f"channel {cw.name}: store unreachable: {cw.open_error or 'not opened yet'}"))
                continue
            try:
                own = process_problems(rt)
                st = collect_status(rt)
            except Exception as exc:  # that channel's store is away: its answer, not the others'
                problems.append(redact(f"channel {cw.name}: store unreachable: {exc}"))
                continue
            problems += [f"channel {cw.name}: {p}" for p in [redact(p) for p in own] + evaluate(st, cw.settings, self.beat_age())]
        return (503 if problems else 200), {"ok": not problems, "problems": problems}


class _ChannelsCollector(Collector):
    def __init__(self, channels: Sequence[Any]) -> None:
        self.channels = channels

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        lead = GaugeMetricFamily("tvpusher_channel_leader", "1 if this daemon runs the channel's poll and publish jobs", labels=["channel"])
        up = GaugeMetricFamily("tvpusher_channel_open", "1 if this daemon has the channel's store open", labels=["channel"])
        for cw in self.channels:
            lead.add_metric([cw.name], int(cw.leader))
            up.add_metric([cw.name], int(cw.rt is not None))
        yield lead
        yield up
