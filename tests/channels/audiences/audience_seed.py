"""Customers, a segment and consents for the audience tests, written straight to the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery, Segment, SegmentMember
from kizuna.store.tables import Customer, Identity

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    """A customer to seed: contact details and the ads decision (None: never decided)."""

    key: str
    email: str | None
    phone: str | None = None
    name: str | None = None
    ads: str | None = "granted"
    line_id: str | None = None


def add_people(store: Store, people: Sequence[Person], *, at: datetime = T0) -> dict[str, int]:
    """Insert the customers (in Tokyo, JP) with their ads decisions; their ids by key."""
    ids: dict[str, int] = {}
    with store.session() as session, session.begin():
        for p in people:
            customer = Customer(
                external_id=p.key,
                email=p.email,
                phone=p.phone,
                name=p.name,
                country="JP",
                postal_code="150-0002",
                prefecture="東京都",
                city="渋谷区",
            )
            session.add(customer)
            session.flush()
            ids[p.key] = customer.id
            if p.ads is not None:
                record_consent(session, customer.id, "ads", p.ads, at=at)
            if p.line_id is not None:
                session.add(Identity(customer_id=customer.id, kind="line", value=p.line_id))
    return ids


def set_segment(store: Store, name: str, members: Sequence[int], *, at: datetime = T0) -> None:
    """Make ``members`` the current members of segment ``name`` (closing the stays of everyone else)."""
    with store.session() as session, session.begin():
        segment = session.query(Segment).filter_by(name=name).one_or_none()
        if segment is None:
            segment = Segment(name=name, definition={"all": []}, member_count=0)
            session.add(segment)
            session.flush()
        current = {
            m.customer_id for m in session.query(SegmentMember).filter_by(segment_id=segment.id, left_at=None)
        }
        leaving = sorted(current - set(members))
        if leaving:
            session.execute(
                update(SegmentMember)
                .where(
                    SegmentMember.segment_id == segment.id,
                    SegmentMember.customer_id.in_(leaving),
                    SegmentMember.left_at.is_(None),
                )
                .values(left_at=at)
            )
        for cid in sorted(set(members) - current):
            session.add(SegmentMember(segment_id=segment.id, customer_id=cid, entered_at=at))


def add_ads_delivery(store: Store, customer_id: int, audience: str, *, status: str = "sent") -> None:
    """An ``ads`` delivery of ``customer_id`` to ``audience`` in the outbox."""
    with store.session() as session, session.begin():
        session.add(
            Delivery(
                key=f"test:{audience}:{customer_id}:{status}",
                customer_id=customer_id,
                channel="ads",
                payload={"scenario": "test", "audience": audience},
                status=status,
                created_at=T0,
                due_at=T0,
            )
        )
