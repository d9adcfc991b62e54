"""Issue 15, findings 3 and 16 (store): the database deleted, replaced, truncated or misnamed.

A database file deleted under the daemon once made it write to two databases at once (a
version of 0 items went out over one of 33), and list validators saved without their items
kept those lists answering 304 for ever. These tests run the real daemon and CLI on a real
SQLite file and a portal on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from pusher.config.settings import load_settings
from pusher.errors import StoreError
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.store.models import Item, SourceRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "daemon"))
from daemonkit import Portal, free_port, healthz, manifest_items, start_daemon, wait_for, write_config


def _pusher(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pusher", *args, "--config", str(config)], capture_output=True, text=True, timeout=120)


def _one_line_error(res: subprocess.CompletedProcess[str]) -> str:
    err = res.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def installation(tmp_path: Path) -> Any:
    portal = Portal(tmp_path / "portal")
    portal.add(6)
    with portal.server:
        port = free_port()
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=tmp_path / "work", headend=tmp_path / "headend",
                              health=f"127.0.0.1:{port}", interval=10, publish_interval=5)  # fmt: skip
        yield portal, config, tmp_path / "work" / "tvpusher.db", tmp_path / "headend", f"http://127.0.0.1:{port}"


def test_database_deleted_under_the_daemon_stops_it_with_503_and_no_new_store(installation: Any, tmp_path: Path) -> None:
    portal, config, db, headend, health = installation
    proc = start_daemon(config, tmp_path / "daemon.log")
    try:
        assert wait_for(lambda: len(manifest_items(headend)) == 6 or proc.proc.poll() is not None, 90)
        assert len(manifest_items(headend)) == 6, proc.text()[-3000:]
        assert wait_for(lambda: healthz(health)[0] == 200, 30)
        for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            p.unlink(missing_ok=True)
        portal.add(3)  # work the daemon would otherwise write into a new, empty database
        assert wait_for(lambda: healthz(health)[0] == 503, 40), proc.text()[-3000:]
        _, body = healthz(health)
        assert any("was deleted" in p for p in body["problems"]), body
        wait_for(lambda: False, 12)  # a poll and two publish rounds
        assert not db.exists(), "the daemon created a new database where one was deleted"
        assert len(manifest_items(headend)) == 6, "a version from another store went on air"
        assert "stopping work: the database file" in proc.text()
    finally:
        proc.stop()
    # No command starts an empty store where this workdir held one: not a restart, not a push.
    res = _pusher("push", config=config)
    assert res.returncode == 1
    assert "pusher init" in _one_line_error(res)
    assert not db.exists()
    # The operator says so: an empty store, and the channel is built again from the portal.
    assert _pusher("init", config=config).returncode == 0
    res = _pusher("poll", config=config)
    assert res.returncode == 0, res.stderr
    assert _pusher("push", config=config).returncode == 0
    assert len(manifest_items(headend)) == 9


def test_database_replaced_under_a_process_is_never_written(tmp_path: Path) -> None:
    portal = Portal(tmp_path / "portal")
    portal.add(2)
    with portal.server:
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=tmp_path / "work", headend=tmp_path / "headend")
        rt = Runtime(load_settings(config))
        db = tmp_path / "work" / "tvpusher.db"
        try:
            poll_source(rt, "notices")
            other = tmp_path / "other.db"
            shutil.copyfile(db, other)  # a backup restored over the live file
            before = other.read_bytes()
            os.replace(other, db)
            with pytest.raises(StoreError, match="was replaced"):
                poll_source(rt, "notices")
            with pytest.raises(StoreError, match="was replaced"), rt.store.read():
                pass
            assert db.read_bytes() == before
        finally:
            rt.close()


def test_list_validators_never_outlive_the_items_they_cover(tmp_path: Path) -> None:
    """Items gone from the store (another database took them) while the list's ETag stayed:
    the next poll must read the list in full, not answer 304 for ever."""
    portal = Portal(tmp_path / "portal")
    portal.add(5)
    with portal.server:
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=tmp_path / "work", headend=tmp_path / "headend")
        rt = Runtime(load_settings(config))
        try:
            assert poll_source(rt, "notices").new == 5
            with rt.store.read() as db:
                row = db.get(SourceRow, "notices")
                assert row is not None and "etag" in row.validators
            with rt.store.write() as db:
                db.exec(text("DELETE FROM item"))  # type: ignore[call-overload]
            rep = poll_source(rt, "notices")
            assert rep.status == "ok" and rep.new == 5, rep
            with rt.store.read() as db:
                assert db.exec(select(func.count()).select_from(Item)).one() == 5
            assert poll_source(rt, "notices").status == "not_modified"  # validators kept again, with their items
        finally:
            rt.close()


def test_database_port_that_is_not_a_number_is_one_line(tmp_path: Path) -> None:
    portal = Portal(tmp_path / "portal")
    config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=tmp_path / "work", headend=tmp_path / "headend",
                          database="postgresql://tv:s3cr@t@127.0.0.1:54x2/test")  # fmt: skip
    res = _pusher("status", config=config)
    assert res.returncode == 2
    err = _one_line_error(res)
    assert "channel.database" in err and "54x2" in err and "not a number" in err
    assert "s3cr" not in err and "t@127" not in err


@pytest.mark.parametrize("damage", ["half", "header", "garbage"])
def test_truncated_or_corrupt_sqlite_file_is_said_so(tmp_path: Path, damage: str) -> None:
    portal = Portal(tmp_path / "portal")
    portal.add(3)
    with portal.server:
        config = write_config(tmp_path / "tvpusher.toml", portal=portal, work=tmp_path / "work", headend=tmp_path / "headend")
        assert _pusher("poll", config=config).returncode == 0
    db = tmp_path / "work" / "tvpusher.db"
    with sqlite3.connect(db) as conn:  # every page in the file itself, so that cutting it loses some
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    if damage == "garbage":
        db.write_bytes(os.urandom(size))
    else:
        with db.open("r+b") as f:
            f.truncate(size // 2 if damage == "half" else 60)
    for cmd in ("status", "push"):
        res = _pusher(cmd, config=config)
        assert res.returncode == 1, res
        err = _one_line_error(res)
        assert "truncated or corrupt" in err and "locked" not in err, err
