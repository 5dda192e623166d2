from __future__ import annotations

from datetime import time, timedelta

import pytest

from kizuna.scenarios.durations import format_duration, parse_duration, parse_time_of_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(days=14)),
        ("1.5h", timedelta(minutes=90)),
        (90, timedelta(seconds=90)),
    ],
)
def test_durations_are_read_as_marketers_write_them(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3 days", "1y", "-2h", True])
def test_unreadable_durations_say_what_is_expected(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_formatting_uses_the_largest_exact_unit_and_reads_back() -> None:
    for value in (timedelta(days=7), timedelta(minutes=90), timedelta(hours=36), timedelta(seconds=61)):
        assert parse_duration(format_duration(value)) == value
    assert format_duration(timedelta(days=14)) == "2w"
    assert format_duration(timedelta(minutes=90)) == "90m"


def test_times_of_day_are_24_hour_clock() -> None:
    assert parse_time_of_day("9:05") == time(9, 5)
    assert parse_time_of_day("21:00") == time(21, 0)
    for bad in ("24:00", "9am", "12:60"):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_time_of_day(bad)
