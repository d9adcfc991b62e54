"""Shared fixtures: a copy of the sample portal served over real HTTP on 127.0.0.1, and a
runtime on a real SQLite file (or on the real PostgreSQL, for tests that ask for it)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pusher.config import parse_settings
from pusher.demo import PORTAL, demo_config
from pusher.httpserve import StaticServer
from pusher.runtime import Runtime

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
if not SHARED.is_dir():  # CI lays shared/ beside the clone
    SHARED = Path(__file__).resolve().parents[2] / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def portal_dir(tmp_path: Path) -> Path:
    """A private, writable copy of the bundled sample portal."""
    dst = tmp_path / "portal"
    shutil.copytree(PORTAL, dst)
    return dst


@pytest.fixture
def portal(portal_dir: Path) -> Iterator[StaticServer]:
    with StaticServer(portal_dir) as srv:
        yield srv


@pytest.fixture
def demo_rt(portal: StaticServer, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(parse_settings(demo_config(portal.url, tmp_path / "work"), tmp_path))
    yield rt
    rt.close()
