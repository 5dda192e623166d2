"""Conditions on what customers bought: measures (recency, frequency, monetary ...), products and
categories bought, active subscriptions and trial-only buyers, each as a set of customer ids.

Only purchases count (:func:`kizuna.store.orders.is_purchase`): cancelled, refunded or returned orders are
none. Windows (``within_days``) keep the orders placed at or after ``now`` minus that many days.

Measures group the orders by customer in one pass ("fewer than N days since the last order" reads only the
orders after the bound); what was bought starts from the product's lines (``ix_order_lines_product_id``);
when the scope names a few customers, only their orders are read (``ix_orders_customer_id_ordered_at``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, exists, func, literal, not_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kizuna.segments.compare import days_lower_bound, days_test, holds, number_test
from kizuna.segments.conditions import (
    BoughtCondition,
    MeasureCondition,
    ProductTarget,
    SubscriptionCondition,
    TrialOnlyCondition,
)
from kizuna.segments.sets import ID, ColumnLike, Members, Scope, all_of, nobody
from kizuna.segments.sqlfuncs import no_index
from kizuna.store.categories import under_category
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Order, OrderLine, Product

_ALIASES = {"recency": "days_since_last_order", "frequency": "orders"}


def _order_filters(scope: Scope, within_days: int | None, orders: Any = Order) -> list[ColumnElement[bool]]:
    since = scope.since(within_days)
    filters = [is_purchase(orders.status), *scope.restrict(orders.customer_id)]
    return filters if since is None else [*filters, orders.ordered_at >= since]


def _grouped(filters: list[ColumnElement[bool]], having: ColumnElement[bool]) -> Select[Any]:
    return select(Order.customer_id.label(ID)).where(*filters).group_by(Order.customer_id).having(having)


def measure_members(condition: MeasureCondition, scope: Scope, place: str) -> Members:
    """Customers whose measure passes the comparison (see :class:`MeasureCondition` for customers with no
    order: no recency or average, zero count and spend)."""
    ops = dict(condition.operators())
    exists_given = ops.pop("exists", None)
    filters = _order_filters(scope, condition.within_days)
    buyers = Members(select(Order.customer_id.label(ID)).where(*filters), distinct=False)
    if exists_given is False:
        return nobody() if ops else buyers.invert()
    if not ops:
        return buyers
    measure = _ALIASES.get(condition.measure, condition.measure)
    if measure in ("days_since_last_order", "days_since_first_order"):
        return _age_members(measure, ops, condition.within_days, scope, place)
    if measure == "average_order_value":
        average = func.sum(Order.total) * literal(1.0) / func.count()
        return Members(_grouped(filters, number_test(average, ops, place)))
    if measure == "orders" and ops in ({"gte": 1}, {"gt": 0}):
        return buyers  # at least one order: no need to count them
    value = func.count() if measure == "orders" else func.coalesce(func.sum(Order.total), 0)
    if not holds(0, ops, place):
        return Members(_grouped(filters, number_test(value, ops, place)))
    # Zero passes, so customers without (windowed) orders belong: take everyone but those who fail.
    failing = Members(_grouped(filters, not_(number_test(value, ops, place))), negated=True)
    return all_of([buyers, failing]) if exists_given else failing


def _age_members(
    measure: str, ops: dict[str, Any], within_days: int | None, scope: Scope, place: str
) -> Members:
    last = measure == "days_since_last_order"
    filters = _order_filters(scope, within_days)
    bound = days_lower_bound(ops, scope.now, place)
    if bound is None:
        moment = func.max(Order.ordered_at) if last else func.min(Order.ordered_at)
        return Members(_grouped(filters, days_test(moment, ops, scope.now, place)))
    # "Fewer than N days": an order after the bound (and, for the first order, none before it), which
    # reads only the recent orders instead of grouping them all.
    recent = select(Order.customer_id.label(ID)).where(*filters, Order.ordered_at > bound)
    if not last:
        earlier = aliased(Order)
        before = exists().where(
            earlier.customer_id == Order.customer_id,
            *_order_filters(Scope(scope.now), within_days, earlier),
            earlier.ordered_at <= bound,
        )
        recent = recent.where(not_(before))
    return Members(recent, distinct=False)


def product_ids(target: ProductTarget) -> Select[Any]:
    """The ids of the products ``target`` names: one SKU, or every product in the category."""
    if target.product is not None:
        return select(Product.id).where(Product.sku == target.product)
    assert target.category is not None
    return select(Product.id).where(under_category(Product.category_path, target.category))


def _bought(scope: Scope, within_days: int | None, products: Select[Any]) -> Members:
    """Customers with a counted order line of one of ``products`` (ids), in the window."""
    product: ColumnLike = OrderLine.product_id
    if scope.customer_ids is not None:
        product = no_index(OrderLine.product_id)  # a few customers: read their orders, not every line
    query = (
        select(Order.customer_id.label(ID))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(product.in_(products), *_order_filters(scope, within_days))
    )
    return Members(query, distinct=False)


def bought_members(condition: BoughtCondition, scope: Scope) -> Members:
    """Customers with a counted order of the product, or of anything in the category."""
    target = condition.bought
    return _bought(scope, target.within_days, product_ids(target))


def subscription_members(condition: SubscriptionCondition, scope: Scope) -> Members:
    """Customers with a counted order of a subscription product within the condition's days."""
    plans = select(Product.id).where(Product.is_subscription.is_(True))
    members = _bought(scope, condition.within_days, plans)
    return members if condition.active_subscription else members.invert()


def trial_only_members(condition: TrialOnlyCondition, scope: Scope) -> Members:
    """Customers who ordered a trial item and nothing else (every counted order line is a trial item)."""
    trials = select(Product.id).where(Product.is_trial.is_(True))
    # Only the trial buyers' own lines are grouped (through the customer index), never every buyer's.
    trial_buyers = _bought(scope, None, trials).query
    other_lines = func.sum(case((OrderLine.product_id.in_(trials), 0), else_=1))
    query = (
        select(Order.customer_id.label(ID))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.customer_id.in_(trial_buyers), *_order_filters(scope, None))
        .group_by(Order.customer_id)
        .having(other_lines == 0)
    )
    members = Members(query)
    return members if condition.trial_only else members.invert()
