"""The schema evolves through migrations without losing data, and the migrations match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from pusher.states import ItemState
from pusher.store.db import Store
from pusher.store.migrations import HERE, alembic_config, downgrade, include_object, upgrade
from pusher.store.models import Item


def test_migrations_produce_exactly_the_models(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.db")
    store.migrate()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_revisions_form_one_line(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(Store(f"sqlite:///{tmp_path}/x.db").engine))
    assert len(script.get_heads()) == 1
    assert Path(script.dir) == HERE


def test_upgrade_keeps_rows_written_by_the_first_revision(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.db")
    upgrade(store.engine, "0001")
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO item (source, url, dedupe_key, title, \"column\", portal_column, index_no, publisher, doc_no, topic, validity, "
                 "content_hash, version, state, state_reason, screened_title, rendered_version, pinned, missing_polls, first_seen, updated_at, "
                 "claimed_by) VALUES ('s', 'http://x/1', 'k', '标题', 'c', '', '', '', '', '', '', 'h', 1, 'PUBLISHED', '', '', 1, 0, 0, "
                 "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '')")
        )  # fmt: skip
    store.migrate()
    with store.read() as db:
        item = db.get(Item, 1)
    assert item is not None and item.title == "标题" and item.state == ItemState.PUBLISHED


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.db")
    store.migrate()
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.migrate()
    assert "item" in inspect(store.engine).get_table_names()
