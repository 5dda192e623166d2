"""Moments people type: ISO days and times, read in the store's default time zone when they name none.

``KIZUNA_DEFAULT_TIMEZONE`` (``Asia/Tokyo`` unless set) is the zone of every day or time given without one —
on the command line (``--at``, ``--now``), in segment conditions and in merchandising rules — exactly as in
file imports; kizuna keeps every moment in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kizuna.config import get_settings


def default_zone() -> ZoneInfo:
    """The zone of days and times that name none (``KIZUNA_DEFAULT_TIMEZONE``)."""
    return ZoneInfo(get_settings().default_timezone)


def aware(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is first read in :func:`default_zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_zone())
    return moment.astimezone(UTC)


def parse_moment(text: str) -> datetime:
    """An ISO day (its midnight) or time as an aware UTC datetime. Raises ValueError on anything else."""
    return aware(datetime.fromisoformat(text.strip()))
