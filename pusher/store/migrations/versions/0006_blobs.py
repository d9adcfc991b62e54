"""blob: files every node reads, whoever wrote them (pages, exports, video), as chunk rows

Revision ID: 0006_blobs
Revises: 0005_asrun
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_blobs"
down_revision = "0005_asrun"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", "seq"),
    )


def downgrade() -> None:
    op.drop_table("blob")
