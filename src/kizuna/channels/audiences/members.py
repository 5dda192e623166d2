"""Who is in an audience, and who of them may be shown ads now.

An audience named ``NAME`` is either the current members of segment ``NAME`` (as last rebuilt or refreshed),
or, when no segment has that name, the customers that scenarios sent to audience ``NAME``: ``ads``
deliveries in the outbox whose ``payload["audience"]`` is ``NAME`` and that were not suppressed or failed.

Consent is read as :func:`kizuna.privacy.consent.may` reads it, at the moment of the export: the latest
``ads`` decision recorded up to ``now`` wins, only ``granted`` allows, and customers who never decided get
the purpose's default from ``Settings.consent_defaults`` (opt-in: left out). One query for the whole
audience, never one per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import Purpose, Status, default_allows
from kizuna.store.automation import OUTGOING, Delivery, Segment, SegmentMember
from kizuna.store.engine import Store
from kizuna.store.tables import Consent, Customer, Identity

#: Identity kind of a LINE user id (``U`` and 32 hex digits), as an import or the tracking API links it.
LINE_USER_ID = "line"
#: Outbox statuses that put a customer in an ``ads`` audience: written to go out, or gone out.
AUDIENCE_STATUSES = OUTGOING


@dataclass(frozen=True)
class AudienceCustomer:
    """What an audience export needs of one customer, as stored (normalising is the platforms' job)."""

    customer_id: int
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    country: str | None = None
    postal_code: str | None = None
    prefecture: str | None = None
    city: str | None = None
    line_user_id: str | None = None


@dataclass(frozen=True)
class Audience:
    """An audience at the time of an export: who is in it, and who of them may be shown ads."""

    name: str
    source: str
    members: int
    consented: list[AudienceCustomer]

    @property
    def no_consent(self) -> int:
        """Members left out because they do not (or no longer) allow ``ads``."""
        return self.members - len(self.consented)


def _member_ids(conn: Connection, name: str) -> tuple[str, Select[Any]]:
    """("segment" or "outbox", a query of the audience's customer ids)."""
    segment_id = conn.execute(select(Segment.id).where(Segment.name == name)).scalar_one_or_none()
    if segment_id is not None:
        query = select(SegmentMember.customer_id).where(
            SegmentMember.segment_id == segment_id, SegmentMember.left_at.is_(None)
        )
        return "segment", query
    sent = (
        select(Delivery.customer_id)
        .where(
            Delivery.channel == "ads",
            Delivery.status.in_(AUDIENCE_STATUSES),
            Delivery.payload["audience"].as_string() == name,
        )
        .distinct()
    )
    if conn.execute(sent.limit(1)).first() is None:
        raise NotFoundError(
            f"no audience named {name!r}: it is neither a segment (see `kizuna segments list`) nor the "
            "audience of any ads delivery in the outbox"
        )
    return "outbox", sent


def _allowed(conn: Connection, ids: Select[Any], now: datetime) -> tuple[set[int], set[int]]:
    """(customers whose latest ``ads`` decision up to ``now`` grants, those whose latest refuses)."""
    rows = conn.execute(
        select(Consent.customer_id, Consent.status)
        .where(
            Consent.purpose == Purpose.ADS.value,
            Consent.recorded_at <= now,
            Consent.customer_id.in_(ids.scalar_subquery()),
        )
        .order_by(Consent.customer_id, Consent.recorded_at, Consent.id)
    )
    latest = dict(rows.tuples().all())
    granted = {int(c) for c, s in latest.items() if s == Status.GRANTED.value}
    return granted, {int(c) for c in latest} - granted


def _line_ids(conn: Connection, ids: Select[Any]) -> dict[int, str]:
    rows = conn.execute(
        select(Identity.customer_id, Identity.value)
        .where(Identity.kind == LINE_USER_ID, Identity.customer_id.in_(ids.scalar_subquery()))
        .order_by(Identity.customer_id, Identity.last_seen_at)
    )
    return {int(c): str(v) for c, v in rows}


def load_audience(store: Store, name: str, *, now: datetime, line_ids: bool = False) -> Audience:
    """The audience ``name`` now: its member count and its members who allow ``ads`` at ``now``, by id.

    With ``line_ids`` each customer also carries their LINE user id (the latest one linked), if any.

    Raises:
        NotFoundError: no segment has that name and no ads delivery names that audience.
    """
    with store.engine.connect() as conn:
        source, ids = _member_ids(conn, name)
        granted, refused = _allowed(conn, ids, now)
        by_default = default_allows(Purpose.ADS)
        line = _line_ids(conn, ids) if line_ids else {}
        rows = conn.execute(
            select(
                Customer.id,
                Customer.email,
                Customer.phone,
                Customer.name,
                Customer.country,
                Customer.postal_code,
                Customer.prefecture,
                Customer.city,
            )
            .where(Customer.id.in_(ids.scalar_subquery()))
            .order_by(Customer.id)
        )
        members = 0
        consented: list[AudienceCustomer] = []
        for cid, email, phone, full_name, country, postal, prefecture, city in rows:
            members += 1
            allowed = cid in granted or (by_default and cid not in refused)
            if allowed:
                consented.append(
                    AudienceCustomer(
                        cid, email, phone, full_name, country, postal, prefecture, city, line.get(cid)
                    )
                )
    return Audience(name, source, members, consented)
