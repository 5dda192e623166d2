"""What counts as a purchase: every order but those cancelled, refunded or returned.

An order's ``status`` is free text, kept in lower case: imports keep what the file says (``completed``,
``shipped``, ``delivered`` ...), the tracking API writes ``completed`` for Order Completed and turns Order
Cancelled and a full Order Refunded into ``cancelled`` and ``refunded``. Segments, recommenders, customer
value, measurement, attribution, date triggers and cookie audiences all read purchases through
:func:`is_purchase` (SQL) or :func:`status_is_purchase` (Python), so a cancelled order is no purchase anywhere
and a shipped one is one everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import ColumnElement

#: Statuses of orders that are no purchase (lower case, as statuses are stored).
NOT_PURCHASES = ("cancelled", "canceled", "refunded", "returned")


def normalise_status(status: str | None) -> str:
    """A status as stored: trimmed and in lower case; ``completed`` when none is given."""
    text = (status or "").strip().lower()
    return text or "completed"


def status_is_purchase(status: str | None) -> bool:
    """Whether an order with this status is a purchase."""
    return normalise_status(status) not in NOT_PURCHASES


def is_purchase(status: Any) -> ColumnElement[bool]:
    """SQL: whether the order whose status column is ``status`` is a purchase."""
    expression: ColumnElement[bool] = status.not_in(NOT_PURCHASES)
    return expression


#: A refund within this much of the order's total refunds all of it.
WHOLE_REFUND_TOLERANCE = 0.005


def refunds_all(refund: float | None, total: float | None) -> bool:
    """Whether a refund (None: of an unstated amount) takes back the whole order of ``total``."""
    return refund is None or total is None or refund >= total - WHOLE_REFUND_TOLERANCE
