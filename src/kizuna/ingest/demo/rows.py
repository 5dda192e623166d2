"""Rendering generated blocks as table rows, and writing them through the sink.

External keys are deterministic: customers ``demo-0000042``, orders ``demo-o-0000042-003`` (the customer's
third order), events ``demo-e-0000042-0007``. Fixed-width numbers make each write batch one contiguous key
range, so ids come back with one range query per table. Consent history is append-only, so it is written
only for customers this run created: re-running adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from kizuna.ingest.demo.block import ACQUISITION, Block, only
from kizuna.ingest.demo.catalogue import Catalogue
from kizuna.ingest.demo.categories import CATEGORIES
from kizuna.ingest.demo.consents import POLICY_VERSION, PURPOSES, SOURCES, STATUSES
from kizuna.ingest.demo.events import CHECKOUT, COMPLETED, EVENT_NAMES, PAGE
from kizuna.ingest.demo.orders import COUPONS
from kizuna.ingest.demo.sink import Sink
from kizuna.ingest.demo.traits import CHANNELS
from kizuna.store.tables import Customer, Order

SHOP = "きずなマルシェ"
SHOP_URL = "https://shop.example.jp"
IDENTITY_KIND = "anonymous_id"

CUSTOMER_COLUMNS = (
    "external_id", "name", "name_kana", "email", "phone", "postal_code", "country", "prefecture",
    "city", "address_line1", "address_line2", "birth_date", "gender", "timezone", "attributes",
    "created_at", "updated_at",
)  # fmt: skip
IDENTITY_COLUMNS = ("customer_id", "kind", "value", "first_seen_at", "last_seen_at")
ORDER_COLUMNS = (
    "external_id", "customer_id", "ordered_at", "channel", "status", "currency", "subtotal",
    "discount", "shipping", "tax", "total", "coupon_code", "attributes",
)  # fmt: skip
LINE_COLUMNS = (
    "order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "amount",
)  # fmt: skip
EVENT_COLUMNS = (
    "message_id", "type", "name", "customer_id", "anonymous_id", "occurred_at", "received_at",
    "properties", "context",
)  # fmt: skip
CONSENT_COLUMNS = ("customer_id", "purpose", "status", "source", "policy_version", "recorded_at")

#: Spend (yen, whole window) from which a customer reaches each member rank.
RANKS = ((100_000, "platinum"), (40_000, "gold"), (15_000, "silver"), (0, "regular"))

# Kept short: events are the biggest table by far.
_CONTEXT = (
    json.dumps({"library": {"name": "analytics.js"}}),
    json.dumps({"library": {"name": "analytics-ios"}}),
)
_HOME = json.dumps(
    {"path": "/", "url": f"{SHOP_URL}/", "title": f"{SHOP} | 公式オンラインショップ"},
    ensure_ascii=False,
)
_CATEGORY_PAGES = [
    json.dumps(
        {
            "path": f"/c/{c.code.lower()}",
            "url": f"{SHOP_URL}/c/{c.code.lower()}",
            "title": f"{c.path.split('/')[1]} | {SHOP}",
            "category": c.path,
        },
        ensure_ascii=False,
    )
    for c in CATEGORIES
]


def customer_key(number: int) -> str:
    """The external id of demo customer ``number`` (1-based)."""
    return f"demo-{number:07d}"


def order_key(number: int, seq: int) -> str:
    """The external id of demo customer ``number``'s ``seq``-th order."""
    return f"demo-o-{number:07d}-{seq:03d}"


