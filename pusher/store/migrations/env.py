from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import pusher.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from pusher.store.migrations import include_object

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
