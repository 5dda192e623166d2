"""Consent of web visitors, whether kizuna knows who they are or not.

The rule, applied wherever a visitor is addressed by cookie id (web personalisation, cookie audiences):

1. A cookie id linked to a customer (an ``anonymous_id`` identity, after ``identify``) follows that customer's
   decisions, exactly as :func:`kizuna.privacy.consent.may` reads them.
2. Otherwise the latest decision the browser reported for that cookie id (``/v1/consent`` keeps it in
   ``visitor_consents``) wins: only ``granted`` allows.
3. Otherwise the purpose's default from ``Settings.consent_defaults`` (``ads`` is opt-in: no).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.config import Settings
from kizuna.privacy.consent import Purpose, Status, default_allows, may, purpose_of
from kizuna.store.types import utcnow
from kizuna.store.visitors import VisitorConsent

#: Cookie ids looked up per query.
_CHUNK = 500


def record_visitor_consent(
    session: Session,
    anonymous_id: str,
    decisions: Mapping[str, Status | str],
    *,
    source: str | None = None,
    policy_version: str | None = None,
    at: datetime | None = None,
) -> int:
    """Append an unknown visitor's decisions (purpose → status) for their cookie id; how many were added."""
    when = at or utcnow()
    for purpose, status in decisions.items():
        session.add(
            VisitorConsent(
                anonymous_id=anonymous_id,
                purpose=purpose_of(purpose).value,
                status=Status(status).value,
                source=source,
                policy_version=policy_version,
                recorded_at=when,
            )
        )
    session.flush()
    return len(decisions)


def visitor_decisions(
    session: Session, anonymous_ids: Iterable[str], purpose: Purpose, at: datetime
) -> dict[str, str]:
    """The latest reported status per cookie id for ``purpose`` up to ``at`` (undecided ids: absent)."""
    latest: dict[str, str] = {}
    wanted = sorted(set(anonymous_ids))
    for start in range(0, len(wanted), _CHUNK):
        these = VisitorConsent.anonymous_id.in_(wanted[start : start + _CHUNK])
        rows = session.execute(
            select(VisitorConsent.anonymous_id, VisitorConsent.status)
            .where(these, VisitorConsent.purpose == purpose.value, VisitorConsent.recorded_at <= at)
            .order_by(VisitorConsent.anonymous_id, VisitorConsent.recorded_at, VisitorConsent.id)
        )
        latest.update(dict(rows.tuples().all()))
    return latest


def visitor_may(
    session: Session,
    purpose: Purpose | str,
    *,
    customer_id: int | None,
    anonymous_id: str | None,
    at: datetime | None = None,
    settings: Settings | None = None,
) -> bool:
    """Whether this visitor's data may be used for ``purpose``: the rule in the module docstring."""
    chosen = purpose_of(purpose)
    if customer_id is not None:
        return may(session, customer_id, chosen, at=at, settings=settings)
    if anonymous_id is not None:
        found = visitor_decisions(session, [anonymous_id], chosen, at or utcnow()).get(anonymous_id)
        if found is not None:
            return found == Status.GRANTED.value
    return default_allows(chosen, settings)
