"""Scenario sends to web slots: served, not pushed.

A scenario step ``send: {channel: web, slot: NAME, template: T}`` writes a ``pending`` delivery to the outbox
like any other send. No dispatcher sends it: the web channel has no far side to push to. The next time the
customer's browser asks for slot ``NAME``, :func:`take_delivery` hands the oldest pending one over and marks
it ``sent`` in the same statement that checks it is still pending, so two page views at once never both
show it,
and records an ``open`` response (the impression) for the scenario's measurement.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kizuna.channels.responses import ResponseKind, record_response
from kizuna.store.automation import PENDING, SENT, Delivery, Scenario
from kizuna.store.references import affected

#: The outbox channel of web slots.
WEB = "web"
#: ``Session.info`` flag set once a delivery was taken: the caller has something to commit.
WROTE = "kizuna_web_wrote"


def pending_deliveries(
    session: Session, customer_id: int, *, now: datetime, max_age: timedelta
) -> list[tuple[int, str]]:
    """The customer's pending web deliveries due by ``now`` and younger than ``max_age``: (id, slot),
    oldest first. Only reads; :func:`take_delivery` claims one."""
    query = (
        select(Delivery.id, Delivery.payload)
        .where(
            Delivery.customer_id == customer_id,
            Delivery.channel == WEB,
            Delivery.status == PENDING,
            Delivery.due_at <= now,
            Delivery.created_at >= now - max_age,
        )
        .order_by(Delivery.created_at, Delivery.id)
    )
    return [(int(i), str((payload or {}).get("slot") or "")) for i, payload in session.execute(query)]


def take_delivery(session: Session, delivery_id: int, *, now: datetime, slot: str) -> Delivery | None:
    """Mark the delivery sent if it is still pending, record the impression, and return it; ``None`` when
    another request took it first. Runs in the caller's transaction."""
    claimed = affected(
        session,
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == PENDING)
        .values(status=SENT, sent_at=now, attempts=Delivery.attempts + 1),
    )
    if claimed != 1:
        return None
    session.info[WROTE] = True
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    assert delivery is not None
    record_response(session, delivery, ResponseKind.OPEN, at=now, details={"slot": slot, "via": "web"})
    return delivery


def scenario_name(session: Session, scenario_id: int | None) -> str | None:
    """The name of the scenario that wrote a delivery."""
    if scenario_id is None:
        return None
    return session.scalar(select(Scenario.name).where(Scenario.id == scenario_id))
