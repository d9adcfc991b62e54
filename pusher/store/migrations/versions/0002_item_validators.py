"""item: detail-page validators and last check time (conditional re-checks of known items)

Revision ID: 0002_item_validators
Revises: 0001
Create Date: 2026-11-27 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_item_validators"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validators", sa.Text(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
        batch_op.drop_column("validators")
