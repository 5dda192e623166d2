"""direct mail print batches

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kizuna.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dm_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scenario_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("size", sa.String(length=64), nullable=False),
        sa.Column("out_dir", sa.String(length=1000), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", kizuna.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", kizuna.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_dm_batches_scenario_id_scenarios"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dm_batches")),
        sa.UniqueConstraint("name", name=op.f("uq_dm_batches_name")),
    )


def downgrade() -> None:
    op.drop_table("dm_batches")
