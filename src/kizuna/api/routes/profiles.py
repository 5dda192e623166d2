"""Reading customers and events, with a secret key: a customer 360, customer search, and event lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from kizuna.api.deps import EventsKey, ProfilesKey, SessionDep
from kizuna.api.errors import ERROR_RESPONSES
from kizuna.api.schemas import (
    CampaignPublic,
    ConsentPublic,
    Customer360Public,
    CustomerPublic,
    CustomersPublic,
    EventPublic,
    EventsPublic,
    IdentityPublic,
    OrderLinePublic,
    OrderPublic,
)
from kizuna.profiles import customer_360, find_customer, list_events, search_customers
from kizuna.store.tables import Customer

router = APIRouter(prefix="/v1", tags=["profiles"], responses=ERROR_RESPONSES)

CUSTOMER_KEY = "The customer's external id (the site's user id) or email, or `id:<internal id>`."


def customer_for(session: Session, key: str) -> Customer:
    """The customer a path names (see :data:`CUSTOMER_KEY`); 404 when there is none."""
    if key.startswith("id:") and key[3:].isdigit():
        key = "#" + key[3:]
    return find_customer(session, key)


@router.get("/customers", summary="Search customers")
def search(
    _key: ProfilesKey,
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of an external id, email or name")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CustomersPublic:
    """Customers whose external id, email, name or kana contain ``q``, oldest first (scope profiles:read)."""
    found, total = search_customers(session, q, limit=limit, offset=offset)
    return CustomersPublic(data=[CustomerPublic.model_validate(c) for c in found], count=total)


@router.get("/customers/{customer}", summary="A customer 360")
def profile(
    customer: str,
    _key: ProfilesKey,
    session: SessionDep,
    orders: Annotated[int, Query(ge=0, le=1000)] = 10,
    events: Annotated[int, Query(ge=0, le=1000)] = 20,
) -> Customer360Public:
    """Attributes, identities, order totals and recent orders, recent events, consent in force and
    campaigns of one customer (scope profiles:read)."""
    found = customer_for(session, customer)
    p = customer_360(session, f"#{found.id}", orders=orders, events=events)
    return Customer360Public(
        customer=CustomerPublic.model_validate(p.customer),
        identities=[IdentityPublic.model_validate(i) for i in p.identities],
        order_count=p.order_count,
        revenue=p.revenue,
        first_order_at=p.first_order_at,
        last_order_at=p.last_order_at,
        recent_orders=[
            OrderPublic(
                external_id=o.external_id,
                ordered_at=o.ordered_at,
                channel=o.channel,
                total=o.total,
                currency=o.currency,
                coupon_code=o.coupon_code,
                lines=[OrderLinePublic(sku=s, title=t, quantity=q, amount=a) for s, t, q, a in o.lines],
            )
            for o in p.recent_orders
        ],
        recent_events=[EventPublic.model_validate(e) for e in p.recent_events],
        consents={
            purpose: ConsentPublic(
                status=s.status, source=s.source, policy_version=s.policy_version, recorded_at=s.recorded_at
            )
            for purpose, s in p.consents.items()
        },
        campaigns=[CampaignPublic(name=n, arm=a, responded=r) for n, a, r in p.campaigns],
    )


@router.get("/events", summary="List events")
def events(
    _key: EventsKey,
    session: SessionDep,
    customer: Annotated[str | None, Query(description=CUSTOMER_KEY)] = None,
    anonymous_id: Annotated[str | None, Query(alias="anonymousId", max_length=128)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Event name, e.g. Order Completed")] = None,
    type: Annotated[str | None, Query(description="identify, track, page, screen, group or alias")] = None,
    since: Annotated[datetime | None, Query(description="Occurred at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Occurred before (ISO 8601)")] = None,
    before: Annotated[int | None, Query(ge=1, description="`next_before` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventsPublic:
    """Events that match every filter given, the latest stored first (scope events:read)."""
    customer_id = customer_for(session, customer).id if customer is not None else None
    found = list_events(
        session,
        customer_id=customer_id,
        anonymous_id=anonymous_id,
        name=name,
        type=type,
        since=since,
        until=until,
        before_id=before,
        limit=limit,
    )
    return EventsPublic(
        data=[EventPublic.model_validate(e) for e in found],
        count=len(found),
        next_before=found[-1].id if len(found) == limit else None,
    )
