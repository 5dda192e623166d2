"""Everything held about one customer, as JSON: the answer to a data subject's access request.

Every table with a foreign key to ``customers`` is covered (found from the schema, see
:mod:`kizuna.store.references`), under the table's name. Orders carry their lines, campaign memberships their
campaign; the events of their devices never attributed to anyone (``device_events``) and the consent decisions
those devices reported before the customer was known (``device_consents``), the audit rows of
profiles merged into this one and of earlier requests are included too. The export
itself is recorded as a :class:`~kizuna.store.access.PrivacyRequest` of kind ``export``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.ingest.identity import device_ids
from kizuna.store.access import IdentityMerge, PrivacyRequest
from kizuna.store.engine import Store
from kizuna.store.references import customer_references
from kizuna.store.tables import Campaign, Coupon, Customer, Event, OrderLine, Product, table_of
from kizuna.store.types import utcnow
from kizuna.store.visitors import VisitorConsent

#: Version of the export's layout, for whoever reads it back.
EXPORT_FORMAT = "kizuna-customer-export/1"


def subject_hash(external_id: str) -> str:
    """SHA-256 of an external id: names the data subject in audit rows without holding their id in clear."""
    return hashlib.sha256(external_id.encode("utf-8")).hexdigest()


def jsonable(value: Any) -> Any:
    """A stored value as JSON can carry it: times and dates as ISO 8601, decimals as numbers."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(x) for x in value]
    return value


#: Columns that put a table's rows in time order, tried in turn.
_WHEN = ("recorded_at", "occurred_at", "ordered_at", "redeemed_at", "assigned_at", "requested_at")


def _rows(session: Session, table: Table, where: Any) -> list[dict[str, Any]]:
    order = [table.c[name] for name in _WHEN if name in table.c][:1]
    order += [table.c.id] if "id" in table.c else list(table.primary_key.columns)
    result = session.execute(select(table).where(where).order_by(*order))
    return [{key: jsonable(value) for key, value in row._mapping.items()} for row in result]


def merges_into(session: Session, customer_id: int) -> list[IdentityMerge]:
    """Every merge that folded a profile into this customer, directly or through an earlier merge."""
    found: list[IdentityMerge] = []
    frontier = [customer_id]
    seen = {customer_id}
    while frontier:
        batch = list(
            session.scalars(
                select(IdentityMerge)
                .where(IdentityMerge.survivor_id.in_(frontier))
                .order_by(IdentityMerge.id)
            )
        )
        found.extend(batch)
        frontier = [m.merged_customer_id for m in batch if m.merged_customer_id not in seen]
        seen.update(frontier)
    return sorted(found, key=lambda m: m.id)


def collect(session: Session, customer_id: int) -> dict[str, Any]:
    """The export's content for ``customer_id`` (no audit row); raises NotFoundError for unknown ids."""
    customers = table_of(Customer)
    profile = _rows(session, customers, customers.c.id == customer_id)
    if not profile:
        raise NotFoundError(f"no customer #{customer_id}: nothing to export")
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "customer": profile[0],
    }
    for ref in customer_references():
        rows = _rows(session, ref.table, ref.column == customer_id)
        data[ref.name] = data.get(ref.name, []) + rows
    data["device_events"] = _device_events(session, customer_id)
    data["device_consents"] = _device_consents(session, customer_id)
    _detail_orders(session, data.get("orders", []))
    _name_campaigns(session, data.get("campaign_members", []))
    _name_coupons(session, data.get("coupon_redemptions", []))
    columns = [c.name for c in table_of(IdentityMerge).columns]
    data["identity_merges"] = [
        {c: jsonable(getattr(m, c)) for c in columns} for m in merges_into(session, customer_id)
    ]
    requests = table_of(PrivacyRequest)
    data["privacy_requests"] = _rows(session, requests, requests.c.customer_id == customer_id)
    return data


def _device_events(session: Session, customer_id: int) -> list[dict[str, Any]]:
    """Events from the customer's devices that were never attributed to anyone (before sign-up, say)."""
    devices = device_ids(session, customer_id)
    if not devices:
        return []
    events = table_of(Event)
    return _rows(session, events, and_(events.c.customer_id.is_(None), events.c.anonymous_id.in_(devices)))


def _device_consents(session: Session, customer_id: int) -> list[dict[str, Any]]:
    """Consent decisions the customer's browsers reported before they were known (``visitor_consents``)."""
    devices = device_ids(session, customer_id)
    if not devices:
        return []
    decisions = table_of(VisitorConsent)
    return _rows(session, decisions, decisions.c.anonymous_id.in_(devices))


def _detail_orders(session: Session, orders: list[dict[str, Any]]) -> None:
    by_id = {o["id"]: o for o in orders}
    for o in orders:
        o["lines"] = []
    if not by_id:
        return
    lines = session.execute(
        select(OrderLine, Product.sku, Product.title)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(list(by_id)))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    )
    columns = table_of(OrderLine).c.keys()
    for line, sku, title in lines:
        row = {c: jsonable(getattr(line, c)) for c in columns}
        by_id[line.order_id]["lines"].append({**row, "sku": sku, "title": title})


def _name_campaigns(session: Session, members: list[dict[str, Any]]) -> None:
    ids = {m["campaign_id"] for m in members}
    if not ids:
        return
    names = {
        cid: (external_id, name)
        for cid, external_id, name in session.execute(
            select(Campaign.id, Campaign.external_id, Campaign.name).where(Campaign.id.in_(ids))
        )
    }
    for m in members:
        m["campaign_external_id"], m["campaign_name"] = names[m["campaign_id"]]


def _name_coupons(session: Session, redemptions: list[dict[str, Any]]) -> None:
    ids = {r["coupon_id"] for r in redemptions}
    if not ids:
        return
    rows = session.execute(select(Coupon.id, Coupon.code).where(Coupon.id.in_(ids))).tuples()
    codes = {coupon_id: code for coupon_id, code in rows}
    for r in redemptions:
        r["coupon_code"] = codes[r["coupon_id"]]


def export_customer(session: Session, customer_id: int, *, requested_by: str | None = None) -> dict[str, Any]:
    """Everything held about ``customer_id`` as a JSON-serialisable dict, and an ``export`` audit row.

    Runs in the caller's transaction; commit to keep the audit row (or use :func:`export_customer_in_store`).
    """
    data = collect(session, customer_id)
    counts = {k: len(x) for k, x in data.items() if isinstance(x, list)}
    now = utcnow()
    session.add(
        PrivacyRequest(
            kind="export",
            customer_id=customer_id,
            subject_hash=subject_hash(data["customer"]["external_id"]),
            requested_by=requested_by,
            status="done",
            details={"counts": counts},
            requested_at=now,
            completed_at=now,
        )
    )
    session.flush()
    return data


def export_customer_in_store(
    store: Store, customer_id: int, *, requested_by: str | None = None
) -> dict[str, Any]:
    """:func:`export_customer` in a transaction of its own, committed."""
    with store.session() as session:
        data = export_customer(session, customer_id, requested_by=requested_by)
        session.commit()
    return data
