"""Per-purpose consent: the purposes, the statuses, and the state in force for a customer.

Consent is an append-only history (table ``consents``); the latest record per purpose is the one in force.
:func:`may` is the one question every channel and recommender asks before using a customer's data; until a
customer decides, the purpose's default in ``Settings.consent_defaults`` answers (opt-in: no, opt-out: yes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.config import Settings, get_settings
from kizuna.store.bulk import among
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
        purpose=purpose_of(purpose).value,
        status=_status_of(status).value,
        source=source,
        policy_version=policy_version,
        recorded_at=at or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def purpose_of(purpose: Purpose | str) -> Purpose:
    """``purpose`` as a :class:`Purpose`; a ValueError naming the purposes when it is none of them."""
    try:
        return Purpose(purpose)
    except ValueError:
        names = ", ".join(p.value for p in Purpose)
        raise ValueError(f"unknown consent purpose {purpose!r}: use one of {names}") from None


def _status_of(status: Status | str) -> Status:
    try:
        return Status(status)
    except ValueError:
        names = ", ".join(s.value for s in Status)
        raise ValueError(f"unknown consent status {status!r}: use one of {names}") from None


def default_allows(purpose: Purpose | str, settings: Settings | None = None) -> bool:
    """What holds for ``purpose`` before any decision: True for opt-out purposes, False for opt-in ones."""
    chosen = purpose_of(purpose)
    return (settings or get_settings()).consent_defaults.get(chosen.value, "opt-in") == "opt-out"


def may(
    session: Session,
    customer_id: int | None,
    purpose: Purpose | str,
    *,
    at: datetime | None = None,
    settings: Settings | None = None,
) -> bool:
    """Whether this customer's data may be used for ``purpose`` (at ``at``, default now).

    The latest decision recorded up to ``at`` wins: only ``granted`` allows. A customer who never decided, and
    an anonymous visitor (``customer_id=None``), get the purpose's default from ``Settings.consent_defaults``.
    Unknown purposes raise ValueError.
    """
    chosen = purpose_of(purpose)
    latest = None if customer_id is None else _latest_status(session, customer_id, chosen, at)
    if latest is None:
        return default_allows(chosen, settings)
    return latest == Status.GRANTED.value


def consented(session: Session, customer_ids: Iterable[int], purpose: Purpose, now: datetime) -> set[int]:
    """Of ``customer_ids``, those whose data may be used for ``purpose`` at ``now``: :func:`may` for many
    customers at once, in a query per chunk of ids."""
    wanted = sorted(set(customer_ids))
    latest: dict[int, str] = {}
    for these in among(session, Consent.customer_id, wanted):
        rows = session.execute(
            select(Consent.customer_id, Consent.status)
            .where(
                these,
                Consent.purpose == purpose.value,
                Consent.recorded_at <= now,
            )
            .order_by(Consent.customer_id, Consent.recorded_at, Consent.id)
        )
        latest.update(dict(rows.tuples().all()))
    default = default_allows(purpose)
    return {cid for cid in wanted if (latest[cid] == Status.GRANTED.value if cid in latest else default)}


def _latest_status(session: Session, customer_id: int, purpose: Purpose, at: datetime | None) -> str | None:
    """The status of the latest decision on ``purpose`` recorded up to ``at`` (all, when None)."""
    query = (
        select(Consent.status)
        .where(Consent.customer_id == customer_id, Consent.purpose == purpose.value)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    if at is not None:
        query = query.where(Consent.recorded_at <= at)
    return session.scalars(query).first()


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
    Channels and recommenders ask :func:`may` instead, which takes the default from the settings.
    """
    latest = _latest_status(session, customer_id, Purpose(purpose), None)
    if latest is None:
        return default
    return latest == Status.GRANTED.value
