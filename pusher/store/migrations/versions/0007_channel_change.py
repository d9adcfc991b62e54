"""channel_change: the change counter that triggers bump on every write that can alter what airs;
an index on item.claimed_by (dead claims are looked up every round)

Revision ID: 0007_channel_change
Revises: 0006_blobs
Create Date: 2026-12-01 14:30:00

The triggers are not models: :mod:`pusher.store.changes` makes them (and the publish stage
makes them again if a later batch migration of ``item`` dropped them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_channel_change"
down_revision = "0006_blobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_claimed_by", "item", ["claimed_by"])
    from pusher.store.changes import install

    install(op.get_bind())


def downgrade() -> None:
    from pusher.store.changes import drop

    drop(op.get_bind())
    op.drop_table("channel_change")
    op.drop_index("ix_item_claimed_by", table_name="item")
