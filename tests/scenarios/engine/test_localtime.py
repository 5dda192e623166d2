"""Local time: the next time of day in a zone (across daylight saving) and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from kizuna.scenarios.definition import QuietHours
from kizuna.scenarios.engine.localtime import next_local_time, quiet_until, zone

PARIS = ZoneInfo("Europe/Paris")
NIGHT = QuietHours(start=time(21, 0), end=time(9, 0))


def test_next_local_time_is_today_or_tomorrow_and_keeps_the_wall_clock_across_dst() -> None:
    before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # Saturday 09:00 in Paris (CET, UTC+1)
    assert next_local_time(before, time(10, 0), PARIS) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    after = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)  # 11:00: tomorrow, which is summer time (UTC+2)
    assert next_local_time(after, time(10, 0), PARIS) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    exactly = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert next_local_time(exactly, time(10, 0), PARIS) == exactly


def test_quiet_hours_across_midnight() -> None:
    assert quiet_until(datetime(2026, 3, 2, 21, 30, tzinfo=UTC), NIGHT, PARIS) == datetime(
        2026, 3, 3, 8, 0, tzinfo=UTC
    )  # 22:30 → 09:00 tomorrow
    assert quiet_until(datetime(2026, 3, 3, 5, 0, tzinfo=UTC), NIGHT, PARIS) == datetime(
        2026, 3, 3, 8, 0, tzinfo=UTC
    )  # 06:00 → 09:00 today
    assert quiet_until(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), NIGHT, PARIS) is None  # 09:00: the end
    assert quiet_until(datetime(2026, 3, 3, 19, 59, tzinfo=UTC), NIGHT, PARIS) is None  # 20:59


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert quiet_until(datetime(2026, 3, 3, 11, 30, tzinfo=UTC), lunch, PARIS) == datetime(
        2026, 3, 3, 12, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 3, 3, 12, 30, tzinfo=UTC), lunch, PARIS) is None
    assert quiet_until(datetime(2026, 3, 3, 12, 30, tzinfo=UTC), None, PARIS) is None


def test_an_unknown_or_missing_zone_is_the_default() -> None:
    assert zone(None) == ZoneInfo("Asia/Tokyo")
    assert zone("Mars/Olympus") == ZoneInfo("Asia/Tokyo")
    assert zone("Europe/Paris") == PARIS
