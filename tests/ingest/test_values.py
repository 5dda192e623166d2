from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kizuna.ingest import values as v

JST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T10:00:00+09:00", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        ("2024-03-01T01:00:00Z", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        ("2024/03/01 10:00", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 2, 29, 15, 0, tzinfo=UTC)),
        ("881250949", datetime(1997, 12, 4, 15, 55, 49, tzinfo=UTC)),
        (881250949, datetime(1997, 12, 4, 15, 55, 49, tzinfo=UTC)),
    ],
)
def test_parse_datetime_forms_in_tokyo_default(raw: object, expected: datetime) -> None:
    parsed = v.parse_datetime(raw, "Asia/Tokyo")
    assert parsed == expected


@pytest.mark.parametrize("raw", ["2024-13-01", "yesterday", "1/2/3/4"])
def test_parse_datetime_rejects_with_expectation(raw: str) -> None:
    with pytest.raises(v.Expected, match="date-time"):
        v.parse_datetime(raw)


def test_parse_date_japanese_forms() -> None:
    assert v.parse_date("2024年3月1日") == date(2024, 3, 1)
    assert v.parse_date("20240301") == date(2024, 3, 1)
    assert v.parse_date("") is None
    with pytest.raises(v.Expected):
        v.parse_date("2024-02-30")


def test_numbers_bools_and_json() -> None:
    assert v.parse_float("¥1,280") == 1280.0
    assert v.parse_int("3.0") == 3
    with pytest.raises(v.Expected):
        v.parse_int("3.5")
    with pytest.raises(v.Expected):
        v.parse_float("abc")
    assert v.parse_bool("はい") is True and v.parse_bool("no") is False and v.parse_bool("") is None
    with pytest.raises(v.Expected):
        v.parse_bool("maybe")
    assert v.parse_json_object('{"a": 1}') == {"a": 1}
    with pytest.raises(v.Expected):
        v.parse_json_object("[1, 2]")
    assert v.jsonable(date(2024, 1, 2)) == "2024-01-02"
    assert v.jsonable(float("nan")) is None
