"""The outbox on PostgreSQL (several nodes share one store): delta records, adoption of what a
headend holds, grace-period deletion and one deliverer per target at a time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import delete, select
from targetkit import Channel, check_headend, folder_assets, folder_reader, page_bytes, race_two_deliverers

from pusher.config.settings import parse_settings
from pusher.runtime import Runtime
from pusher.stages.outbox import deliver
from pusher.store.models import TargetAsset
from pusher.timeutil import utcnow

pytestmark = pytest.mark.postgres


def pg_runtime(tmp_path: Path, pg_url: str, **options: Any) -> Runtime:
    targets = [{"name": "drop", "kind": "folder", "options": {"path": str(tmp_path / "drop"), **options}}]
    return Runtime(
        parse_settings({"channel": {"workdir": str(tmp_path / "work"), "database": pg_url, "profile": "sd"}, "targets": targets}, tmp_path)
    )


def test_outbox_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    rt = pg_runtime(tmp_path, pg_url, grace_hours=1)
    drop = tmp_path / "drop"
    try:
        ch = Channel(rt)
        for i in range(4):
            ch.set(f"i{i}", page_bytes(f"i{i}"))
        ch.publish()
        assert deliver(rt)[0].status == "done"
        with rt.store.write() as db:
            db.exec(delete(TargetAsset))  # type: ignore[call-overload]
        del ch.items["i3"]
        ch.set("i9", page_bytes("i9"))
        ch.publish()
        [r] = deliver(rt)  # adopts the headend's files (upsert), sends the new page and manifest
        assert (r.status, r.files) == ("done", 3), r
        with rt.store.write() as db:
            rows = list(db.exec(select(TargetAsset)))
            assert len(rows) == len(folder_assets(drop))
            for a in rows:
                if a.unreferenced_since is not None:
                    a.unreferenced_since = utcnow() - timedelta(hours=2)
        ch.set("i8", page_bytes("i8"))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done" and r.deleted == 2  # i3's page and the old column menu
        check_headend(folder_reader(drop), folder_assets(drop), version=3)
    finally:
        rt.close()


def test_two_deliverers_of_one_target_never_push_at_once(tmp_path: Path, pg_url: str) -> None:
    rt = pg_runtime(tmp_path, pg_url)
    try:
        results = race_two_deliverers(rt)
        assert sorted(results) in (["busy", "done"], ["done", "idle"]), results
        check_headend(folder_reader(tmp_path / "drop"), folder_assets(tmp_path / "drop"), version=1)
    finally:
        rt.close()


def test_a_target_added_later_gets_the_version_once_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """A new target has no outbox rows: its delivery of the current version is queued at its
    first delivery (issue 15), once, with two deliverers asking at the same time. (Threads of
    one process meet the local lock; across nodes the queueing insert is ON CONFLICT DO NOTHING.)"""
    import threading

    from pusher.stages.outbox import deliver_one
    from pusher.store.models import Delivery

    rt = pg_runtime(tmp_path, pg_url)
    try:
        ch = Channel(rt)
        for i in range(10):
            ch.set(f"i{i}", page_bytes(f"i{i}", 20_000))
        ch.publish()
        assert deliver(rt)[0].status == "done"
        targets = [{"name": t, "kind": "folder", "options": {"path": str(tmp_path / t)}} for t in ("drop", "late")]
        work = {"workdir": str(tmp_path / "work"), "database": pg_url, "profile": "sd"}
        rt2 = Runtime(parse_settings({"channel": work, "targets": targets}, tmp_path))
        results: list[str] = []
        threads = [threading.Thread(target=lambda: results.append(deliver_one(rt2, "late", only_due=False).status)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert "done" in results and set(results) <= {"done", "busy", "idle"}, results
        with rt2.store.read() as db:
            assert [d.channel_version for d in db.exec(select(Delivery).where(Delivery.target == "late"))] == [1]
        check_headend(folder_reader(tmp_path / "late"), folder_assets(tmp_path / "late"), version=1)
        rt2.close()
    finally:
        rt.close()
