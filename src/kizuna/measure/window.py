"""Orders in a measurement window: what customers bought in the days after a moment (entering a scenario,
receiving a message).

An order counts when it is a purchase (``kizuna.store.orders``: not cancelled, refunded or returned) and
placed after the moment and no later than ``days`` days after it, the same on SQLite and PostgreSQL. Moments
travel as whole microseconds since 1970 (``kizuna.store.epoch``, computed by the database), so comparisons are
exact and no datetime object is built per row; the orders of the customers concerned are read once (through
``ix_orders_customer_id_ordered_at``) and every (customer, moment) is answered at once by NumPy
(:func:`OrderWindows.totals`): at a million customers a scenario's half a million runs are measured in about
a second, and the interpreter is free for the pages served beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, cast, select
from sqlalchemy.orm import Session

from kizuna.store.bulk import among
from kizuna.store.epoch import MICROS_PER_DAY, epoch_micros, from_micros
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Order

#: From this many customers, a window's orders are read by time rather than by customer.
BY_PERIOD_FROM = 10_000

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


def orders_after(session: Session, customers: Ints, moments: Ints, days: float) -> tuple[Ints, Floats]:
    """Per (customer, moment in epoch microseconds): the purchases in the ``days`` after the moment, and
    their total. What measurement asks of a scenario's runs and of its deliveries alike."""
    if len(customers) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    first, last = from_micros(int(moments.min())), from_micros(int(moments.max()))
    return OrderWindows.load(session, customers, first, last, days).totals(customers, moments)


class OrderWindows:
    """The counted orders of some customers between two moments, as arrays sorted by customer and time."""

    def __init__(self, customers: Ints, times: Ints, totals: Floats, days: float) -> None:
        order = np.lexsort((times, customers))
        self.customers, self.times, self.amounts = customers[order], times[order], totals[order]
        self.days = days
        self.width = round(days * MICROS_PER_DAY)

    @classmethod
    def load(
        cls, session: Session, customer_ids: Iterable[int] | Ints, start: datetime, end: datetime, days: float
    ) -> OrderWindows:
        """Read the counted orders of ``customer_ids`` placed after ``start`` and up to ``end`` plus
        ``days`` days.

        For many customers the period's orders are read by time (``ix_orders_ordered_at``) and kept when
        their customer is wanted, instead of sending every id to the database.
        """
        until = end + timedelta(days=days)
        wanted = np.unique(np.fromiter(customer_ids, dtype=np.int64))
        columns = (Order.customer_id, epoch_micros(session, Order.ordered_at), cast(Order.total, Float))
        period = (is_purchase(Order.status), Order.ordered_at > start, Order.ordered_at <= until)
        rows: list[tuple[int, int, float | None]] = []
        if len(wanted) > BY_PERIOD_FROM:
            rows.extend(session.connection().execute(select(*columns).where(*period)).tuples())
        else:
            for these in among(session, Order.customer_id, wanted.tolist()):
                rows.extend(session.connection().execute(select(*columns).where(these, *period)).tuples())
        customers = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        times = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        totals = np.fromiter((r[2] or 0.0 for r in rows), dtype=np.float64, count=len(rows))
        keep = np.isin(customers, wanted)
        return cls(customers[keep], times[keep], totals[keep], days)

    def totals(self, customers: Ints, moments: Ints) -> tuple[Ints, Floats]:
        """Per (customer, moment in microseconds), the orders in the window after it and their total."""
        count_to_end, total_to_end = self._up_to(customers, moments + self.width)
        count_to_start, total_to_start = self._up_to(customers, moments)
        revenue = np.round(total_to_end - total_to_start, 6)  # cumulative sums: drop the rounding noise
        return count_to_end - count_to_start, revenue

    def _up_to(self, customers: Ints, moments: Ints) -> tuple[Ints, Floats]:
        """Per query, the count and total of the customer's orders placed at or before the moment.

        Orders and queries are sorted together by customer, then time, orders first at equal times (at or
        before); a query's answer is then the orders seen since its customer's first row.
        """
        n, m = len(self.customers), len(customers)
        keys_c = np.concatenate([self.customers, customers])
        keys_t = np.concatenate([self.times, moments])
        is_query = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(m, dtype=np.int8)])
        order = np.lexsort((is_query, keys_t, keys_c))
        sorted_c = keys_c[order]
        orders_seen = np.cumsum(is_query[order] == 0)
        money = np.cumsum(np.concatenate([self.amounts, np.zeros(m)])[order])
        first = np.flatnonzero(np.r_[True, sorted_c[1:] != sorted_c[:-1]])
        group_start = np.repeat(first, np.diff(np.r_[first, len(sorted_c)]))
        before_count = np.where(group_start > 0, orders_seen[group_start - 1], 0)
        before_money = np.where(group_start > 0, money[group_start - 1], 0.0)
        counts = np.empty(m, dtype=np.int64)
        totals = np.empty(m, dtype=np.float64)
        query_rows = np.flatnonzero(is_query[order] == 1)
        positions = order[query_rows] - n
        counts[positions] = orders_seen[query_rows] - before_count[query_rows]
        totals[positions] = money[query_rows] - before_money[query_rows]
        return counts, totals
