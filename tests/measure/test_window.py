"""Orders in a measurement window, answered for many (customer, moment) pairs at once, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from kizuna.measure.window import OrderWindows
from kizuna.store import Store
from kizuna.store.epoch import epoch_micros, from_micros, micros
from kizuna.store.tables import Customer, Order

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _order(store: Store, customer: int, at: datetime, total: float, status: str = "completed") -> None:
    with store.session() as session, session.begin():
        n = len(session.scalars(select(Order.id)).all())
        session.add(
            Order(external_id=f"o{n}", customer_id=customer, ordered_at=at, total=total, status=status)
        )


def test_moments_travel_as_exact_microseconds(store: Store) -> None:
    with store.session() as session, session.begin():
        session.add(Customer(external_id="a"))
    with store.session() as session:
        [cid] = session.scalars(select(Customer.id)).all()
    _order(store, cid, T0, 10)
    with store.session() as session:
        stored = session.scalar(select(epoch_micros(session, Order.ordered_at)))
    assert stored == micros(T0) and from_micros(micros(T0)) == T0


def test_the_window_holds_orders_after_the_moment_up_to_its_end(store: Store) -> None:
    with store.session() as session, session.begin():
        session.add_all([Customer(external_id="a"), Customer(external_id="b")])
    with store.session() as session:
        a, b = session.scalars(select(Customer.id).order_by(Customer.id)).all()
    week = timedelta(days=7)
    _order(store, a, T0, 1)  # at the moment itself: not after it
    _order(store, a, T0 + timedelta(microseconds=1), 10)
    _order(store, a, T0 + week, 100)  # exactly at the end: counts
    _order(store, a, T0 + week + timedelta(microseconds=1), 1_000)  # just past it
    _order(store, a, T0 + timedelta(days=1), 5_000, status="Cancelled")  # no purchase
    _order(store, b, T0 + timedelta(days=2), 7.25)
    with store.session() as session:
        windows = OrderWindows.load(session, [a, b], T0, T0 + timedelta(days=3), 7)
    customers = np.array([a, a, b, b, a], dtype=np.int64)
    moments = np.array([micros(m) for m in (T0, T0 + timedelta(days=3), T0, T0 + timedelta(days=2), T0)])
    counts, revenue = windows.totals(customers, moments)
    assert counts.tolist() == [2, 2, 1, 0, 2]
    assert revenue.tolist() == pytest.approx([110, 1_100, 7.25, 0, 110])
    empty = OrderWindows.load(session, [], T0, T0, 7)
    assert empty.totals(np.array([a]), np.array([micros(T0)]))[0].tolist() == [0]
