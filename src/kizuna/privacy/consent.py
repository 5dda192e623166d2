"""Per-purpose consent: the purposes, the statuses, and the state in force for a customer.

Consent is an append-only history (table ``consents``); the latest record per purpose is the one in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.store.tables import Consent
from kizuna.store.types import utcnow


class Purpose(StrEnum):
    """What a customer's data may be used for."""

    TRACKING = "tracking"
    PERSONALISATION = "personalisation"
    EMAIL = "email"
    DIRECT_MAIL = "direct_mail"
    ADS = "ads"
    THIRD_PARTY = "third_party"


class Status(StrEnum):
    """A consent decision."""

    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ConsentState:
    """The decision in force for one purpose."""

    purpose: str
    status: str
    source: str | None
    policy_version: str | None
    recorded_at: datetime


def record_consent(
    session: Session,
    customer_id: int,
    purpose: Purpose | str,
    status: Status | str,
    *,
    source: str | None = None,
    policy_version: str | None = None,
    at: datetime | None = None,
) -> Consent:
    """Append a consent decision; earlier ones stay in the history."""
    record = Consent(
        customer_id=customer_id,
        purpose=Purpose(purpose).value,
        status=Status(status).value,
        source=source,
        policy_version=policy_version,
        recorded_at=at or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def consent_state(session: Session, customer_id: int) -> dict[str, ConsentState]:
    """The latest decision per purpose for a customer (purposes never decided are absent)."""
    rows = session.scalars(
        select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.recorded_at, Consent.id)
    )
    state: dict[str, ConsentState] = {}
    for row in rows:
        state[row.purpose] = ConsentState(
            row.purpose, row.status, row.source, row.policy_version, row.recorded_at
        )
    return state


def is_allowed(session: Session, customer_id: int, purpose: Purpose | str, *, default: bool) -> bool:
    """Whether the decision in force lets ``purpose`` use this customer's data.

    ``default`` answers for customers who never decided (opt-out purposes: True; opt-in purposes: False).
    """
    latest = session.scalars(
        select(Consent.status)
        .where(Consent.customer_id == customer_id, Consent.purpose == Purpose(purpose).value)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return default
    return latest == Status.GRANTED.value
