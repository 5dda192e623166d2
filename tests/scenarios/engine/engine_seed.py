"""Small builders for engine tests: customers, scenarios, events, and what the engine wrote."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from kizuna.privacy.consent import record_consent
from kizuna.scenarios.definition import parse_scenario, scenario_to_data
from kizuna.store import Store
from kizuna.store.automation import Delivery, Scenario, ScenarioRun, Segment, SegmentMember
from kizuna.store.tables import Campaign, Customer, Event

#: Monday 2 March 2026, 12:00 in Tokyo (the default timezone).
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
_serial = itertools.count(1)


def customers(
    store: Store,
    n: int = 1,
    *,
    timezone: str | None = None,
    birth_date: date | None = None,
    consent: tuple[str, ...] = ("email", "direct_mail", "ads"),
    attributes: dict[str, Any] | None = None,
) -> list[int]:
    """``n`` new customers who granted ``consent`` purposes (before ``T0``); their ids."""
    with store.session() as session, session.begin():
        made = [
            Customer(
                external_id=f"c-{next(_serial)}",
                timezone=timezone,
                birth_date=birth_date,
                attributes=dict(attributes or {}),
            )
            for _ in range(n)
        ]
        session.add_all(made)
        session.flush()
        for c in made:
            for purpose in consent:
                record_consent(session, c.id, purpose, "granted", at=datetime(2026, 1, 1, tzinfo=UTC))
        return [c.id for c in made]


def scenario(store: Store, data: dict[str, Any], *, status: str = "active", created_at: datetime = T0) -> int:
    """Save a scenario (and its campaign) as the registry would; its id."""
    definition = parse_scenario(data)
    with store.session() as session, session.begin():
        campaign = Campaign(external_id=f"scenario:{definition.name}", name=definition.name, kind="scenario")
        session.add(campaign)
        session.flush()
        row = Scenario(
            name=definition.name,
            definition=scenario_to_data(definition),
            status=status,
            campaign_id=campaign.id,
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(row)
        session.flush()
        return row.id


def set_status(store: Store, scenario_id: int, status: str) -> None:
    """Pause or resume a scenario."""
    with store.session() as session, session.begin():
        row = session.get(Scenario, scenario_id)
        assert row is not None
        row.status = status


def event(
    store: Store, customer_id: int | None, name: str, at: datetime, properties: dict[str, Any] | None = None
) -> int:
    """Record a track event that occurred (and was received) at ``at``; its id."""
    with store.session() as session, session.begin():
        row = Event(
            message_id=f"m-{next(_serial)}",
            type="track",
            name=name,
            customer_id=customer_id,
            occurred_at=at,
            received_at=at,
            properties=dict(properties or {}),
        )
        session.add(row)
        session.flush()
        return row.id


def join_segment(store: Store, name: str, customer_ids: list[int], at: datetime) -> None:
    """Record that the customers entered segment ``name`` at ``at``, creating the segment. Its condition is an
    attribute the customers are given here, so the worker's own rebuilds of the segment agree."""
    flag = "in_" + name.replace("-", "_")
    with store.session() as session, session.begin():
        for customer in session.scalars(select(Customer).where(Customer.id.in_(customer_ids))):
            customer.attributes = {**customer.attributes, flag: "yes"}
        segment = session.scalars(select(Segment).where(Segment.name == name)).first()
        if segment is None:
            segment = Segment(name=name, definition={"attribute": flag, "eq": "yes"})
            session.add(segment)
            session.flush()
        session.add_all(
            SegmentMember(segment_id=segment.id, customer_id=c, entered_at=at) for c in customer_ids
        )


def deliveries(store: Store) -> list[Delivery]:
    """Every delivery, in id order."""
    with store.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def runs(store: Store) -> list[ScenarioRun]:
    """Every run, in id order."""
    with store.session() as session:
        return list(session.scalars(select(ScenarioRun).order_by(ScenarioRun.id)))


def attributes(store: Store, customer_id: int) -> dict[str, Any]:
    """A customer's attributes."""
    with store.session() as session:
        found = session.get(Customer, customer_id)
        assert found is not None
        return dict(found.attributes)
