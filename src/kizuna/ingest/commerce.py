"""What the e-commerce spec events tell about the catalogue and the orders.

Product events (Product Viewed, Product Added ...) and the products listed by Cart Viewed, Checkout Started
and Order Completed add unknown products to the catalogue and refresh the name, price, category, brand and
image of known ones (``sku``, else ``product_id``, is the product's SKU in kizuna). Order Completed writes the
order and its lines once per ``order_id``: sending it again, or an order already imported from a file under
the same id, adds nothing.

Order Cancelled makes the order ``cancelled``; Order Refunded makes it ``refunded`` when the refund (its
``total``) is the whole order or is not given, and otherwise adds the amount to the order's
``attributes.refunded`` (it stays a purchase, of its original total). Either is then no purchase anywhere
(:mod:`kizuna.store.orders`). Only the customer's own orders change: an event naming an order the store does
not hold for that customer (unknown, or someone else's) changes nothing and says so in the batch's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from kizuna.ingest.lookups import products_by_sku
from kizuna.ingest.segment import CartFields, OrderChangeFields, OrderFields, ProductFields
from kizuna.store.bulk import insert_ignore, key_map
from kizuna.store.orders import refunds_all
from kizuna.store.tables import Order, OrderLine, Product, table_of


@dataclass
class PlacedOrder:
    """An Order Completed event with the customer it belongs to."""

    fields: OrderFields
    customer_id: int | None
    at: datetime
    channel: str


@dataclass
class OrderChange:
    """An Order Cancelled or Order Refunded event with the customer it belongs to."""

    event: str
    fields: OrderChangeFields
    customer_id: int | None
    at: datetime


def change_orders(conn: Connection, changes: Sequence[OrderChange]) -> list[str | None]:
    """Cancel or refund each change's order, in the order they happened; per change, None when it was
    applied, else why not."""
    keys = {c.fields.order_id for c in changes}
    query = select(Order.id, Order.external_id, Order.customer_id, Order.total, Order.attributes)
    stored = {r.external_id: r for r in conn.execute(query.where(Order.external_id.in_(keys)))}
    changed: dict[str, dict[str, Any]] = {}  # order id → the columns to write
    outcome: list[str | None] = [None] * len(changes)
    for k in sorted(range(len(changes)), key=lambda k: changes[k].at):
        change, key = changes[k], changes[k].fields.order_id
        order = stored.get(key)
        if order is None or change.customer_id is None or order.customer_id != change.customer_id:
            outcome[k] = (
                f"order {key} was not changed by {change.event}: "
                "the store holds no such order of this customer"
            )
            continue
        values = changed.setdefault(key, {"attributes": dict(order.attributes or {})})
        refund = change.fields.total
        if change.event == "Order Cancelled":
            values["status"] = "cancelled"
        elif refund is None or refunds_all(refund, float(order.total or 0)):
            values["status"] = "refunded"
        else:
            attributes = values["attributes"]
            attributes["refunded"] = round(float(attributes.get("refunded", 0.0)) + refund, 2)
    for key, values in changed.items():
        conn.execute(update(Order).where(Order.id == stored[key].id).values(**values))
    return outcome


def _product_row(product: ProductFields, currency: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"sku": product.key}
    if product.name is not None:
        row["title"] = product.name
    if product.price is not None:
        row["price"] = product.price
    if product.category is not None:
        row["category_path"] = product.category
    if product.brand is not None:
        row["brand"] = product.brand
    if product.image_url is not None:
        row["image_url"] = product.image_url
    if product.currency is not None or currency is not None:
        row["currency"] = product.currency or currency
    return row


def products_of(spec: ProductFields | CartFields) -> list[dict[str, Any]]:
    """Product rows (SKU plus the fields that were sent) from one event's checked properties."""
    if isinstance(spec, ProductFields):
        return [_product_row(spec, None)]
    return [_product_row(p, spec.currency) for p in spec.products]


def upsert_products(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> set[str]:
    """Add unknown products and refresh the sent fields of known ones; the latest mention of a SKU wins.

    Returns the SKUs of the products added or changed. Products whose sent fields already hold those values
    are left alone: most events name products the catalogue knows, and one read spares a write for each.
    """
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        latest[row["sku"]] = {**latest.get(row["sku"], {}), **row}
    stored = products_by_sku(conn, latest)
    # In SKU order: concurrent writers then lock products in one order and cannot deadlock.
    changed = [
        row
        for sku, row in sorted(latest.items())
        if sku not in stored or any(stored[sku][c] != v for c, v in row.items() if c != "sku")
    ]
    # One statement per set of sent fields: a batch upsert needs every row to carry the same columns.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changed:
        full = {"title": row["sku"], **row, "updated_at": now}
        by_shape.setdefault(tuple(sorted(row)), []).append(full)
    products = table_of(Product)
    defaults = {
        "attributes": {},
        "in_stock": True,
        "is_trial": False,
        "is_subscription": False,
        "created_at": now,
    }
    for shape, group in by_shape.items():
        update = [c for c in shape if c != "sku"] + ["updated_at"]
        insert_ignore(conn, products, [{**defaults, **r} for r in group], update=update, conflict=["sku"])
    return {row["sku"] for row in changed}


def write_orders(conn: Connection, placed: Sequence[PlacedOrder]) -> set[str]:
    """Write each order not yet in the store, with its lines; returns the order ids written.

    Every order must have a customer: the caller decides what happens to those of unknown visitors.
    """
    firsts: dict[str, PlacedOrder] = {}
    for p in sorted(placed, key=lambda p: p.fields.order_id):
        assert p.customer_id is not None, "orders need a customer"
        firsts.setdefault(p.fields.order_id, p)
    existing = key_map(conn, Order.external_id, Order.id, firsts)
    new = [p for key, p in firsts.items() if key not in existing]
    if not new:
        return set()
    rows = []
    for p in new:
        f = p.fields
        lines_total = sum((x.price or 0.0) * x.quantity for x in f.products)
        subtotal = next((x for x in (f.subtotal, f.revenue) if x is not None), lines_total)
        total = f.total if f.total is not None else subtotal - f.discount + f.shipping + f.tax
        rows.append(
            {
                "external_id": f.order_id,
                "customer_id": p.customer_id,
                "ordered_at": p.at,
                "channel": p.channel,
                "status": "completed",
                "currency": f.currency,
                "subtotal": subtotal,
                "discount": f.discount,
                "shipping": f.shipping,
                "tax": f.tax,
                "total": total,
                "coupon_code": f.coupon,
                "attributes": {"source": "tracking"},
            }
        )
    insert_ignore(conn, table_of(Order), rows)
    ids = key_map(conn, Order.external_id, Order.id, (p.fields.order_id for p in new))
    skus = key_map(conn, Product.sku, Product.id, (x.key for p in new for x in p.fields.products))
    lines = [
        {
            "order_id": ids[p.fields.order_id],
            "line_no": n,
            "product_id": skus[x.key],
            "quantity": x.quantity,
            "unit_price": x.price or 0.0,
            "discount": 0.0,
            "amount": (x.price or 0.0) * x.quantity,
        }
        for p in new
        for n, x in enumerate(p.fields.products, start=1)
    ]
    insert_ignore(conn, table_of(OrderLine), lines)
    return {p.fields.order_id for p in new}
