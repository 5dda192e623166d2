"""The demo store: a deterministic Japanese D2C shop with customers, orders, events and consents.

:func:`generate_demo_store` writes it; the same ``customers``, ``seed`` and ``as_of`` always give the same
rows, and running it again adds nothing. Behaviour follows hidden per-customer preferences (category tastes,
price sensitivity, repeat intervals, lifecycle) that are kept out of the store: :func:`demo_preferences`
returns them, as the answer key for recommenders and segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import func, select

from kizuna.ingest.demo.block import Window, generate_block
from kizuna.ingest.demo.catalogue import build_catalogue
from kizuna.ingest.demo.categories import CATEGORIES
from kizuna.ingest.demo.orders import COUPONS
from kizuna.ingest.demo.rows import customer_key, write_blocks
from kizuna.ingest.demo.sink import Sink
from kizuna.ingest.demo.traits import BLOCK, block_rng, draw_traits
from kizuna.ingest.writer import ImportSummary, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.engine import Store
from kizuna.store.tables import Customer, Event

__all__ = ["MAX_CUSTOMERS", "DemoPreferences", "demo_preferences", "generate_demo_store"]

#: Customer numbers have seven digits.
MAX_CUSTOMERS = 9_999_999
#: Blocks generated and written together; bounds memory to about this many customers' rows.
BLOCKS_PER_WRITE = 20
#: From this many customers (and while the store's existing events are fewer than the new ones will be),
#: SQLite's secondary indexes of the big tables are rebuilt once at the end instead of row by row.
DEFER_INDEXES_FROM = 10_000
_BIG_TABLES = ("events", "orders", "order_lines", "consents", "identities")


@dataclass
class DemoPreferences:
    """The hidden preferences behind the demo store, one row per customer (the answer key).

    ``affinity[i, c]`` is how much customer ``external_ids[i]`` likes category ``categories[c]`` (rows sum
    to 1); ``price_sensitivity`` is in [0, 1] (1: prefers cheap products); ``interval_days`` is their
    repeat-purchase cycle; ``lapsed`` customers stopped buying at least six months before the as-of date.
    """

    external_ids: list[str]
    categories: list[str]
    affinity: np.ndarray
    price_sensitivity: np.ndarray
    interval_days: np.ndarray
    buyer: np.ndarray
    lapsed: np.ndarray
    trial_first: np.ndarray
    subscriber: np.ndarray


def _check(customers: int, seed: int) -> None:
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    if seed < 0:
        raise ValueError(f"seed must be zero or positive, got {seed}")


def demo_preferences(seed: int, customers: int) -> DemoPreferences:
    """The hidden preferences of the first ``customers`` demo customers generated with ``seed``.

    They do not depend on the as-of date, nor on how many customers the store was generated with.
    """
    _check(customers, seed)
    parts = []
    for block in range((customers + BLOCK - 1) // BLOCK):
        keep = min(BLOCK, customers - block * BLOCK)
        traits = draw_traits(block_rng(seed, block))
        parts.append((traits, keep))

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(t, name)[:k] for t, k in parts])

    return DemoPreferences(
        external_ids=[customer_key(n) for n in range(1, customers + 1)],
        categories=[c.path for c in CATEGORIES],
        affinity=cat("affinity"),
        price_sensitivity=cat("price_sensitivity"),
        interval_days=cat("interval_days"),
        buyer=cat("buyer"),
        lapsed=cat("lapsed"),
        trial_first=cat("trial_first"),
        subscriber=cat("subscriber"),
    )


def generate_demo_store(
    store: Store,
    *,
    customers: int = 2_000,
    seed: int = 42,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Generate the demo store into ``store`` in one transaction and return what was added.

    Args:
        store: The store to write to.
        customers: How many customers (1 to 9,999,999); on average each has about 3.5 orders (5 order
            lines), 11 events and 5 consent records.
        seed: Random seed; the same seed gives the same store.
        as_of: The last day of the data, which spans the two years up to it (default: today).
        progress: Shows progress per block of customers.

    Returns:
        The import summary (rows added per table).

    Raises:
        ValueError: ``customers`` or ``seed`` is out of range.
    """
    _check(customers, seed)
    window = Window.ending(as_of or date.today())
    bar = progress or NullProgress()
    catalogue = build_catalogue(seed)
    with import_run(store, "demo-data", None, progress=progress) as (writer, summary):
        bar.stage("demo store: catalogue", total=len(catalogue.rows))
        writer.write_products(catalogue.rows)
        ids = writer.product_ids(catalogue.skus)
        product_ids = np.array([ids[sku] for sku in catalogue.skus], dtype=np.int64)
        writer.write_coupons(_coupon_rows(window))
        bar.advance(len(catalogue.rows))
        bar.stage("demo store: customers", total=customers)
        sink = Sink(writer.conn)
        events_before = writer.conn.execute(select(func.count()).select_from(Event)).scalar_one()
        defer = customers >= DEFER_INDEXES_FROM and events_before < customers * 8
        blocks = (customers + BLOCK - 1) // BLOCK
        with sink.deferred_indexes(_BIG_TABLES, when=defer):
            for first in range(0, blocks, BLOCKS_PER_WRITE):
                numbers = range(first * BLOCK + 1, min((first + BLOCKS_PER_WRITE) * BLOCK, customers) + 1)
                low, high = customer_key(numbers[0]), customer_key(numbers[-1])
                existing = sink.ids_between(Customer.external_id, Customer.id, low, high)
                # Customers written by an earlier run are complete: skip generating them at all.
                if len(existing) < len(numbers):
                    batch = [
                        generate_block(seed, b, customers, catalogue, window)
                        for b in range(first, min(first + BLOCKS_PER_WRITE, blocks))
                    ]
                    write_blocks(sink, batch, catalogue, product_ids, existing)
                bar.advance(len(numbers))
            if defer:
                bar.stage("demo store: indexing", total=None)
    return summary


def _coupon_rows(window: Window) -> list[dict[str, object]]:
    start = datetime.fromtimestamp(window.start, UTC)
    end = datetime.fromtimestamp(window.end, UTC)
    return [
        {
            "code": code,
            "description": description,
            "valid_from": start,
            "valid_until": end,
            "attributes": {"percent_off": percent, "yen_off": yen, "minimum_spend": minimum},
        }
        for code, description, percent, yen, minimum in COUPONS
    ]
