"""Policies checked at the point of an action, for a whole batch of customers at once.

Consent is read as :func:`kizuna.privacy.consent.may` reads it (the latest decision recorded up to now wins,
only ``granted`` allows, the purpose's default for customers who never decided), but with one query per batch.
Frequency caps count every scenario's ``pending`` and ``sent`` deliveries through the channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kizuna.store.automation import OUTGOING, Delivery
from kizuna.store.bulk import among, is_postgres
from kizuna.store.tables import Customer, Event


def hold_customers(session: Session, customer_ids: Iterable[int]) -> None:
    """Lock the customers' rows until the transaction ends, in id order, so that two workers counting the
    same customer's deliveries against a frequency cap take turns: the second counts after the first has
    committed. PostgreSQL only (``FOR NO KEY UPDATE``, which leaves foreign-key checks free); SQLite has
    one writer at a time anyway."""
    if not is_postgres(session):
        return
    for these in among(session, Customer.id, customer_ids):
        locked = select(Customer.id).where(these).order_by(Customer.id)
        session.execute(locked.with_for_update(key_share=True)).all()


def recent_deliveries(
    session: Session, customer_ids: Iterable[int], channel: str, since: datetime
) -> dict[int, int]:
    """Per customer, the deliveries through ``channel`` that count towards a cap, created after ``since``."""
    counts: dict[int, int] = {}
    for these in among(session, Delivery.customer_id, customer_ids):
        rows = session.execute(
            select(Delivery.customer_id, func.count())
            .where(
                these,
                Delivery.channel == channel,
                Delivery.status.in_(OUTGOING),
                Delivery.created_at > since,
            )
            .group_by(Delivery.customer_id)
        )
        counts.update(dict(rows.tuples().all()))
    return counts


def matches(properties: Mapping[str, Any] | None, where: Mapping[str, Any]) -> bool:
    """Whether an event's properties equal every ``where`` value (numbers compare as numbers)."""
    props = properties or {}
    return all(key in props and props[key] == value for key, value in where.items())


def events_of(
    session: Session,
    customer_ids: Iterable[int],
    name: str,
    where: Mapping[str, Any],
    start: datetime,
    end: datetime | None = None,
) -> dict[int, list[tuple[datetime, int]]]:
    """Per customer, when events called ``name`` matching ``where`` occurred in [``start``, ``end``], with
    each event's id."""
    found: dict[int, list[tuple[datetime, int]]] = {}
    for these in among(session, Event.customer_id, customer_ids):
        query = select(Event.customer_id, Event.occurred_at, Event.id, Event.properties).where(
            these, Event.name == name, Event.occurred_at >= start
        )
        if end is not None:
            query = query.where(Event.occurred_at <= end)
        for cid, occurred_at, event_id, properties in session.execute(query):
            if matches(properties, where):
                found.setdefault(cid, []).append((occurred_at, event_id))
    return found


def happened(
    found: Mapping[int, list[tuple[datetime, int]]],
    customer_id: int,
    start: datetime,
    end: datetime | None,
    *,
    besides: str | None = None,
) -> bool:
    """Whether one of the customer's events in ``found`` lies in [``start``, ``end``], other than the event
    whose id is ``besides`` (the one that started the run: a trigger is never its own goal or ``unless``)."""
    return any(
        start <= t and (end is None or t <= end) and str(event_id) != besides
        for t, event_id in found.get(customer_id, ())
    )
