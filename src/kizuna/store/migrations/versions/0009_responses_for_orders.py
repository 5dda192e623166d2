"""responses for orders: the order a redeem or order response stands for, once per kind

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_responses_order_id_orders"), "orders", ["order_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_unique_constraint(batch_op.f("uq_responses_order_id"), ["order_id", "kind"])


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_responses_order_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_responses_order_id_orders"), type_="foreignkey")
        batch_op.drop_column("order_id")
