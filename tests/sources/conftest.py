"""Fixtures for the source tests: a scriptable loopback portal and a runtime built from a config dict."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sources_portal import Portal

from pusher.config.settings import parse_settings
from pusher.runtime import Runtime

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "portal-samples"
COLUMNS = [
    {"id": "zwgk", "name": "政府信息公开", "portal_columns": ["政府信息公开", "部门信息公开"], "topics": ["财政"]},
    {"id": "dwgk", "name": "党务公开", "portal_columns": ["党务公开"]},
    {"id": "tzgg", "name": "通知公告"},
]
FAST_HTTP = {"timeout": 1.0, "delay": 0.0, "per_host": 2, "max_redirects": 3}


@pytest.fixture
def site() -> Iterator[Portal]:
    with Portal() as p:
        yield p


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(sources: list[dict[str, Any]], *, http: dict[str, Any] | None = None, columns: list[dict[str, Any]] | None = None) -> Runtime:
        raw = {
            "channel": {"workdir": str(tmp_path / f"var{len(made)}")},
            "columns": columns or COLUMNS,
            "sources": [{"column": "tzgg", **s} for s in sources],
            "http": {**FAST_HTTP, **(http or {})},
        }
        rt = Runtime(parse_settings(raw, tmp_path))
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