def write_blocks(
    sink: Sink,
    blocks: Sequence[Block],
    catalogue: Catalogue,
    product_ids: np.ndarray,
    existing: Collection[str] = (),
) -> None:
    """Write the customers of ``blocks`` and everything they did.

    Customers whose external id is in ``existing`` are left alone, history and all: they were written by
    an earlier run (appending to their orders or consent history would duplicate or mix data).
    """
    if existing:
        blocks = [
            only(b, np.array([customer_key(n) not in existing for n in b.numbers.tolist()])) for b in blocks
        ]
        blocks = [b for b in blocks if len(b)]
    if not blocks:
        return
    low, high = int(blocks[0].numbers[0]), int(blocks[-1].numbers[-1])
    sink.insert("customers", CUSTOMER_COLUMNS, [r for b in blocks for r in _customers(sink, b)])
    ids = sink.ids_between(Customer.external_id, Customer.id, customer_key(low), customer_key(high))
    cids = [np.array([ids[customer_key(n)] for n in b.numbers.tolist()]) for b in blocks]
    order_keys = [
        [
            order_key(n, s)
            for n, s in zip(b.numbers[b.orders.cust].tolist(), b.orders.seq.tolist(), strict=True)
        ]
        for b in blocks
    ]
    sink.insert(
        "identities",
        IDENTITY_COLUMNS,
        [r for b, c in zip(blocks, cids, strict=True) for r in _identities(sink, b, c)],
    )
    rows = [r for b, c, k in zip(blocks, cids, order_keys, strict=True) for r in _orders(sink, b, c, k)]
    sink.insert("orders", ORDER_COLUMNS, rows)
    oids = sink.ids_between(Order.external_id, Order.id, f"demo-o-{low:07d}", f"demo-o-{high:07d}-~")
    rows = []
    for block, keys in zip(blocks, order_keys, strict=True):
        order_ids = np.array([oids[k] for k in keys], dtype=np.int64)
        rows.extend(_lines(block, order_ids, product_ids))
    sink.insert("order_lines", LINE_COLUMNS, rows)
    rows = []
    for block, cid, keys in zip(blocks, cids, order_keys, strict=True):
        rows.extend(_events(sink, block, cid, keys, catalogue))
    sink.insert("events", EVENT_COLUMNS, rows)
    rows = [r for b, c in zip(blocks, cids, strict=True) for r in _consents(sink, b, c)]
    sink.insert("consents", CONSENT_COLUMNS, rows)


def _customers(sink: Sink, block: Block) -> list[tuple[Any, ...]]:
    n = len(block)
    spend = np.bincount(block.orders.cust, weights=block.orders.total, minlength=n)
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, block.orders.cust, block.orders.at)
    created = sink.stamps(block.signup)
    updated = sink.stamps(np.maximum(block.signup, last))
    attributes = [
        f'{{"member_rank": "{_rank(s)}", "acquisition_channel": "{ACQUISITION[a]}"}}'
        for s, a in zip(spend.tolist(), block.acquisition.tolist(), strict=True)
    ]
    p = block.people
    return list(
        zip(
            [customer_key(x) for x in block.numbers.tolist()],
            p.name, p.name_kana, p.email, p.phone, p.postal_code, ["JP"] * n, p.prefecture,
            p.city, p.address_line1, p.address_line2, p.birth_date, p.gender,
            ["Asia/Tokyo"] * n, attributes, created, updated,
            strict=True,
        )
    )  # fmt: skip


def _rank(spend: float) -> str:
    return next(name for floor, name in RANKS if spend >= floor)


def _identities(sink: Sink, block: Block, cid: np.ndarray) -> list[tuple[Any, ...]]:
    n = len(block)
    first = block.signup.copy()
    last = block.signup.copy()
    ev = block.events
    np.minimum.at(first, ev.cust, ev.at)
    np.maximum.at(last, ev.cust, ev.at)
    np.maximum.at(last, block.orders.cust, block.orders.at)
    return list(
        zip(
            cid.tolist(), [IDENTITY_KIND] * n, block.anonymous_ids, sink.stamps(first),
            sink.stamps(last), strict=True,
        )
    )  # fmt: skip


def _orders(sink: Sink, block: Block, cid: np.ndarray, keys: list[str]) -> list[tuple[Any, ...]]:
    o = block.orders
    attributes = np.array(["{}", '{"trial": true}', '{"subscription": true}'])[o.kind].tolist()
    coupon = [COUPONS[c][0] if c >= 0 else None for c in o.coupon.tolist()]
    n = len(keys)
    return list(
        zip(
            keys, cid[o.cust].tolist(), sink.stamps(o.at), [CHANNELS[c] for c in o.channel.tolist()],
            ["completed"] * n, ["JPY"] * n, o.subtotal.tolist(), o.discount.tolist(),
            o.shipping.tolist(), [0.0] * n, o.total.tolist(), coupon, attributes,
            strict=True,
        )
    )  # fmt: skip


