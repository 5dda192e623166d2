"""Days and times people type, read in the default time zone when they name none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kizuna.config import get_settings
from kizuna.moments import aware, default_zone, parse_moment


def test_a_bare_day_or_time_is_in_the_default_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_DEFAULT_TIMEZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    assert str(default_zone()) == "Asia/Tokyo"
    assert parse_moment("2026-03-01") == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert parse_moment(" 2026-03-01T10:30 ") == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    monkeypatch.setenv("KIZUNA_DEFAULT_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    assert parse_moment("2026-07-01T10:30") == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # summer time


def test_a_named_zone_wins_and_the_result_is_utc() -> None:
    moment = parse_moment("2026-03-01T10:00:00+09:00")
    assert moment == datetime(2026, 3, 1, 1, 0, tzinfo=UTC) and moment.tzinfo is UTC
    assert aware(datetime(2026, 3, 1, 1, 0, tzinfo=UTC)).tzinfo is UTC


def test_anything_else_is_a_value_error() -> None:
    for text in ("yesterday", "2026-13-01", "", "01/03/2026"):
        with pytest.raises(ValueError):
            parse_moment(text)
