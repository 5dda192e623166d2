"""Complete Journey transactions → orders and order lines, grouped and summed with numpy.

One order per ``basket_id``, one line per transaction row, numbered in file order within the basket. The
file is read one column at a time and every column is put in basket order at once (a stable sort, so the
lines of a basket keep their file order and baskets keep the order of their first row). Orders and lines
are then written in batches of plain rows; a basket whose order already exists is skipped with its lines,
which is what makes a second import add nothing and cost little.

Money, as the 84.51° files give it (all discounts are positive amounts taken off):

- line ``amount`` = ``sales_value``, what the retailer received. It is already net of the loyalty-card
  discount (``retail_disc``) and of the retailer's coupon match (``coupon_match_disc``), but it still
  includes manufacturer coupons (``coupon_disc``), which the manufacturer refunds to the retailer.
- line ``discount`` = ``retail_disc + coupon_disc + coupon_match_disc``: everything the customer saved.
- line ``unit_price`` = shelf price = ``(sales_value + retail_disc + coupon_match_disc) / quantity``
  (0 when the quantity is 0, as on rows that only carry a coupon).
- order ``subtotal`` = the basket at shelf prices, ``discount`` and ``total`` (= sum of ``sales_value``) are
  the sums over its lines. So ``total = subtotal - retail_disc - coupon_match_disc``, and the customer paid
  ``total - coupon_disc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
from sqlalchemy import Connection

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets.completejourney_files import (
    Int64Array,
    datetimes,
    floats,
    integers,
    micros,
)
from kizuna.ingest.writer import StoreWriter
from kizuna.store.bulk import copy_ignore, insert_ignore, key_map
from kizuna.store.tables import Order, OrderLine, table_of

FloatArray = npt.NDArray[np.float64]

#: Baskets written per batch (about 50,000 lines in this dataset).
BASKETS_PER_BATCH = 5_000


@dataclass
class Baskets:
    """The transactions file in basket order: row arrays, plus where each basket starts."""

    path: Path
    #: File row (0-based) of each sorted row, to name rows in errors.
    file_row: Int64Array
    household_id: Int64Array
    store_id: Int64Array
    product_id: Int64Array
    quantity: Int64Array
    sales_value: FloatArray
    retail_disc: FloatArray
    coupon_disc: FloatArray
    coupon_match_disc: FloatArray
    week: Int64Array
    #: ``transaction_timestamp`` in microseconds on the clock of ``zone``.
    micros: Int64Array
    zone: tzinfo
    #: One entry per basket: its id and the index of its first row; ``starts`` ends with the row count.
    basket_id: Int64Array
    starts: Int64Array

    @property
    def counts(self) -> Int64Array:
        """Lines per basket."""
        out: Int64Array = np.diff(self.starts)
        return out

    @property
    def rows(self) -> int:
        """Transaction rows."""
        return len(self.file_row)


def read_baskets(path: Path) -> Baskets:
    """Read ``transactions.parquet`` (already checked) one column at a time, in basket order.

    Raises:
        ImportDataError: on an empty id, quantity or timestamp, or a basket spread over households.
    """
    source = pq.ParquetFile(path)

    def column(name: str) -> Any:
        return source.read(columns=[name]).column(name)

    basket = integers(path, "basket_id", column("basket_id"))
    ids, first_row, inverse = np.unique(basket, return_index=True, return_inverse=True)
    first_seen = np.empty(len(ids), dtype=np.int64)
    first_seen[np.argsort(first_row, kind="stable")] = np.arange(len(ids))
    order = np.argsort(first_seen[inverse.ravel()], kind="stable")
    del inverse
    sorted_basket = basket[order]
    del basket
    boundaries = np.flatnonzero(sorted_basket[1:] != sorted_basket[:-1]) + 1
    starts = np.concatenate(([0], boundaries, [len(order)])).astype(np.int64)
    # The timestamps are UTC instants (see completejourney_files).
    stamps, zone = micros(path, "transaction_timestamp", column("transaction_timestamp"), naive=UTC)
    baskets = Baskets(
        path=path,
        file_row=order.astype(np.int64),
        household_id=integers(path, "household_id", column("household_id"))[order],
        store_id=integers(path, "store_id", column("store_id"))[order],
        product_id=integers(path, "product_id", column("product_id"))[order],
        quantity=integers(path, "quantity", column("quantity"))[order],
        sales_value=floats(column("sales_value"))[order],
        retail_disc=floats(column("retail_disc"))[order],
        coupon_disc=floats(column("coupon_disc"))[order],
        coupon_match_disc=floats(column("coupon_match_disc"))[order],
        week=integers(path, "week", column("week"))[order],
        micros=stamps[order],
        zone=zone,
        basket_id=sorted_basket[starts[:-1]] if len(order) else sorted_basket,
        starts=starts if len(order) else np.zeros(1, dtype=np.int64),
    )
    _check_one_household(baskets)
    return baskets


def _check_one_household(baskets: Baskets) -> None:
    first = np.repeat(baskets.household_id[baskets.starts[:-1]], baskets.counts)
    mixed = np.flatnonzero(first != baskets.household_id)
    if len(mixed):
        at = int(mixed[np.argmin(baskets.file_row[mixed])])
        basket = baskets.basket_id[np.searchsorted(baskets.starts, at, side="right") - 1]
        raise ImportDataError(
            baskets.path,
            f"row {int(baskets.file_row[at]) + 1} puts basket {int(basket)} in a second household",
            column="household_id",
            expected="one household_id per basket_id",
            got=int(baskets.household_id[at]),
        )


class IdLookup:
    """Maps dataset ids (households, products) to store ids for whole arrays at once."""

    def __init__(self, ids: Mapping[int, int]):
        keys = np.fromiter(ids.keys(), dtype=np.int64, count=len(ids))
        values = np.fromiter(ids.values(), dtype=np.int64, count=len(ids))
        order = np.argsort(keys)
        self.keys: Int64Array = keys[order]
        self.values: Int64Array = values[order]

    def __call__(self, wanted: Int64Array) -> Int64Array:
        """Store ids for ``wanted``; every one must be known (the caller created them)."""
        if not len(wanted):
            return np.zeros(0, dtype=np.int64)
        at = np.searchsorted(self.keys, wanted)
        found = at < len(self.keys)
        if not found.all() or np.any(self.keys[at] != wanted):
            raise KeyError("an id without a store row")
        out: Int64Array = self.values[at]
        return out


@dataclass
class _Totals:
    """Per basket: first moment and money sums, computed once for the whole file."""

    micros: Int64Array
    subtotal: FloatArray
    discount: FloatArray
    total: FloatArray


def write_orders(
    writer: StoreWriter,
    baskets: Baskets,
    customers: IdLookup,
    products: IdLookup,
    *,
    prefix: str,
) -> None:
    """Write one order per basket and one line per row, skipping baskets already imported."""
    progress = writer.progress
    progress.stage("orders and lines (transactions.parquet)", total=baskets.rows)
    if not baskets.rows:
        return
    heads = baskets.starts[:-1]
    totals = _Totals(
        micros=np.minimum.reduceat(baskets.micros, heads),
        subtotal=_sums(_shelf(baskets, slice(None)), heads),
        discount=_sums(_discount(baskets, slice(None)), heads),
        total=_sums(baskets.sales_value, heads),
    )
    for first in range(0, len(baskets.basket_id), BASKETS_PER_BATCH):
        last = min(first + BASKETS_PER_BATCH, len(baskets.basket_id))
        external = [f"{prefix}{b}" for b in baskets.basket_id[first:last].tolist()]
        done = key_map(writer.conn, Order.external_id, Order.id, external)
        new = [i for i, e in enumerate(external) if e not in done]
        if new:
            chosen = np.array(new, dtype=np.int64) + first
            ids = _write_orders(writer.conn, baskets, totals, chosen, customers, prefix)
            # An order that another import wrote meanwhile returns no id: its lines are its own.
            kept = np.array([i for i, e in enumerate(external) if e in ids], dtype=np.int64)
            order_ids = np.array([ids[external[i]] for i in kept.tolist()], dtype=np.int64)
            _write_lines(writer.conn, baskets, kept + first, order_ids, products)
        writer.progress.advance(int(baskets.starts[last] - baskets.starts[first]))


def _sums(values: FloatArray, heads: Int64Array) -> FloatArray:
    """Per-basket sums, rounded to cents."""
    out: FloatArray = np.add.reduceat(values, heads).round(2)
    return out


def _shelf(baskets: Baskets, rows: Int64Array | slice) -> FloatArray:
    out: FloatArray = baskets.sales_value[rows] + baskets.retail_disc[rows] + baskets.coupon_match_disc[rows]
    return out


def _discount(baskets: Baskets, rows: Int64Array | slice) -> FloatArray:
    out: FloatArray = baskets.retail_disc[rows] + baskets.coupon_disc[rows] + baskets.coupon_match_disc[rows]
    return out


def _write_orders(
    conn: Connection,
    baskets: Baskets,
    totals: _Totals,
    chosen: Int64Array,
    customers: IdLookup,
    prefix: str,
) -> dict[str, int]:
    """Insert the chosen baskets' orders; returns external id → id of those inserted."""
    heads = baskets.starts[chosen]
    columns = zip(
        [f"{prefix}{b}" for b in baskets.basket_id[chosen].tolist()],
        customers(baskets.household_id[heads]).tolist(),
        datetimes(totals.micros[chosen], baskets.zone),
        totals.subtotal[chosen].tolist(),
        totals.discount[chosen].tolist(),
        totals.total[chosen].tolist(),
        baskets.store_id[heads].tolist(),
        baskets.week[heads].tolist(),
        strict=True,
    )
    rows = [
        (
            ext,
            customer,
            when,
            "store",
            "completed",
            "USD",
            subtotal,
            discount,
            0.0,
            0.0,
            total,
            {"store_id": store, "week": week},
        )
        for ext, customer, when, subtotal, discount, total, store, week in columns
    ]
    table = table_of(Order)
    if conn.dialect.name == "postgresql":
        from psycopg.types.json import Jsonb

        copied = [(*row[:-1], Jsonb(row[-1])) for row in rows]
        return dict(copy_ignore(conn, table, ORDER_COLUMNS, copied, returning=("external_id", "id")))
    insert_ignore(conn, table, [dict(zip(ORDER_COLUMNS, row, strict=True)) for row in rows])
    return key_map(conn, Order.external_id, Order.id, (row[0] for row in rows))


