"""Versioned schema migrations (Alembic), run programmatically by :meth:`pusher.store.db.Store.migrate`.

To change the schema: edit :mod:`pusher.store.models`, then add a revision file in ``versions/``
(``alembic revision --autogenerate`` with ``script_location`` pointing here works too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leaves out of model comparison what is deliberately not a model: the search index
    (an FTS5 table and its shadow tables, trigram indexes; see :mod:`pusher.store.search`)."""
    from pusher.store.search_index import INDEX_OBJECTS

    return not (reflected and name in INDEX_OBJECTS)


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
