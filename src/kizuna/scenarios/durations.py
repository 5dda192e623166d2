"""Durations and times of day as marketers write them: ``30m``, ``24h``, ``7d``, ``2w``, ``10:00``."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_duration(value: Any) -> timedelta:
    """``"24h"`` → 24 hours; a number is seconds; a timedelta passes through. ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 24h, 7d or 2w")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"expected a duration such as 30m, 24h, 7d or 2w, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact form: ``timedelta(days=7)`` → ``"1w"``, 90 minutes → ``"90m"``."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_time_of_day(value: Any) -> time:
    """``"10:00"`` → 10:00 (24-hour clock). ValueError otherwise."""
    if isinstance(value, time):
        return value
    match = _TIME.match(str(value))
    if match is None:
        raise ValueError(f"expected a time of day as HH:MM (24-hour), got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
TimeOfDay = Annotated[
    time, BeforeValidator(parse_time_of_day), PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)
]
