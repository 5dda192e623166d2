"""Who is looking at the page: the customer behind a cookie id, whether they allow personalisation, whether
they have been here before, and the segments they are in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kizuna.config import Settings
from kizuna.ingest.identity import resolve
from kizuna.privacy.consent import Purpose, Status
from kizuna.privacy.visitors import visitor_may
from kizuna.store.automation import Segment, SegmentMember
from kizuna.store.tables import Event

_REFUSED = (Status.DENIED.value, Status.WITHDRAWN.value)


@dataclass(frozen=True)
class PageRequest:
    """What the page tells about its visitor and itself.

    ``anonymous_id`` is the snippet's first-party cookie id; ``user_id`` a customer's external id, accepted
    only from a server holding a secret key (a browser could claim anyone's). ``returning`` is the snippet's
    own visit count (``None``: kizuna looks at the visitor's earlier events). ``product`` is the SKU of the
    product page, ``lang`` the page's language, ``consent`` the choices the browser holds (purpose → status).
    """

    slots: tuple[str, ...]
    anonymous_id: str | None = None
    user_id: str | None = None
    returning: bool | None = None
    product: str | None = None
    lang: str = "ja"
    consent: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Visitor:
    """The visitor as kizuna sees them, for one request."""

    anonymous_id: str | None
    customer_id: int | None
    personalise: bool
    returning: bool


def find_visitor(session: Session, page: PageRequest, *, now: datetime, settings: Settings) -> Visitor:
    """Resolve the visitor: cookie id → stitched customer, consent to personalisation, first or returning.

        Personalisation is allowed when the browser has not refused it and :func:`kizuna.privacy.visitors
        .visitor_may` allows it (the customer's decision; for an unknown visitor the one reported for the
    cookie id;     otherwise the purpose's default).
    """
    customer_id = None
    if page.user_id is not None or page.anonymous_id is not None:
        customer_id = resolve(session, user_id=page.user_id, anonymous_id=page.anonymous_id)
    refused = page.consent.get(Purpose.PERSONALISATION.value) in _REFUSED
    allowed = not refused and visitor_may(
        session,
        Purpose.PERSONALISATION,
        customer_id=customer_id,
        anonymous_id=page.anonymous_id,
        at=now,
        settings=settings,
    )
    returning = page.returning
    if returning is None and allowed:
        returning = _seen_before(session, customer_id, page.anonymous_id, now, settings)
    return Visitor(page.anonymous_id, customer_id, allowed, bool(returning))


def _seen_before(
    session: Session, customer_id: int | None, anonymous_id: str | None, now: datetime, settings: Settings
) -> bool:
    """Whether the visitor has an event older than the current visit (``snippet_visit_minutes``)."""
    who = []
    if customer_id is not None:
        who.append(Event.customer_id == customer_id)
    if anonymous_id is not None:
        who.append(Event.anonymous_id == anonymous_id)
    if not who:
        return False
    before = now - timedelta(minutes=settings.snippet_visit_minutes)
    query = select(Event.id).where(or_(*who), Event.occurred_at < before).limit(1)
    return session.scalar(query) is not None


def segments_of(session: Session, customer_id: int | None) -> set[str]:
    """Names of the segments the customer is in now (as last rebuilt or refreshed)."""
    if customer_id is None:
        return set()
    query = (
        select(Segment.name)
        .join(SegmentMember, SegmentMember.segment_id == Segment.id)
        .where(SegmentMember.customer_id == customer_id, SegmentMember.left_at.is_(None))
    )
    return set(session.scalars(query))
