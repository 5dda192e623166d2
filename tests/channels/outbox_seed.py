"""Builders for channel tests: customers with consents, and deliveries written straight into the outbox."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery, Scenario
from kizuna.store.tables import Customer

#: Monday 2 March 2026, 12:00 in Tokyo.
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
_serial = itertools.count(1)


def customer(store: Store, *, consent: tuple[str, ...] = ("email", "direct_mail", "ads")) -> int:
    """A new customer who granted ``consent`` purposes on 1 January 2026; the id."""
    with store.session() as session, session.begin():
        made = Customer(external_id=f"cust-{next(_serial)}", name="山田 花子", attributes={})
        session.add(made)
        session.flush()
        for purpose in consent:
            record_consent(session, made.id, purpose, "granted", at=datetime(2026, 1, 1, tzinfo=UTC))
        return made.id


def scenario(store: Store, name: str = "welcome") -> int:
    """A scenario row (its definition is not read by channels); the id."""
    with store.session() as session, session.begin():
        row = Scenario(name=name, definition={}, status="active", created_at=T0, updated_at=T0)
        session.add(row)
        session.flush()
        return row.id


def delivery(
    store: Store,
    customer_id: int,
    *,
    channel: str = "webhook",
    template: str | None = "line-welcome",
    due_at: datetime = T0,
    scenario_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """A pending delivery, as the scenario engine writes it; the id."""
    n = next(_serial)
    with store.session() as session, session.begin():
        row = Delivery(
            key=f"{scenario_id or 0}:send:{customer_id}:once:{n}",
            scenario_id=scenario_id,
            step="send",
            customer_id=customer_id,
            channel=channel,
            template=template,
            arm="a",
            payload=payload if payload is not None else {"template": template, "coupon": f"WELCOME-{n:08d}"},
            status="pending",
            created_at=due_at,
            due_at=due_at,
        )
        session.add(row)
        session.flush()
        return row.id


def get(store: Store, delivery_id: int) -> Delivery:
    """The delivery as stored now."""
    with store.session() as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        return found


def all_deliveries(store: Store) -> list[Delivery]:
    """Every delivery, in id order."""
    with store.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def external_id(store: Store, customer_id: int) -> str:
    """A customer's external id."""
    with store.session() as session:
        found = session.get(Customer, customer_id)
        assert found is not None
        return found.external_id
