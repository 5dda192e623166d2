"""Generic CSV and Parquet import for each kind of customer data.

``import_file(store, path, kind)`` reads a file whose columns are matched to kizuna's fields (see
:mod:`kizuna.ingest.mapping`), validates every row, and writes everything in one transaction: a bad row stops
the import with an :class:`~kizuna.errors.ImportDataError` naming file, line and column, and nothing is
written. Rows already in the store (same customer id, SKU, order id, message id ...) are skipped, so importing
the same file twice adds nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kizuna.config import Settings, get_settings
from kizuna.errors import ImportDataError
from kizuna.ingest import values as v
from kizuna.ingest.context import ImportContext, Record
from kizuna.ingest.mapping import FIELDS, Resolved, resolve_columns
from kizuna.ingest.orders_file import write_orders_file
from kizuna.ingest.readers import Table, open_table
from kizuna.ingest.writer import ImportSummary, StoreWriter, dedup_key, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked
from kizuna.store.engine import Store

EVENT_TYPES = ("track", "page", "screen", "identify", "group", "alias")


def import_file(
    store: Store,
    path: Path,
    kind: str,
    *,
    mapping: Mapping[str, str] | None = None,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    update: bool = False,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> ImportSummary:
    """Import one CSV or Parquet file of ``kind`` (customers, products, orders, events or interactions).

    Args:
        mapping: source column → field, for columns whose names differ from kizuna's.
        update: for customers and products, overwrite existing rows with the file's values instead of
            skipping them.
    """
    settings = settings or get_settings()
    progress = progress or NullProgress()
    table = open_table(path, fmt=fmt, encoding=encoding, delimiter=delimiter)
    resolved = resolve_columns(kind, table.columns, mapping or {}, path)
    parsed = _parsed_records(table, resolved, settings)
    progress.stage(f"importing {kind} from {path.name}", _count_records(path, table))
    with import_run(store, f"csv:{kind}", path, progress=progress, batch_size=settings.import_batch_size) as (
        writer,
        summary,
    ):
        ctx = ImportContext(path, table.unit, update, settings, progress)
        if kind == "orders":
            write_orders_file(writer, parsed, ctx)
        else:
            _WRITERS[kind](writer, parsed, ctx)
    return summary


def _count_records(path: Path, table: Table) -> int | None:
    if table.unit == "row":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _parsed_records(table: Table, resolved: Resolved, settings: Settings) -> Iterator[tuple[int, Record]]:
    """Each record as ``(line, {field: typed value, "_extra": {column: value}})``."""
    tz = ZoneInfo(settings.default_timezone)
    parsers: dict[str, Callable[[Any], Any]] = {}
    required = {f.name for f in FIELDS[resolved.kind] if f.required}
    for name in resolved.columns:
        spec = resolved.field(name)
        if spec.parse is v.parse_datetime:
            parsers[name] = lambda raw: v.parse_datetime(raw, tz)
        else:
            parsers[name] = spec.parse
    for line, record in table.records:
        out: Record = {}
        for name, column in resolved.columns.items():
            raw = record.get(column)
            try:
                out[name] = parsers[name](raw)
            except ValueError as exc:
                raise ImportDataError(
                    table.path,
                    "a value that cannot be read",
                    line=line,
                    column=column,
                    expected=str(exc),
                    got=raw,
                    unit=table.unit,
                ) from None
            if out[name] is None and name in required:
                raise ImportDataError(
                    table.path,
                    f"no value for the required field {name!r}",
                    line=line,
                    column=column,
                    expected="a value in every row",
                    unit=table.unit,
                )
        out["_extra"] = {c: v.jsonable(record[c]) for c in resolved.extra if not v.blank(record.get(c))}
        yield line, out


def _dedupe(rows: list[Record], key: str) -> list[Record]:
    # The last row for a key wins: an upsert may not touch the same row twice in one statement.
    return list({row[key]: row for row in rows}.values())


def _write_customers(writer: StoreWriter, records: Iterator[tuple[int, Record]], ctx: ImportContext) -> None:
    for batch in chunked(records, writer.batch_size):
        rows = [
            {**{k: x for k, x in r.items() if k != "_extra"}, "attributes": r["_extra"]} for _, r in batch
        ]
        writer.write_customers(_dedupe(rows, "external_id"), update=ctx.update)
        ctx.progress.advance(len(batch))


def _write_products(writer: StoreWriter, records: Iterator[tuple[int, Record]], ctx: ImportContext) -> None:
    for batch in chunked(records, writer.batch_size):
        rows = []
        for _, r in batch:
            row = {k: x for k, x in r.items() if k != "_extra"}
            for flag, default in (
                ("in_stock", True),
                ("is_trial", False),
                ("is_subscription", False),
            ):
                if row.get(flag) is None:
                    row[flag] = default
            if row.get("currency") is None and row.get("price") is not None:
                row["currency"] = ctx.settings.default_currency
            rows.append({**row, "attributes": r["_extra"]})
        writer.write_products(_dedupe(rows, "sku"), update=ctx.update)
        ctx.progress.advance(len(batch))


def _write_events(writer: StoreWriter, records: Iterator[tuple[int, Record]], ctx: ImportContext) -> None:
    path = ctx.path
    for batch in chunked(records, writer.batch_size):
        rows: list[Record] = []
        for line, r in batch:
            kind = (r.get("type") or "track").lower()
            if kind not in EVENT_TYPES:
                raise ImportDataError(
                    path,
                    f"unknown event type {kind!r}",
                    line=line,
                    column="type",
                    expected=" / ".join(EVENT_TYPES),
                )
            if kind == "track" and not r.get("name"):
                raise ImportDataError(
                    path,
                    "a track event without a name",
                    line=line,
                    column="name",
                    expected="the event's name, e.g. Product Viewed",
                )
            if not r.get("customer_external_id") and not r.get("anonymous_id"):
                raise ImportDataError(
                    path,
                    "an event with neither a customer nor an anonymous id",
                    line=line,
                    column="customer_id",
                    expected="a customer_id or an anonymous_id",
                )
            properties = {**r.get("properties", {}), **r["_extra"]}
            message_id = r.get("message_id") or dedup_key(
                "event",
                kind,
                r.get("name"),
                r.get("customer_external_id"),
                r.get("anonymous_id"),
                r["occurred_at"].isoformat(),
                json.dumps(properties, sort_keys=True, ensure_ascii=False),
            )
            rows.append({**r, "type": kind, "message_id": message_id, "properties": properties})
        cmap = writer.customer_ids(
            (r["customer_external_id"] for r in rows if r.get("customer_external_id")),
            create_missing=True,
        )
        identities = {}
        for r in rows:
            ext = r.pop("customer_external_id", None)
            r.pop("_extra")
            r["customer_id"] = cmap[ext] if ext else None
            if ext and r.get("anonymous_id"):
                identities[r["anonymous_id"]] = {
                    "kind": "anonymous_id",
                    "value": r["anonymous_id"],
                    "customer_id": r["customer_id"],
                    "first_seen_at": r["occurred_at"],
                    "last_seen_at": r["occurred_at"],
                }
        writer.write_events(rows)
        writer.write_identities(list(identities.values()))
        ctx.progress.advance(len(batch))


def _write_interactions(
    writer: StoreWriter, records: Iterator[tuple[int, Record]], ctx: ImportContext
) -> None:
    seen: Counter[tuple[str, str, str]] = Counter()
    for batch in chunked(records, writer.batch_size):
        cmap = writer.customer_ids((r["user"] for _, r in batch), create_missing=True)
        pmap = writer.product_ids((r["item"] for _, r in batch), create_missing=True)
        rows = []
        for _, r in batch:
            kind = r.get("kind") or "interaction"
            when = r.get("timestamp")
            if when is None:
                # Without a time, the n-th repeat of a pair in the file is the same interaction on re-import.
                seen[(r["user"], r["item"], kind)] += 1
                key = dedup_key(
                    "interaction",
                    r["user"],
                    r["item"],
                    kind,
                    f"#{seen[(r['user'], r['item'], kind)]}",
                )
            else:
                key = dedup_key("interaction", r["user"], r["item"], kind, when.isoformat())
            weight = r.get("weight")
            rows.append(
                {
                    "dedup_key": key,
                    "customer_id": cmap[r["user"]],
                    "product_id": pmap[r["item"]],
                    "kind": kind,
                    "weight": 1.0 if weight is None else weight,
                    "occurred_at": when,
                }
            )
        writer.write_interactions(rows)
        ctx.progress.advance(len(batch))


_WRITERS: dict[str, Callable[[StoreWriter, Iterator[tuple[int, Record]], ImportContext], None]] = {
    "customers": _write_customers,
    "products": _write_products,
    "events": _write_events,
    "interactions": _write_interactions,
}
