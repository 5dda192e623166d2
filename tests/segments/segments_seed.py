"""A tiny shop for segment tests: customers, products, orders, events and consents at known times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from kizuna.segments.compiler import matching_ids
from kizuna.segments.conditions import parse_condition
from kizuna.store import Store
from kizuna.store.tables import Consent, Customer, Event, Order, OrderLine, Product

#: The moment every segment test evaluates at.
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    """``days`` before :data:`NOW`."""
    return NOW - timedelta(days=days)


class Shop:
    """Writes rows straight into the store; each method commits and returns the new row's id."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._orders = 0
        self._events = 0

    def _add(self, row: Any) -> int:
        with self.store.session() as session:
            session.add(row)
            session.commit()
            return int(row.id)

    def customer(self, external_id: str, **fields: Any) -> int:
        return self._add(Customer(external_id=external_id, **fields))

    def product(
        self, sku: str, category: str | None = None, *, trial: bool = False, subscription: bool = False
    ) -> int:
        return self._add(
            Product(sku=sku, title=sku, category_path=category, is_trial=trial, is_subscription=subscription)
        )

    def order(
        self, customer_id: int, *skus: str, days_ago: float, total: float = 1_000.0, status: str = "completed"
    ) -> int:
        self._orders += 1
        with self.store.session() as session:
            ids = {p.sku: p.id for p in session.query(Product).filter(Product.sku.in_(skus))}
            order = Order(
                external_id=f"o{self._orders}",
                customer_id=customer_id,
                ordered_at=ago(days_ago),
                status=status,
                total=total,
            )
            order.lines = [OrderLine(line_no=k, product_id=ids[s]) for k, s in enumerate(skus, start=1)]
            session.add(order)
            session.commit()
            return int(order.id)

    def event(self, customer_id: int | None, name: str, *, days_ago: float, **properties: Any) -> int:
        self._events += 1
        return self._add(
            Event(
                message_id=f"m{self._events}",
                type="track",
                name=name,
                customer_id=customer_id,
                anonymous_id=None if customer_id else "anon",
                occurred_at=ago(days_ago),
                properties=properties,
            )
        )

    def consent(self, customer_id: int, purpose: str, status: str, *, days_ago: float) -> int:
        return self._add(
            Consent(customer_id=customer_id, purpose=purpose, status=status, recorded_at=ago(days_ago))
        )


def no_segments(name: str) -> Any:
    """A resolver for conditions that refer to no segment."""
    raise KeyError(name)


def matching(
    store: Store,
    data: Any,
    *,
    now: datetime = NOW,
    customer_ids: list[int] | None = None,
    resolve: Any = no_segments,
) -> set[str]:
    """The external ids of the customers matching condition ``data``."""
    condition = parse_condition(data)
    with store.engine.connect() as conn:
        found = matching_ids(conn, condition, now=now, resolve=resolve, customer_ids=customer_ids)
        names = dict(conn.execute(select(Customer.id, Customer.external_id)).tuples().all())
    return {names[i] for i in found}


def ids_of(store: Store) -> dict[str, int]:
    """Customer ids by external id."""
    with store.engine.connect() as conn:
        return dict(conn.execute(select(Customer.external_id, Customer.id)).tuples().all())
