"""consent decisions of anonymous visitors

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kizuna.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visitor_consents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("anonymous_id", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("policy_version", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", kizuna.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitor_consents")),
    )
    with op.batch_alter_table("visitor_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visitor_consents_anonymous_id_purpose_recorded_at",
            ["anonymous_id", "purpose", "recorded_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("visitor_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_visitor_consents_anonymous_id_purpose_recorded_at")
    op.drop_table("visitor_consents")
