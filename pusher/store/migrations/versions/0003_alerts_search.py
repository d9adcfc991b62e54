"""alert table; full-text search over items (SQLite FTS5 trigram, PostgreSQL pg_trgm)

Revision ID: 0003_alerts_search
Revises: 0002_item_validators
Create Date: 2026-11-27 17:00:00

The search index is not a model: on SQLite it is an external-content FTS5 table kept in step
with ``item`` by triggers (see :mod:`pusher.store.search`, which also re-creates the triggers if a
later batch migration of ``item`` dropped them); on PostgreSQL, trigram GIN indexes.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_alerts_search"
down_revision = "0002_item_validators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("column", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    from pusher.store.search_index import create_index

    create_index(op.get_bind())


def downgrade() -> None:
    from pusher.store.search_index import drop_index

    drop_index(op.get_bind())
    op.drop_table("alert")
