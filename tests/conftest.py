"""Shared fixtures: a copy of the sample portal served over real HTTP on 127.0.0.1, and a
runtime on a real SQLite file (or on the real PostgreSQL, for tests that ask for it)."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config
from pusher.runtime import Runtime
from pusher.web.httpserve import StaticServer

# Property tests draw the same examples on every run, so that a red CI names a change, not
# a lucky draw; `HYPOTHESIS_PROFILE=explore python -m pytest tests/gate` searches afresh (and
# whatever it finds is pinned with @example).
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# A suite started as a background job (`cmd &` in a script) inherits SIGINT ignored, and an
# ignored signal stays ignored across exec: every CLI the tests start would then shrug off the
# Ctrl-C they send it (`pusher preview` sat out a 10 s wait). A handled signal is reset to the
# default on exec, so handling it here gives each child what a terminal's Ctrl-C would reach.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: Real pages and texts the tests read, kept in the repository (see fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


# -- PostgreSQL (issue 8): one fresh schema per test on the server at 127.0.0.1:5432 -------------

PG_BASE = os.environ.get("PUSHER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def pg_unreachable() -> str:
    """Why the test PostgreSQL cannot be used ("" when it can)."""
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL at {PG_BASE} is unreachable: {exc}".splitlines()[0]
    return ""


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A postgresql:// URL whose search_path is a schema of its own, dropped after the test."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        # Extensions are per database: keep them in public (on the search path), not in a
        # test's schema that is dropped under the other tests' feet.
        with contextlib.suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    try:
        # synchronous_commit=off: the tests kill clients, never the server, and a commit that
        # waits for the disk makes the multi-node tests several times slower.
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}%2Cpublic%20-csynchronous_commit%3Doff"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
