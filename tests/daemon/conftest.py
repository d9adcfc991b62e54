"""Fixtures of the daemon tests (helpers live in ``daemonkit``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from daemonkit import Portal


@pytest.fixture
def fixture_portal(tmp_path: Path) -> Iterator[Portal]:
    p = Portal(tmp_path / "portal")
    p.add(0)
    with p.server:
        yield p
