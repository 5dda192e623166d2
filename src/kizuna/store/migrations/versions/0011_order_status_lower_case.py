"""order statuses in lower case, as every reader of purchases compares them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Imports now store statuses trimmed and in lower case (kizuna.store.orders.normalise_status); bring
    # the orders written before in line. Nothing to do on a store whose statuses already are.
    op.execute("UPDATE orders SET status = lower(trim(status)) WHERE status <> lower(trim(status))")
    op.execute("UPDATE orders SET status = 'completed' WHERE status = ''")


def downgrade() -> None:
    # Lower case is a valid status too: nothing to undo.
    pass
