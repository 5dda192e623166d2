"""Writing tracking events at the pace the tracking API needs, skipping message ids already stored.

SQLAlchemy's per-row type processing (UTC conversion, JSON encoding, parameter dicts) costs several times
the insert itself at a hundred rows a request, so events go to the driver directly, already in their stored
form — the same form the ``UTCDateTime`` and ``JSON`` column types write, so the ORM reads them back as usual:

- SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING``, times as naive UTC text and JSON text.
- PostgreSQL: one ``INSERT ... SELECT FROM jsonb_to_recordset(rows) ON CONFLICT DO NOTHING`` per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection

COLUMNS = (
    "message_id",
    "type",
    "name",
    "customer_id",
    "anonymous_id",
    "occurred_at",
    "received_at",
    "properties",
    "context",
)

_SQLITE = (
    "INSERT INTO events (message_id, type, name, customer_id, anonymous_id, occurred_at, received_at, "
    "properties, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_POSTGRES = (
    "INSERT INTO events (message_id, type, name, customer_id, anonymous_id, occurred_at, received_at, "
    "properties, context) SELECT message_id, type, name, customer_id, anonymous_id, occurred_at, "
    "received_at, properties, context FROM jsonb_to_recordset(%s::jsonb) AS e(message_id text, "
    "type text, name text, customer_id bigint, anonymous_id text, occurred_at timestamptz, "
    "received_at timestamptz, properties jsonb, context jsonb) ON CONFLICT DO NOTHING"
)


def _sqlite_time(value: datetime, cache: dict[datetime, str]) -> str:
    # What UTCDateTime stores on SQLite: naive UTC in SQLAlchemy's DATETIME text format. A batch's events
    # share a few times (its arrival, a browser's bursts), so each is formatted once.
    text = cache.get(value)
    if text is None:
        text = cache[value] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return text


def _json(value: Any) -> str:
    # pydantic-core's serialiser: the same JSON as json.dumps gives these values (they came from JSON), in a
    # quarter of the time. Non-ASCII text stays as it is, which both stores read back the same.
    return to_json(value).decode()


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert event rows (dicts with every name in :data:`COLUMNS`), skipping known message ids."""
    if not rows:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "sqlite":
        times: dict[datetime, str] = {}
        params = [
            (
                r["message_id"],
                r["type"],
                r["name"],
                r["customer_id"],
                r["anonymous_id"],
                _sqlite_time(r["occurred_at"], times),
                _sqlite_time(r["received_at"], times),
                _json(r["properties"]),
                _json(r["context"]),
            )
            for r in rows
        ]
        cursor = driver.cursor()
        try:
            cursor.executemany(_SQLITE, params)
        finally:
            cursor.close()
        return
    # The batch as one JSON document serialised in Rust: adapting nine Python lists to arrays costs more.
    # In message id order, so that concurrent writers meeting the same ids wait on each other in one order.
    ordered = sorted(rows, key=lambda r: str(r["message_id"]))
    with driver.cursor() as cursor:
        cursor.execute(_POSTGRES, [to_json([{c: r[c] for c in COLUMNS} for r in ordered]).decode()])
