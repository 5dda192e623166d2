"""Consent decisions of anonymous visitors: the choices a browser reported before its visitor was known.

A customer's decisions live in ``consents``. A visitor kizuna cannot tie to a customer yet (a cookie id with
no customer) still tells the snippet what it allows; those choices are kept here against the anonymous id,
append-only like ``consents``, so that cookie-based ad audiences and web personalisation can respect them.
Owned by migration 0006. The rows hold a random cookie id and a decision, no personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from kizuna.store.tables import Base
from kizuna.store.types import BigId, UTCDateTime, utcnow


class VisitorConsent(Base):
    """One consent decision of an anonymous visitor (by cookie id); the latest per purpose is in force."""

    __tablename__ = "visitor_consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    anonymous_id: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index(
    "ix_visitor_consents_anonymous_id_purpose_recorded_at",
    VisitorConsent.anonymous_id,
    VisitorConsent.purpose,
    VisitorConsent.recorded_at,
)


@event.listens_for(VisitorConsent, "before_update")
def _visitor_consents_are_append_only(_mapper: Any, _connection: Any, target: VisitorConsent) -> None:
    raise ValueError(f"visitor consent record {target.id} cannot be changed: record a new decision instead")
