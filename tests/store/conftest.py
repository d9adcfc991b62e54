"""Every store test that asks for ``store_url`` runs twice: on a SQLite file and on a fresh
PostgreSQL schema (skipped, with the reason, when the server is unreachable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pusher.store.db import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    s.migrate()
    yield s
    s.dispose()
