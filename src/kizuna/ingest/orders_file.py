"""Orders from a line-level file: one row per order line, grouped into orders by order id."""

from __future__ import annotations

from collections.abc import Iterator

from kizuna.errors import ImportDataError
from kizuna.ingest.context import ImportContext, Record
from kizuna.ingest.writer import StoreWriter

_ORDER_FIELDS = ("channel", "status", "currency", "coupon_code", "shipping", "tax")


def write_orders_file(writer: StoreWriter, records: Iterator[tuple[int, Record]], ctx: ImportContext) -> None:
    """Group lines into orders, check every product exists, and write orders with computed totals.

    Unknown customers are created as minimal profiles (orders often arrive before the CRM export); an unknown
    product is an error, since a line must say what was bought.
    """
    orders: dict[str, Record] = {}
    lines: list[Record] = []
    line_of_sku: dict[str, int] = {}
    for line, r in records:
        key = r["external_id"]
        order = orders.get(key)
        if order is None:
            order = {
                "external_id": key,
                "customer_external_id": r["customer_external_id"],
                "ordered_at": r["ordered_at"],
                "attributes": r["_extra"],
                "_lines": 0,
            }
            for name in _ORDER_FIELDS:
                if r.get(name) is not None:
                    order[name] = r[name]
            orders[key] = order
        elif order["customer_external_id"] != r["customer_external_id"]:
            raise ImportDataError(
                ctx.path,
                f"order {key!r} has lines for two customers",
                line=line,
                column="customer_id",
                unit=ctx.unit,
                expected=f"the same customer as earlier lines ({order['customer_external_id']})",
            )
        order["_lines"] += 1
        lines.append(_line(r, line, order["_lines"], ctx))
        line_of_sku.setdefault(r["sku"], line)
        ctx.progress.advance()

    products = writer.product_ids(line_of_sku)
    for sku, line in line_of_sku.items():
        if sku not in products:
            raise ImportDataError(
                ctx.path,
                f"unknown product {sku!r}",
                line=line,
                column="sku",
                unit=ctx.unit,
                expected="the SKU of a product already imported (import products first)",
            )
    writer.customer_ids((o["customer_external_id"] for o in orders.values()), create_missing=True)

    by_order: dict[str, list[Record]] = {}
    for ln in lines:
        by_order.setdefault(ln["order_external_id"], []).append(ln)
    order_rows = []
    for key, order in orders.items():
        del order["_lines"]
        items = by_order[key]
        subtotal = sum(ln["quantity"] * ln["unit_price"] for ln in items)
        discount = sum(ln["discount"] for ln in items)
        order["subtotal"] = round(subtotal, 2)
        order["discount"] = round(discount, 2)
        order.setdefault("currency", ctx.settings.default_currency)
        order["total"] = round(subtotal - discount + order.get("shipping", 0.0) + order.get("tax", 0.0), 2)
        order_rows.append(order)
    writer.write_orders(order_rows, lines)


def _line(r: Record, line: int, line_no: int, ctx: ImportContext) -> Record:
    quantity = 1 if r.get("quantity") is None else r["quantity"]
    discount = r.get("discount") or 0.0
    unit_price, amount = r.get("unit_price"), r.get("amount")
    if unit_price is None and amount is None:
        raise ImportDataError(
            ctx.path,
            "a line with neither a unit price nor an amount",
            line=line,
            column="unit_price",
            unit=ctx.unit,
            expected="a unit_price or an amount column",
        )
    if unit_price is None:
        unit_price = (float(amount or 0.0) + discount) / quantity if quantity else 0.0
    if amount is None:
        amount = quantity * unit_price - discount
    return {
        "order_external_id": r["external_id"],
        "line_no": line_no,
        "sku": r["sku"],
        "quantity": quantity,
        "unit_price": round(unit_price, 2),
        "discount": round(discount, 2),
        "amount": round(amount, 2),
    }
