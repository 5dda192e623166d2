"""``/customers``: find a customer by external id or email (exactly or by prefix, through their indexes),
and ``/customers/{id}``: the customer 360 — attributes, a timeline of orders and events, consents, segments,
recommendations with their reasons, deliveries and the responses to them, and what the customer is worth
(RFM scores and segment, probability of still being active, expected purchases and lifetime value, as last
computed by ``kizuna value compute``).

Lists are paged by id (``after``), never counted in full: each page reads at most ``PAGE`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.dashboard.web import Missing, SignedIn, mask, render
from kizuna.errors import NotFoundError
from kizuna.profiles import Customer360, customer_360
from kizuna.recommend.service import Suggestion, recommend_for
from kizuna.store.automation import Delivery, Segment, SegmentMember
from kizuna.store.automation import Response as ResponseRow
from kizuna.store.tables import Customer
from kizuna.store.values import CustomerValue

NAV = ("nav.customers", "/customers")
#: Contact details a viewer sees only in part: enough to recognise a customer, not to contact them.
CONTACT_FIELDS = ("email", "phone", "address_line1", "address_line2", "birth_date")
router = APIRouter()
PAGE = 50
_TOP = "\U0010ffff"


def search(session: Session, query: str, *, after: int = 0, limit: int = PAGE) -> list[Customer]:
    """Customers whose external id or email is ``query`` or starts with it (any case for emails), by id.

    Both are range conditions on indexed columns, so the database reads only the matching entries.
    """
    query = query.strip()
    if not query:
        return list(
            session.scalars(select(Customer).where(Customer.id > after).order_by(Customer.id).limit(limit))
        )
    ids: set[int] = set()
    for column, text in ((Customer.external_id, query), (Customer.email, query.lower())):
        found = session.scalars(
            select(Customer.id).where(column >= text, column < text + _TOP).order_by(column).limit(limit * 2)
        )
        ids.update(int(i) for i in found)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.id.in_(sorted(ids)), Customer.id > after)
            .order_by(Customer.id)
            .limit(limit)
        )
    )


@router.get("/customers")
def customers_page(ctx: SignedIn, q: str = "", after: int = 0) -> Response:
    """Search results (or every customer, a page at a time)."""
    with ctx.store.session() as session:
        found = search(session, q[:320], after=after)
    more = found[-1].id if len(found) == PAGE else None
    return render(ctx, "customers.html", q=q, customers=found, more=more)


@dataclass(frozen=True)
class Timeline:
    """One line of the customer's timeline: an order or an event."""

    at: datetime
    kind: str
    title: str
    detail: str


@dataclass
class Profile:
    """Everything the 360 page shows."""

    c360: Customer360
    timeline: list[Timeline]
    segments: list[tuple[str, datetime]]
    deliveries: list[tuple[Delivery, dict[str, int]]]
    suggestions: list[Suggestion]
    recommendation_note: str | None
    value: CustomerValue | None = None


def _timeline(c360: Customer360) -> list[Timeline]:
    found = [
        Timeline(
            o.ordered_at,
            "order",
            f"{o.external_id} · ¥{o.total:,.0f}",
            ", ".join(f"{title} ×{qty}" for _, title, qty, _ in o.lines),
        )
        for o in c360.recent_orders
    ]
    found += [
        Timeline(e.occurred_at, e.type, e.name or e.type, _event_detail(e.properties))
        for e in c360.recent_events
    ]
    return sorted(found, key=lambda item: item.at, reverse=True)


def _event_detail(properties: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in list(properties.items())[:4] if not isinstance(v, (dict, list))]
    return ", ".join(shown)


def _profile(ctx_store: Any, customer_id: int, language: str) -> Profile:
    with ctx_store.session() as session:
        try:
            c360 = customer_360(session, f"#{customer_id}", orders=10, events=20)
        except NotFoundError:
            raise Missing("customer") from None
        segments = [
            (name, entered)
            for name, entered in session.execute(
                select(Segment.name, SegmentMember.entered_at)
                .join(Segment, Segment.id == SegmentMember.segment_id)
                .where(SegmentMember.customer_id == customer_id, SegmentMember.left_at.is_(None))
                .order_by(Segment.name)
                .limit(100)
            )
        ]
        deliveries = list(
            session.scalars(
                select(Delivery)
                .where(Delivery.customer_id == customer_id)
                .order_by(Delivery.created_at.desc(), Delivery.id.desc())
                .limit(20)
            )
        )
        responses: dict[int, dict[str, int]] = {d.id: {} for d in deliveries}
        if deliveries:
            rows = session.execute(
                select(ResponseRow.delivery_id, ResponseRow.kind).where(
                    ResponseRow.delivery_id.in_(list(responses))
                )
            )
            for delivery_id, kind in rows:
                counted = responses[int(delivery_id)]
                counted[kind] = counted.get(kind, 0) + 1
        value = session.get(CustomerValue, customer_id)  # by primary key: one row at most
    note = None
    suggestions: list[Suggestion] = []
    try:
        suggestions = recommend_for(ctx_store, f"#{customer_id}", n=5, lang=language)
    except NotFoundError:
        note = "customer.no_model"
    except (OSError, ValueError, EOFError):  # a model file being written, or damaged: the page still answers
        note = "customer.model_unreadable"
    return Profile(
        c360, _timeline(c360), segments, [(d, responses[d.id]) for d in deliveries], suggestions, note, value
    )


@router.get("/customers/{customer_id}")
async def customer_page(ctx: SignedIn, customer_id: int) -> Response:
    """The customer 360."""
    profile = await run_in_threadpool(_profile, ctx.store, customer_id, ctx.language)
    attributes = profile.c360.attributes()
    if ctx.user is None or not ctx.user.can_change:
        attributes = {k: mask(v) if k in CONTACT_FIELDS else v for k, v in attributes.items()}
    return render(ctx, "customer.html", p=profile, attributes=attributes)
