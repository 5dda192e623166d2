"""Customer 360: everything kizuna holds about one customer, in one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import ConsentState, consent_state
from kizuna.store.orders import is_purchase
from kizuna.store.tables import (
    Campaign,
    CampaignMember,
    Customer,
    Event,
    Identity,
    Order,
    OrderLine,
)


@dataclass
class OrderSummary:
    """An order with its lines as (SKU, title, quantity, amount)."""

    external_id: str
    ordered_at: datetime
    channel: str | None
    total: float
    currency: str | None
    coupon_code: str | None
    lines: list[tuple[str, str, int, float]]


@dataclass
class Customer360:
    """One customer's attributes, identities, orders, recent events, consents and campaigns."""

    customer: Customer
    identities: list[Identity]
    order_count: int
    revenue: float
    first_order_at: datetime | None
    last_order_at: datetime | None
    recent_orders: list[OrderSummary]
    recent_events: list[Event]
    consents: dict[str, ConsentState]
    campaigns: list[tuple[str, str | None, bool | None]] = field(default_factory=list)

    def attributes(self) -> dict[str, Any]:
        """The customer's columns and JSON attributes as one flat dict, for display and export."""
        c = self.customer
        columns = {
            "external_id": c.external_id,
            "name": c.name,
            "name_kana": c.name_kana,
            "email": c.email,
            "phone": c.phone,
            "postal_code": c.postal_code,
            "country": c.country,
            "prefecture": c.prefecture,
            "city": c.city,
            "address_line1": c.address_line1,
            "address_line2": c.address_line2,
            "birth_date": c.birth_date,
            "gender": c.gender,
            "timezone": c.timezone,
            "created_at": c.created_at,
        }
        return {**{k: x for k, x in columns.items() if x is not None}, **(c.attributes or {})}


def find_customer(session: Session, key: str) -> Customer:
    """A customer by external id, email, or ``#<internal id>``; raises NotFoundError with advice."""
    if key.startswith("#") and key[1:].isdigit():
        found = session.get(Customer, int(key[1:]))
    else:
        found = session.scalars(
            select(Customer)
            .where(or_(Customer.external_id == key, func.lower(Customer.email) == key.lower()))
            .order_by(Customer.external_id != key)
            .limit(1)
        ).first()
    if found is None:
        raise NotFoundError(
            f"no customer {key!r}: give an external id, an email, or #<internal id> "
            "(`kizuna db status` shows what the store holds)"
        )
    return found


def customer_360(session: Session, key: str, *, orders: int = 10, events: int = 20) -> Customer360:
    """Gather the customer 360 for ``key`` (see :func:`find_customer`), with the latest orders and events."""
    customer = find_customer(session, key)
    cid = customer.id
    count, revenue, first, last = session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(Order.total), 0.0),
            func.min(Order.ordered_at),
            func.max(Order.ordered_at),
        ).where(Order.customer_id == cid, is_purchase(Order.status))
    ).one()
    latest = session.scalars(
        select(Order)
        .where(Order.customer_id == cid)
        .options(selectinload(Order.lines).selectinload(OrderLine.product))
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(orders)
    ).all()
    recent_orders = [
        OrderSummary(
            o.external_id,
            o.ordered_at,
            o.channel,
            o.total,
            o.currency,
            o.coupon_code,
            [(ln.product.sku, ln.product.title, ln.quantity, ln.amount) for ln in o.lines],
        )
        for o in latest
    ]
    recent_events = list(
        session.scalars(
            select(Event)
            .where(Event.customer_id == cid)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(events)
        )
    )
    identities = list(
        session.scalars(select(Identity).where(Identity.customer_id == cid).order_by(Identity.id))
    )
    campaigns = [
        (name, arm, responded)
        for name, arm, responded in session.execute(
            select(Campaign.name, CampaignMember.arm, CampaignMember.responded)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.customer_id == cid)
            .order_by(Campaign.id)
        )
    ]
    return Customer360(
        customer=customer,
        identities=identities,
        order_count=count,
        revenue=float(revenue or 0.0),
        first_order_at=first,
        last_order_at=last,
        recent_orders=recent_orders,
        recent_events=recent_events,
        consents=consent_state(session, cid),
        campaigns=campaigns,
    )


def search_customers(
    session: Session, query: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[list[Customer], int]:
    """Customers whose external id, email, name or kana contain ``query`` (any case), oldest first, and how
    many match in all (for paging)."""
    where = []
    if query:
        pattern = f"%{query.lower()}%"
        where.append(
            or_(
                func.lower(Customer.external_id).like(pattern),
                func.lower(Customer.email).like(pattern),
                func.lower(Customer.name).like(pattern),
                Customer.name_kana.like(f"%{query}%"),
            )
        )
    total = session.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
    found = session.scalars(select(Customer).where(*where).order_by(Customer.id).limit(limit).offset(offset))
    return list(found), int(total)


def list_events(
    session: Session,
    *,
    customer_id: int | None = None,
    anonymous_id: str | None = None,
    name: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Event]:
    """Events matching every filter given, newest first; page with ``before_id`` (the last id seen)."""
    query = select(Event)
    for column, value in (
        (Event.customer_id, customer_id),
        (Event.anonymous_id, anonymous_id),
        (Event.name, name),
        (Event.type, type),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    if until is not None:
        query = query.where(Event.occurred_at < until)
    if before_id is not None:
        query = query.where(Event.id < before_id)
    return list(session.scalars(query.order_by(Event.id.desc()).limit(limit)))
