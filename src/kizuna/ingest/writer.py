"""The one path by which importers and generators write to the store.

An import runs inside :func:`import_run`: a single transaction that either commits everything or, on any
error, nothing. :class:`StoreWriter` writes batches of plain dicts, resolving external keys (customer
``external_id``, product ``sku``, order ``external_id``) to internal ids and skipping rows that already exist,
so running the same import twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert

from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import count_rows, insert_ignore, key_map
from kizuna.store.engine import Store
from kizuna.store.orders import normalise_status
from kizuna.store.tables import (
    TABLES_IN_ORDER,
    Campaign,
    CampaignMember,
    Consent,
    Coupon,
    CouponProduct,
    CouponRedemption,
    Customer,
    Event,
    Identity,
    ImportRun,
    Interaction,
    Order,
    OrderLine,
    Product,
    table_of,
)
from kizuna.store.types import utcnow

Row = dict[str, Any]


_COUNTED = [table_of(m) for m in TABLES_IN_ORDER if m is not ImportRun]


@dataclass
class ImportSummary:
    """What an import added, per table, and how long it took."""

    source: str
    path: str | None
    added: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def total_added(self) -> int:
        """Rows added across all tables."""
        return sum(self.added.values())

    def describe(self) -> str:
        """One line for people: ``added 943 customers, 100000 interactions``."""
        parts = [f"{n:,} {table.replace('_', ' ')}" for table, n in self.added.items() if n]
        return "added " + ", ".join(parts) if parts else "nothing new (everything was already imported)"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, recorded with each import run."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dedup_key(*parts: object) -> str:
    """A stable 32-hex key for rows that have no natural unique id (interactions, generated events)."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()


class StoreWriter:
    """Writes batches of rows on one connection; see the module docstring.

    Every ``write_*`` method takes dicts whose keys are the table's column names, except that foreign keys
    may be given by their external keys (``customer_external_id``, ``sku``, ``order_external_id``,
    ``campaign_external_id``, ``coupon_code``), which the writer resolves.
    """

    def __init__(self, conn: Connection, *, batch_size: int = 20_000, progress: Progress | None = None):
        self.conn = conn
        self.batch_size = batch_size
        self.progress: Progress = progress or NullProgress()
        self.notes: list[str] = []
        self._customers: dict[str, int] = {}
        self._products: dict[str, int] = {}

    def note(self, text: str) -> None:
        """Tell the user something about the data that did not stop the import (shown with the summary)."""
        self.notes.append(text)

    # -- key resolution -------------------------------------------------------------------------
    def customer_ids(self, external_ids: Iterable[str], *, create_missing: bool = False) -> dict[str, int]:
        """Ids for customer external ids; with ``create_missing``, unknown ones become minimal customers."""

        def minimal(key: str, now: datetime) -> Row:
            return {"external_id": key, "attributes": {}, "created_at": now, "updated_at": now}

        return self._resolve(self._customers, Customer, "external_id", external_ids, create_missing, minimal)

    def product_ids(self, skus: Iterable[str], *, create_missing: bool = False) -> dict[str, int]:
        """Ids for SKUs; with ``create_missing``, unknown ones become minimal products titled by SKU."""

        def minimal(key: str, now: datetime) -> Row:
            return {"sku": key, "title": key, "attributes": {}, "in_stock": True, "is_trial": False,
                    "is_subscription": False, "created_at": now, "updated_at": now}  # fmt: skip

        return self._resolve(self._products, Product, "sku", skus, create_missing, minimal)

    def _resolve(
        self,
        cache: dict[str, int],
        model: Any,
        key_column: str,
        keys: Iterable[str],
        create_missing: bool,
        minimal: Callable[[str, datetime], Row],
    ) -> dict[str, int]:
        wanted = [k for k in dict.fromkeys(keys) if k not in cache]
        if wanted:
            column = getattr(model, key_column)
            cache.update(key_map(self.conn, column, model.id, wanted))
            missing = [k for k in wanted if k not in cache]
            if missing and create_missing:
                now = utcnow()
                insert_ignore(self.conn, table_of(model), [minimal(k, now) for k in missing])
                cache.update(key_map(self.conn, column, model.id, missing))
        return cache

    # -- entity writers -------------------------------------------------------------------------
    def write_customers(self, rows: Sequence[Row], *, update: bool = False) -> None:
        """Insert customers (``external_id`` required); ``update`` overwrites existing ones."""
        now = utcnow()
        full = [{"attributes": {}, "created_at": now, "updated_at": now, **r} for r in rows]
        cols = [c for c in full[0] if c not in ("external_id", "created_at")] if update and full else []
        self._batched(table_of(Customer), full, update=cols, conflict=["external_id"])

    def write_products(self, rows: Sequence[Row], *, update: bool = False) -> None:
        """Insert products (``sku`` and ``title`` required)."""
        now = utcnow()
        defaults = {
            "attributes": {},
            "in_stock": True,
            "is_trial": False,
            "is_subscription": False,
            "created_at": now,
            "updated_at": now,
        }
        full = [{**defaults, **r} for r in rows]
        cols = [c for c in full[0] if c not in ("sku", "created_at")] if update and full else []
        self._batched(table_of(Product), full, update=cols, conflict=["sku"])

    def write_orders(self, orders: Sequence[Row], lines: Sequence[Row]) -> None:
        """Insert orders and their lines.

        Orders carry ``external_id``, ``customer_external_id`` (or ``customer_id``) and ``ordered_at``; lines
        carry ``order_external_id``, ``line_no`` and ``sku`` (or ``product_id``). Customers and products must
        already exist (resolve them first with ``customer_ids``/``product_ids`` to choose what happens to
        unknown ones).
        """
        cmap = self.customer_ids(o["customer_external_id"] for o in orders if "customer_external_id" in o)
        order_rows = []
        for o in orders:
            row = {k: v for k, v in o.items() if k != "customer_external_id"}
            if "customer_external_id" in o:
                row["customer_id"] = cmap[o["customer_external_id"]]
            row["status"] = normalise_status(row.get("status"))
            order_rows.append({"attributes": {}, **row})
        self._batched(table_of(Order), order_rows)
        omap = key_map(self.conn, Order.external_id, Order.id, (o["external_id"] for o in orders))
        pmap = self.product_ids(ln["sku"] for ln in lines if "sku" in ln)
        line_rows = []
        for ln in lines:
            row = {k: v for k, v in ln.items() if k not in ("sku", "order_external_id")}
            row["order_id"] = omap[ln["order_external_id"]]
            if "sku" in ln:
                row["product_id"] = pmap[ln["sku"]]
            line_rows.append(row)
        self._batched(table_of(OrderLine), line_rows)

    def write_interactions(self, rows: Sequence[Row]) -> None:
        """Insert interactions: customer_id, product_id, kind, weight, occurred_at, dedup_key."""
        self._batched(table_of(Interaction), rows)

    def write_events(self, rows: Sequence[Row]) -> None:
        """Insert events (``message_id`` unique; duplicates are skipped)."""
        now = utcnow()
        self._batched(
            table_of(Event), [{"properties": {}, "context": {}, "received_at": now, **r} for r in rows]
        )

    def write_identities(self, rows: Sequence[Row]) -> None:
        """Insert identities (unique on ``kind``, ``value``)."""
        self._batched(table_of(Identity), rows)

    def write_consents(self, rows: Sequence[Row]) -> None:
        """Append consent records (history: nothing is ever overwritten)."""
        self._batched(table_of(Consent), rows, plain=True)

    def write_campaigns(self, rows: Sequence[Row]) -> dict[str, int]:
        """Insert campaigns (``external_id``, ``name``); returns external id → id for all given."""
        self._batched(table_of(Campaign), [{"attributes": {}, **r} for r in rows])
        return key_map(self.conn, Campaign.external_id, Campaign.id, (r["external_id"] for r in rows))

    def write_campaign_members(self, rows: Sequence[Row]) -> None:
        """Insert campaign members (unique per campaign and customer)."""
        self._batched(table_of(CampaignMember), [{"outcome": {}, "is_control": False, **r} for r in rows])

    def write_coupons(self, rows: Sequence[Row]) -> dict[str, int]:
        """Insert coupons (``code`` unique); returns code → id for all given."""
        now = utcnow()
        self._batched(table_of(Coupon), [{"attributes": {}, "created_at": now, **r} for r in rows])
        return key_map(self.conn, Coupon.code, Coupon.id, (r["code"] for r in rows))

    def write_coupon_products(self, rows: Sequence[Row]) -> None:
        """Link coupons to the products they apply to."""
        self._batched(table_of(CouponProduct), rows)

    def write_coupon_redemptions(self, rows: Sequence[Row]) -> None:
        """Insert coupon redemptions."""
        self._batched(table_of(CouponRedemption), rows)

    # -- plumbing -------------------------------------------------------------------------------
    def _batched(
        self,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        update: Sequence[str] = (),
        conflict: Sequence[str] | None = None,
        plain: bool = False,
    ) -> None:
        rows = _homogenise(table, rows)
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            if plain:
                self.conn.execute(insert(table), list(batch))
            else:
                insert_ignore(self.conn, table, batch, update=update, conflict=conflict)


