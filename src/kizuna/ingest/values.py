"""Parsing one cell of input into a typed value, or a ValueError saying what was expected.

Importers wrap the ValueError into an :class:`~kizuna.errors.ImportDataError` naming the file, line
and column.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

_TRUE = {"1", "true", "t", "yes", "y", "on", "はい", "有"}
_FALSE = {"0", "false", "f", "no", "n", "off", "いいえ", "無", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_DATETIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


class Expected(ValueError):
    """A cell that is not what its column needs; the message is the expectation."""


def blank(value: Any) -> bool:
    """True for None, empty strings and NaN (how CSV and Parquet say 'no value')."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def parse_str(value: Any, max_length: int | None = None) -> str | None:
    """A trimmed string, or None when blank."""
    if blank(value):
        return None
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise Expected(f"text of at most {max_length} characters")
    return text


def parse_int(value: Any) -> int | None:
    """An integer (``"3"``, ``3.0``), or None when blank."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise Expected("an integer")
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        raise Expected("an integer") from None
    if not number.is_integer():
        raise Expected("an integer")
    return int(number)


def parse_float(value: Any) -> float | None:
    """A number (``"1,280"`` and ``"¥1280"`` accepted), or None when blank."""
    if blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "").lstrip("¥￥$€")
    try:
        number = float(text)
    except ValueError:
        raise Expected("a number such as 1280 or 12.50") from None
    if math.isnan(number) or math.isinf(number):
        raise Expected("a finite number")
    return number


def parse_bool(value: Any) -> bool | None:
    """true/false, 1/0, yes/no (and はい/いいえ), or None when blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return None if not text else False
    raise Expected("true/false, yes/no or 1/0")


def parse_date(value: Any) -> date | None:
    """A date: 2024-03-01, 2024/03/01, 20240301 or 2024年3月1日; None when blank."""
    if blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Expected("a date such as 2024-03-01 or 2024/03/01")


def parse_datetime(value: Any, default_tz: tzinfo | str = UTC) -> datetime | None:
    """An aware datetime from ISO 8601, ``2024/03/01 10:00``, a date, or Unix seconds; None when blank.

    Times without a timezone are taken to be in ``default_tz``.
    """
    if blank(value):
        return None
    tz = ZoneInfo(default_tz) if isinstance(default_tz, str) else default_tz
    result: datetime | None = None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = datetime.fromtimestamp(float(value), UTC)
    else:
        text = str(value).strip()
        if text.isdigit() and len(text) in (9, 10):
            result = datetime.fromtimestamp(int(text), UTC)
        else:
            result = _parse_datetime_text(text)
    if result is None:
        raise Expected("a date-time such as 2024-03-01T10:00:00+09:00, 2024/03/01 10:00 or Unix seconds")
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result


def _parse_datetime_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS + _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_json_object(value: Any) -> dict[str, Any]:
    """A JSON object (given as text or already a dict); blank gives ``{}``."""
    if blank(value):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        raise Expected('a JSON object such as {"color": "red"}') from None
    if not isinstance(parsed, dict):
        raise Expected('a JSON object such as {"color": "red"}')
    return parsed


def jsonable(value: Any) -> Any:
    """A cell value as it can be stored in a JSON column (dates as ISO text, NaN as null)."""
    if blank(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
