"""The look-ups the tracking API makes for every batch, each one statement whatever the number of keys.

The statements are built once per dialect and take their keys as a single parameter — a JSON array read with
``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL — so neither SQLAlchemy nor the driver
re-renders SQL for each batch's key count, and PostgreSQL keeps one sound plan (a long ``IN`` list makes
psycopg's prepared plans go astray).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from kizuna.ingest.identity import ALIAS, ANONYMOUS_ID
from kizuna.privacy.consent import Purpose
from kizuna.store.tables import Consent, Customer, Event, Identity, Product

#: Product columns the e-commerce events may refresh.
PRODUCT_FIELDS = ("title", "price", "category_path", "brand", "image_url", "currency")


def _among(dialect: str, column: Any) -> ColumnElement[bool]:
    clause: ColumnElement[bool]
    if dialect == "postgresql":
        clause = column == any_(bindparam("keys", type_=postgresql.ARRAY(column.type)))
    else:
        keys: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam("keys")))
        clause = column.in_(keys)
    return clause


@cache
def _statement(dialect: str, name: str) -> Select[Any]:
    if name == "events":
        return select(Event.message_id).where(_among(dialect, Event.message_id))
    if name == "customers":
        return select(Customer.external_id, Customer.id).where(_among(dialect, Customer.external_id))
    if name == "devices":
        return (
            select(Identity.value, Identity.customer_id)
            .where(
                Identity.kind.in_((ANONYMOUS_ID, ALIAS)),
                _among(dialect, Identity.value),
                Identity.customer_id.is_not(None),
            )
            .order_by(Identity.last_seen_at, Identity.id)
        )
    if name == "tracking":
        return (
            select(Consent.customer_id, Consent.status)
            .where(Consent.purpose == Purpose.TRACKING.value, _among(dialect, Consent.customer_id))
            .order_by(Consent.recorded_at, Consent.id)
        )
    if name == "products":
        columns = [getattr(Product, c) for c in PRODUCT_FIELDS]
        return select(Product.sku, *columns).where(_among(dialect, Product.sku))
    raise KeyError(name)


def _rows(conn: Connection, name: str, keys: Iterable[Any]) -> list[Any]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    dialect = conn.dialect.name
    value = wanted if dialect == "postgresql" else json.dumps(wanted)
    return list(conn.execute(_statement(dialect, name), {"keys": value}))


def stored_message_ids(conn: Connection, message_ids: Iterable[str]) -> set[str]:
    """Which of these message ids the events table already holds."""
    return {row[0] for row in _rows(conn, "events", message_ids)}


def customers_by_user_id(conn: Connection, user_ids: Iterable[str]) -> dict[str, int]:
    """Customer id by external id (the Segment ``userId``), for those that exist."""
    return {row[0]: row[1] for row in _rows(conn, "customers", user_ids)}


def customers_by_device(conn: Connection, anonymous_ids: Iterable[str]) -> dict[str, int]:
    """The customer each device is linked to; the latest link wins, as in ``identity.resolve``."""
    return {row[0]: row[1] for row in _rows(conn, "devices", anonymous_ids)}


def tracking_decisions(conn: Connection, customer_ids: Iterable[int]) -> dict[int, str]:
    """The latest recorded tracking decision of each customer who has one."""
    return {row[0]: row[1] for row in _rows(conn, "tracking", customer_ids)}


def products_by_sku(conn: Connection, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The refreshable fields of each product that exists."""
    return {row[0]: dict(zip(PRODUCT_FIELDS, row[1:], strict=True)) for row in _rows(conn, "products", skus)}