def _homogenise(table: Table, rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """Give every row the same keys (a batch insert needs them), filling gaps with the column default."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    if all(len(row) == len(keys) for row in rows):
        return rows
    filled = []
    for row in rows:
        if len(row) == len(keys):
            filled.append(row)
            continue
        full = dict(row)
        for key in keys:
            if key not in full:
                full[key] = _column_default(table, key)
        filled.append(full)
    return filled


def _column_default(table: Table, key: str) -> Any:
    default = table.c[key].default
    if default is None or not hasattr(default, "arg"):
        return None
    if getattr(default, "is_callable", False):
        return default.arg(None)
    return default.arg


@contextmanager
def import_run(
    store: Store,
    source: str,
    path: Path | str | None = None,
    *,
    progress: Progress | None = None,
    batch_size: int = 20_000,
) -> Iterator[tuple[StoreWriter, ImportSummary]]:
    """One import, in one transaction: yields a writer and the summary that is filled in on success.

    Any exception rolls the whole import back, so a bad row leaves the store exactly as it was.
    """
    started = utcnow()
    summary = ImportSummary(source=source, path=str(path) if path is not None else None)
    digest = file_sha256(Path(path)) if path is not None and Path(path).is_file() else None
    with store.engine.begin() as conn:
        before = count_rows(conn, _COUNTED)
        writer = StoreWriter(conn, batch_size=batch_size, progress=progress)
        yield writer, summary
        after = count_rows(conn, _COUNTED)
        summary.added = {name: after[name] - before[name] for name in after if after[name] != before[name]}
        summary.notes = list(writer.notes)
        finished = utcnow()
        summary.seconds = (finished - started).total_seconds()
        conn.execute(
            insert(table_of(ImportRun)),
            {
                "source": source,
                "path": summary.path,
                "sha256": digest,
                "started_at": started,
                "finished_at": finished,
                "added": summary.added,
            },
        )
