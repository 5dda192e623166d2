"""Orders in a measurement window: what a customer bought in the days after a moment (entering a scenario,
receiving a message).

Orders are read once for the customers concerned (through ``ix_orders_customer_id_ordered_at``), then each
moment is answered from memory by binary search, so the same rule holds on SQLite and PostgreSQL: an order
counts when it is a purchase (``kizuna.store.orders``: not cancelled, refunded or returned) and placed after
the moment and no later than ``days`` days after it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.store.bulk import among
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Order


class OrderWindows:
    """The counted orders of some customers between two moments, answered per (customer, moment)."""

    def __init__(self, orders: dict[int, list[tuple[datetime, float]]], days: float) -> None:
        self.days = days
        self._times: dict[int, list[datetime]] = {}
        self._cumulative: dict[int, list[float]] = {}
        for customer, rows in orders.items():
            rows.sort()
            self._times[customer] = [t for t, _ in rows]
            self._cumulative[customer] = [0.0, *accumulate(total for _, total in rows)]

    @classmethod
    def load(
        cls, session: Session, customer_ids: Iterable[int], start: datetime, end: datetime, days: float
    ) -> OrderWindows:
        """Read the counted orders of ``customer_ids`` placed after ``start`` and up to ``end`` plus
        ``days`` days."""
        until = end + timedelta(days=days)
        found: dict[int, list[tuple[datetime, float]]] = {}
        for these in among(session, Order.customer_id, customer_ids):
            rows = session.execute(
                select(Order.customer_id, Order.ordered_at, Order.total).where(
                    these, is_purchase(Order.status), Order.ordered_at > start, Order.ordered_at <= until
                )
            )
            for customer, moment, total in rows:
                found.setdefault(int(customer), []).append((moment, float(total or 0)))
        return cls(found, days)

    def after(self, customer_id: int, moment: datetime) -> tuple[int, float]:
        """How many orders the customer placed in the window after ``moment``, and their total."""
        times = self._times.get(customer_id)
        if not times:
            return 0, 0.0
        first = bisect_right(times, moment)
        last = bisect_right(times, moment + timedelta(days=self.days))
        sums = self._cumulative[customer_id]
        return last - first, sums[last] - sums[first]
