"""Customers' local time: their timezone, the next time of day there, and quiet hours.

A customer's timezone is ``customers.timezone`` when it names a zone the system knows, else
``Settings.default_timezone``. Times of day are wall-clock times in that zone (``zoneinfo``), so a send at
10:00 stays at 10:00 across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.moments import default_zone
from kizuna.scenarios.definition import QuietHours
from kizuna.store.bulk import among
from kizuna.store.tables import Customer


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; the store's default zone when it is empty or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_zone()


def timezones(session: Session, customer_ids: Iterable[int]) -> dict[int, ZoneInfo]:
    """Each customer's zone (customers without one, or unknown ids, get the default when looked up)."""
    found: dict[int, ZoneInfo] = {}
    for these in among(session, Customer.id, customer_ids):
        rows = session.execute(select(Customer.id, Customer.timezone).where(these))
        found.update({cid: zone(tz) for cid, tz in rows})
    return found


def next_local_time(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first moment at or after ``now`` when the clock in ``tz`` shows ``at`` (returned in UTC)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(UTC)


def quiet_until(now: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime | None:
    """When quiet hours end if ``now`` falls inside them in ``tz`` (UTC); ``None`` when sending is allowed.

    ``start`` after ``end`` spans midnight (21:00–09:00); ``start`` equal to ``end`` means no quiet hours.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    clock = now.astimezone(tz).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
    else:
        inside = clock >= quiet.start or clock < quiet.end
    return next_local_time(now, quiet.end, tz) if inside else None


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The moment (UTC) when the clock in ``tz`` shows ``at`` on ``day``."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
