"""The ``[daemon]`` section: defaults, and errors that name the key."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pusher.config.settings import parse_settings
from pusher.errors import ConfigError


def test_defaults_are_a_loopback_endpoint_and_a_host_pid_node(tmp_path: Path) -> None:
    d = parse_settings({}, tmp_path).daemon
    assert d.health_address() == ("127.0.0.1", 9464)
    assert d.node_name() == f"{socket.gethostname()}:{os.getpid()}"
    assert parse_settings({"daemon": {"node": "edge-1", "health_listen": ""}}, tmp_path).daemon.node_name() == "edge-1"
    assert parse_settings({"daemon": {"health_listen": ""}}, tmp_path).daemon.health_address() is None


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"health_listen": "9464"}, "daemon.health_listen"),
        ({"lease_seconds": 1}, "daemon.lease_seconds"),
        ({"node": "a b"}, "daemon.node"),
        ({"leese_seconds": 60}, "daemon.leese_seconds"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_settings({"daemon": section}, tmp_path)
    assert exc.value.key == key
