"""asrun: the as-run log of live playout (what aired when, by version, page and item)

Revision ID: 0005_asrun
Revises: 0004_nodes
Create Date: 2026-12-01 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_asrun"
down_revision = "0004_nodes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("channel_version", sa.Integer(), nullable=False),
        sa.Column("page", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("output", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("node", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_asrun_aired_at", "asrun", ["aired_at"])


def downgrade() -> None:
    op.drop_index("ix_asrun_aired_at", table_name="asrun")
    op.drop_table("asrun")
