"""Segment ``identify`` traits onto a customer: known traits fill columns, everything else goes to attributes.

Both Segment's reserved names (``firstName``, ``postalCode``, ``address: {street, city, state, ...}``)
and kizuna's own column names (``name_kana``, ``prefecture``, ``address_line1`` ...) are understood. A value
that does not fit its column (a birthday that is not a date, a country that is not a two-letter code) is kept
in the attributes under its trait name instead, so nothing sent is lost and nothing is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kizuna.ingest import values as v

#: Trait name (as sent) → customer column.
_COLUMNS: dict[str, str] = {
    "email": "email",
    "name": "name",
    "name_kana": "name_kana",
    "nameKana": "name_kana",
    "kana": "name_kana",
    "furigana": "name_kana",
    "phone": "phone",
    "tel": "phone",
    "postal_code": "postal_code",
    "postalCode": "postal_code",
    "zip": "postal_code",
    "country": "country",
    "prefecture": "prefecture",
    "state": "prefecture",
    "city": "city",
    "address_line1": "address_line1",
    "street": "address_line1",
    "address_line2": "address_line2",
    "birthday": "birth_date",
    "birth_date": "birth_date",
    "birthDate": "birth_date",
    "gender": "gender",
    "sex": "gender",
    "timezone": "timezone",
}

_LENGTHS = {
    "email": 320,
    "name": 200,
    "name_kana": 200,
    "phone": 32,
    "postal_code": 16,
    "prefecture": 64,
    "city": 128,
    "address_line1": 256,
    "address_line2": 256,
    "gender": 16,
    "timezone": 64,
}

#: Keys of Segment's ``address`` trait → column.
_ADDRESS: dict[str, str] = {
    "street": "address_line1",
    "line1": "address_line1",
    "street2": "address_line2",
    "line2": "address_line2",
    "city": "city",
    "state": "prefecture",
    "prefecture": "prefecture",
    "postalCode": "postal_code",
    "postal_code": "postal_code",
    "zip": "postal_code",
    "country": "country",
}

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Traits:
    """Traits sorted into customer columns and free-form attributes."""

    columns: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def email(self) -> str | None:
        """The email the traits carry, if any."""
        email = self.columns.get("email")
        return email if isinstance(email, str) else None


def _birth_date(value: Any) -> date | None:
    try:
        return v.parse_date(value)
    except ValueError:
        parsed = v.parse_datetime(value)  # "1990-04-01T00:00:00Z", as Segment's libraries send dates
        return parsed.date() if parsed is not None else None


def _parser(column: str) -> Callable[[Any], Any]:
    if column == "birth_date":
        return _birth_date
    if column == "country":
        return _country
    if column == "email":
        return _email
    length = _LENGTHS[column]
    return lambda value: v.parse_str(value, length)


def _country(value: Any) -> str | None:
    text = v.parse_str(value)
    if text is None:
        return None
    if len(text) != 2 or not text.isalpha():
        raise ValueError("a two-letter country code")
    return text.upper()


def _email(value: Any) -> str | None:
    text = v.parse_str(value, 320)
    if text is not None and "@" not in text:
        raise ValueError("an email address")
    return text


def _put(result: Traits, key: str, column: str, value: Any) -> None:
    if isinstance(value, (dict, list)):
        result.attributes[key] = value
        return
    try:
        parsed = _parser(column)(value)
    except ValueError:
        result.attributes[key] = value
        return
    if parsed is not None:
        result.columns[column] = parsed


def _full_name(first: Any, last: Any) -> str | None:
    first_s, last_s = v.parse_str(first), v.parse_str(last)
    if not first_s or not last_s:
        return first_s or last_s
    # Japanese names are written family name first; Western ones given name first.
    if _CJK.search(first_s + last_s):
        return f"{last_s} {first_s}"
    return f"{first_s} {last_s}"


def split_traits(traits: Mapping[str, Any]) -> Traits:
    """Sort ``traits`` into customer columns (parsed) and attributes (everything else, as sent)."""
    result = Traits()
    for key, value in traits.items():
        if key == "address" and isinstance(value, Mapping):
            address = Traits()
            for part, part_value in value.items():
                if part in _ADDRESS:
                    _put(address, part, _ADDRESS[part], part_value)
                else:
                    address.attributes[part] = part_value
            result.columns.update(address.columns)
            if address.attributes:
                result.attributes["address"] = address.attributes
        elif key == "address":
            _put(result, key, "address_line1", value)
        elif key in _COLUMNS:
            _put(result, key, _COLUMNS[key], value)
        else:
            result.attributes[key] = value
    if "name" not in result.columns and ("firstName" in traits or "lastName" in traits):
        name = _full_name(traits.get("firstName"), traits.get("lastName"))
        if name is not None and len(name) <= _LENGTHS["name"]:
            result.columns["name"] = name
    return result
