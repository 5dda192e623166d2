"""Conditions on what customers did on the site and in the app: events counted in a window, and products
viewed but not bought since, each as a set of customer ids.

Events of anonymous visitors (no ``customer_id``) never count. ``Product Viewed`` events name their product
as Segment's e-commerce spec does: ``sku`` in the properties, else ``product_id`` (as the tracking API and the
demo store write them), matched to ``products.sku``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, func, not_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kizuna.segments.compare import holds, json_equals, number_test
from kizuna.segments.conditions import EventCondition, ViewedNotBoughtCondition
from kizuna.segments.purchases import product_ids
from kizuna.segments.sets import ID, ColumnLike, Members, Scope
from kizuna.segments.sqlfuncs import json_field, json_value, no_index
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Event, Order, OrderLine, Product

#: The event that says a customer looked at a product.
PRODUCT_VIEWED = "Product Viewed"


def _event_filters(scope: Scope, name: str, within_days: int | None) -> list[ColumnElement[bool]]:
    """Events of ``name`` by known customers in scope, within the window."""
    named: ColumnLike = Event.name
    if scope.customer_ids is not None:
        named = no_index(Event.name)  # a few customers: read their events, not every event of the name
    filters = [named == name, Event.customer_id.is_not(None), *scope.restrict(Event.customer_id)]
    since = scope.since(within_days)
    return filters if since is None else [*filters, Event.occurred_at >= since]


def event_members(condition: EventCondition, scope: Scope, place: str) -> Members:
    """Customers whose number of matching events in the window passes ``count`` (default: at least one).

    ``where`` compares each property within its JSON type, as attribute comparisons do.
    """
    ops = condition.count.operators()
    filters = _event_filters(scope, condition.event, condition.within_days)
    filters += [json_equals(Event.properties, key, value) for key, value in condition.where.items()]
    if ops in ({"gte": 1}, {"gt": 0}):
        return Members(select(Event.customer_id.label(ID)).where(*filters), distinct=False)
    count = func.count()
    passes = number_test(count, ops, f"{place} count")

    def grouped(having: ColumnElement[bool]) -> Select[Any]:
        return select(Event.customer_id.label(ID)).where(*filters).group_by(Event.customer_id).having(having)

    if not holds(0, ops, f"{place} count"):
        return Members(grouped(passes))
    # Zero events pass: everyone but the customers whose (non-zero) count fails.
    return Members(grouped(not_(passes)), negated=True)


def viewed_sku() -> ColumnElement[Any]:
    """The SKU a product event names: ``sku``, else ``product_id``."""
    return func.coalesce(
        json_field(json_value, Event.properties, "sku"),
        json_field(json_value, Event.properties, "product_id"),
    )


def viewed_not_bought_members(condition: ViewedNotBoughtCondition, scope: Scope) -> Members:
    """Customers who viewed the product (or one in the category) within the window and have no counted
    order of that same product at or after the view."""
    target = condition.viewed_not_bought
    order, line = aliased(Order), aliased(OrderLine)
    bought_since = exists().where(
        order.customer_id == Event.customer_id,
        is_purchase(order.status),
        order.ordered_at >= Event.occurred_at,
        line.order_id == order.id,
        # Through the order's own lines, not every line of the product (SQLite would pick either).
        no_index(line.product_id) == Product.id,
    )
    which = Product.sku == target.product if target.product else Product.id.in_(product_ids(target))
    query = (
        select(Event.customer_id.label(ID))
        .join(Product, Product.sku == viewed_sku())
        .where(*_event_filters(scope, PRODUCT_VIEWED, target.within_days), which, not_(bought_since))
    )
    return Members(query, distinct=False)
