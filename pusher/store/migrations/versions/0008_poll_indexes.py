"""item indexes for the poll: (source, checked_at) for the oldest re-checks, (source,
missing_polls) for the items missing from a list

Revision ID: 0008_poll_indexes
Revises: 0007_channel_change
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008_poll_indexes"
down_revision = "0007_channel_change"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_item_source_checked", "item", ["source", "checked_at"])
    op.create_index("ix_item_source_missing", "item", ["source", "missing_polls"])


def downgrade() -> None:
    op.drop_index("ix_item_source_missing", table_name="item")
    op.drop_index("ix_item_source_checked", table_name="item")
