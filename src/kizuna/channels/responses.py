"""Responses to deliveries: opens, clicks, unsubscribes, QR scans, coupon redemptions and orders.

Each response is a row in ``responses``, tied to the delivery it answers and carrying the delivery's
scenario, step and arm, so results per scenario and arm need no join. Every response is kept (an email opened
three times has three ``open`` rows); :func:`count_responses` counts them all, or with ``first_only`` the
deliveries that had at least one, which is what an open rate is. No IP address is ever stored: ``details``
holds at most the clicked URL and the user agent's family (:func:`user_agent_family`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import Purpose, Status, record_consent
from kizuna.store.automation import Delivery, Response

#: The consent source recorded when a customer follows an email's unsubscribe link.
UNSUBSCRIBE_SOURCE = "one-click unsubscribe"


class ResponseKind(StrEnum):
    """What a customer did in answer to a delivery."""

    OPEN = "open"
    CLICK = "click"
    UNSUBSCRIBE = "unsubscribe"
    SCAN = "scan"
    REDEEM = "redeem"
    ORDER = "order"


#: User agent families, the first whose marker appears wins: mail clients and image proxies first, since
#: they also carry browser names.
_FAMILIES = (
    ("GoogleImageProxy", "Gmail image proxy"),
    ("YahooMailProxy", "Yahoo Mail proxy"),
    ("Outlook", "Outlook"),
    ("Thunderbird", "Thunderbird"),
    ("bot", "bot"),
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("AppleWebKit", "Apple Mail"),
)


def user_agent_family(user_agent: str | None) -> str:
    """The family of a User-Agent header (``Chrome``, ``Apple Mail``, ``Gmail image proxy`` ...), or
    ``other``: enough to tell proxies' automatic opens from people's, too little to single anyone out."""
    if not user_agent:
        return "other"
    lowered = user_agent.lower()
    for marker, family in _FAMILIES:
        if marker.lower() in lowered:
            return family
    return "other"


def find_delivery(session: Session, delivery: str | int) -> Delivery:
    """The delivery with this key (a string) or id (an int); NotFoundError when there is none."""
    if isinstance(delivery, int):
        found = session.get(Delivery, delivery)
    else:
        found = session.scalars(select(Delivery).where(Delivery.key == delivery)).one_or_none()
    if found is None:
        raise NotFoundError(f"no delivery {delivery!r}: the link refers to a message that no longer exists")
    return found


def record_response(
    session: Session,
    delivery: str | int | Delivery,
    kind: ResponseKind | str,
    *,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> Response:
    """Record one response to ``delivery`` (its key, id or row) at ``at``; the new row.

    An unknown ``kind`` raises ValueError; an unknown delivery NotFoundError.
    """
    kind = ResponseKind(kind)
    row = delivery if isinstance(delivery, Delivery) else find_delivery(session, delivery)
    response = Response(
        delivery_id=row.id,
        customer_id=row.customer_id,
        scenario_id=row.scenario_id,
        step=row.step,
        arm=row.arm,
        kind=kind.value,
        occurred_at=at,
        details=dict(details or {}),
    )
    session.add(response)
    session.flush()
    return response


def unsubscribe(
    session: Session, delivery: str | int, *, at: datetime, details: Mapping[str, Any] | None = None
) -> bool:
    """Withdraw the email consent of the customer ``delivery`` went to, and record an ``unsubscribe``
    response; True when that happened now, False when this delivery's link was already followed (the link
    may be followed again, by the customer or by a mail client, without recording anything twice)."""
    row = find_delivery(session, delivery)
    earlier = session.scalar(
        select(Response.id)
        .where(Response.delivery_id == row.id, Response.kind == ResponseKind.UNSUBSCRIBE.value)
        .limit(1)
    )
    if earlier is not None:
        return False
    record_consent(
        session, row.customer_id, Purpose.EMAIL, Status.WITHDRAWN, source=UNSUBSCRIBE_SOURCE, at=at
    )
    record_response(session, row, ResponseKind.UNSUBSCRIBE, at=at, details=details)
    return True


def count_responses(
    session: Session,
    kind: ResponseKind | str,
    *,
    delivery: int | None = None,
    scenario_id: int | None = None,
    arm: str | None = None,
    first_only: bool = False,
) -> int:
    """How many ``kind`` responses (of one delivery, scenario or arm, when given) were recorded; with
    ``first_only``, how many deliveries had at least one (the first open of a message is the one that
    counts)."""
    counted = func.count(distinct(Response.delivery_id)) if first_only else func.count()
    query = select(counted).select_from(Response).where(Response.kind == ResponseKind(kind).value)
    if delivery is not None:
        query = query.where(Response.delivery_id == delivery)
    if scenario_id is not None:
        query = query.where(Response.scenario_id == scenario_id)
    if arm is not None:
        query = query.where(Response.arm == arm)
    return int(session.scalar(query) or 0)
