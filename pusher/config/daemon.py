"""The ``[daemon]`` section: node identity, leases, the health endpoint and its thresholds."""

from __future__ import annotations

import os
import socket

from pydantic import Field, field_validator

from pusher.config.base import SettingsModel


class DaemonSettings(SettingsModel):
    # Who this process is in logs, claims and `pusher status`; default ``host:pid``. Two live
    # daemons must not share a name (a restarted one may reuse it).
    node: str = Field(default="", pattern=r"^[A-Za-z0-9_.:\-]{0,64}$")
    # ``host:port`` of the health and metrics endpoint; empty turns it off. Keep it on loopback
    # (or a private interface): it needs no password and tells what the daemon does.
    health_listen: str = "127.0.0.1:9464"
    # /healthz fails when a source or target has been failing for longer than this …
    source_failing_after: int = Field(default=3600, ge=1)  # seconds
    target_failing_after: int = Field(default=1800, ge=1)
    # … or when the scheduler's own heartbeat job has not run for this long.
    scheduler_stuck_after: int = Field(default=120, ge=2)
    heartbeat: float = Field(default=5.0, gt=0)  # seconds between heartbeats (and watchdog pets)
    # Render work is leased for this long; a node that dies loses its claims when it runs out.
    lease_seconds: int = Field(default=120, ge=5)
    # How often every node looks for render and delivery work (the leader also renders and
    # delivers right after it publishes).
    worker_interval: float = Field(default=5.0, gt=0)
    # How often a follower tries to become the scheduler leader (PostgreSQL) .
    election_interval: float = Field(default=5.0, gt=0)

    @field_validator("health_listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        if v:
            host, sep, port = v.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or ":" in host:
                raise ValueError("must be host:port with an IPv4 address or name, e.g. 127.0.0.1:9464, or empty")
        return v

    def node_name(self) -> str:
        return self.node or f"{socket.gethostname()}:{os.getpid()}"

    def health_address(self) -> tuple[str, int] | None:
        if not self.health_listen:
            return None
        host, _, port = self.health_listen.rpartition(":")
        return (host, int(port))