ORDER_COLUMNS = (
    "external_id",
    "customer_id",
    "ordered_at",
    "channel",
    "status",
    "currency",
    "subtotal",
    "discount",
    "shipping",
    "tax",
    "total",
    "attributes",
)
LINE_COLUMNS = ("order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "amount")
_SQLITE_LINES = (
    "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, discount, amount) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _write_lines(
    conn: Connection,
    baskets: Baskets,
    chosen: Int64Array,
    order_ids: Int64Array,
    products: IdLookup,
) -> None:
    """Insert every line of the chosen baskets, numbered from 1 in file order."""
    counts = baskets.counts[chosen]
    rows_of = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    lines = np.repeat(baskets.starts[chosen], counts) + rows_of
    quantity = baskets.quantity[lines]
    unit_price = np.divide(_shelf(baskets, lines), quantity, out=np.zeros(len(lines)), where=quantity > 0)
    rows = list(
        zip(
            np.repeat(order_ids, counts).tolist(),
            (rows_of + 1).tolist(),
            products(baskets.product_id[lines]).tolist(),
            quantity.tolist(),
            unit_price.round(2).tolist(),
            _discount(baskets, lines).round(2).tolist(),
            baskets.sales_value[lines].round(2).tolist(),
            strict=True,
        )
    )
    if conn.dialect.name == "postgresql":
        copy_ignore(conn, table_of(OrderLine), LINE_COLUMNS, rows)
    else:
        # Lines hold only numbers, which need no type conversion: the driver's executemany is enough,
        # and several times faster than building SQLAlchemy parameters for 1.5 million rows.
        conn.exec_driver_sql(_SQLITE_LINES, rows)