def _lines(block: Block, order_ids: np.ndarray, product_ids: np.ndarray) -> list[tuple[Any, ...]]:
    o = block.orders
    amount = o.unit_price * o.quantity
    n = len(o.product)
    return list(
        zip(
            order_ids[o.line_order].tolist(), o.line_no.tolist(), product_ids[o.product].tolist(),
            o.quantity.tolist(), o.unit_price.tolist(), [0.0] * n, amount.tolist(), strict=True,
        )
    )  # fmt: skip


def _order_products(block: Block, catalogue: Catalogue) -> list[str]:
    """Each order's lines as a Segment ``products`` JSON array."""
    o = block.orders
    fragments = catalogue.line_json
    per_order: list[list[str]] = [[] for _ in range(len(o.cust))]
    for order, product, qty in zip(
        o.line_order.tolist(), o.product.tolist(), o.quantity.tolist(), strict=True
    ):
        per_order[order].append(f'{{{fragments[product]}, "quantity": {qty}}}')
    return ["[" + ", ".join(items) + "]" for items in per_order]


def _events(
    sink: Sink, block: Block, cid: np.ndarray, keys: list[str], catalogue: Catalogue
) -> list[tuple[Any, ...]]:
    ev = block.events
    o = block.orders
    total, subtotal = o.total.tolist(), o.subtotal.tolist()
    discount, shipping, coupons = o.discount.tolist(), o.shipping.tolist(), o.coupon.tolist()
    products = _order_products(block, catalogue)
    fragments = catalogue.event_json
    category = catalogue.category.tolist()
    stamps = sink.stamps(ev.at)
    seq = (np.arange(len(ev.cust)) - np.searchsorted(ev.cust, ev.cust)).tolist()
    numbers = block.numbers.tolist()
    customer_ids = cid.tolist()
    rows: list[tuple[Any, ...]] = []
    for i, (c, name, product, order, channel, anonymous) in enumerate(
        zip(
            ev.cust.tolist(), ev.name.tolist(), ev.product.tolist(), ev.order.tolist(),
            ev.channel.tolist(), ev.anonymous.tolist(), strict=True,
        )
    ):  # fmt: skip
        if name == PAGE:
            props = _HOME if product < 0 else _CATEGORY_PAGES[category[product]]
        elif name == COMPLETED:
            props = (
                f'{{"order_id": "{keys[order]}", "total": {total[order]:.0f}, '
                f'"revenue": {subtotal[order]:.0f}, "discount": {discount[order]:.0f}, '
                f'"shipping": {shipping[order]:.0f}, "tax": 0, "coupon": {_coupon(coupons[order])}, '
                f'"currency": "JPY", "products": {products[order]}}}'
            )
        elif name == CHECKOUT:
            props = (
                f'{{"order_id": "{keys[order]}", "value": {subtotal[order]:.0f}, '
                f'"currency": "JPY", "products": {products[order]}}}'
            )
        else:
            props = f'{{{fragments[product]}, "quantity": 1}}'
        kind, event = EVENT_NAMES[name]
        rows.append(
            (
                f"demo-e-{numbers[c]:07d}-{seq[i]:04d}", kind, event,
                None if anonymous else customer_ids[c], block.anonymous_ids[c], stamps[i],
                stamps[i], props, _CONTEXT[channel],
            )
        )  # fmt: skip
    return rows


def _coupon(index: int) -> str:
    return f'"{COUPONS[index][0]}"' if index >= 0 else "null"


def _consents(sink: Sink, block: Block, cid: np.ndarray) -> list[tuple[Any, ...]]:
    cs = block.consents
    purposes = [purpose.value for purpose, *_ in PURPOSES]
    return [
        (customer_id, purposes[p], STATUSES[s], SOURCES[src], POLICY_VERSION, at)
        for customer_id, p, s, src, at in zip(
            cid[cs.cust].tolist(), cs.purpose.tolist(), cs.status.tolist(), cs.source.tolist(),
            sink.stamps(cs.at), strict=True,
        )
    ]  # fmt: skip
