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
