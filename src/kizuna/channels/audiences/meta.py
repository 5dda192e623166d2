"""Meta Custom Audiences: the multi-key payload the Marketing API takes, or the same as CSV.

``POST /{audience-id}/users`` (and ``DELETE`` for removals) takes ``{"schema": [...], "data": [[...], ...]}``
with one column per schema key (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
kizuna sends ``EMAIL``, ``PHONE``, ``FN``, ``LN``, ``ZIP``, ``CT``, ``ST``, ``COUNTRY``, every value SHA-256
hex of its normalised form, empty when unknown ("Hashing and normalizing data", same page): email trimmed
and lower-cased; phone as digits with the country code and no ``+`` or leading zeros (``819012345678``);
names, city and state lower-case without punctuation or whitespace; zip without spaces or dashes (US: the
first five digits); country lower-case ISO 3166-1 alpha-2. The API takes at most 10,000 rows a request: send
``data`` in slices of that size with the same ``schema``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.normalise import (
    compact,
    country_code,
    e164,
    hashed,
    normalise_email,
    split_name,
)

SCHEMA = ("EMAIL", "PHONE", "FN", "LN", "ZIP", "CT", "ST", "COUNTRY")
ID_SCHEMA = ("EMAIL", "PHONE")
#: Rows per Marketing API request.
MAX_ROWS_PER_REQUEST = 10_000

Entry = tuple[tuple[str, ...], list[str]]


def meta_phone(value: str | None, country: str | None) -> str | None:
    """The number as Meta hashes it: E.164 digits without the ``+`` (``819012345678``)."""
    number = e164(value, country)
    return None if number is None else number.removeprefix("+")


def meta_zip(value: str | None, country: str | None) -> str | None:
    """Lower case without spaces or dashes; for the US only the first five digits."""
    text = "".join((value or "").split()).replace("-", "").lower()
    if country == "US":
        text = text[:5]
    return text or None


def entry(customer: AudienceCustomer, default_country: str | None) -> Entry | None:
    """(identifiers, row): the hashed email and phone that identify the customer in adds and removals,
    and the row under :data:`SCHEMA`. None when the customer has neither an email nor a phone."""
    country = country_code(customer.country, default_country)
    email = hashed(normalise_email(customer.email)) or ""
    phone = hashed(meta_phone(customer.phone, country)) or ""
    if not email and not phone:
        return None
    given, family = split_name(customer.name)
    data = [
        email,
        phone,
        hashed(compact(given)) or "",
        hashed(compact(family)) or "",
        hashed(meta_zip(customer.postal_code, country)) or "",
        hashed(compact(customer.city)) or "",
        hashed(compact(customer.prefecture)) or "",
        hashed(country.lower() if country else None) or "",
    ]
    return (email, phone), data


def write_payload(rows: Iterable[Sequence[str]], path: Path, schema: Sequence[str] = SCHEMA) -> int:
    """Write ``rows`` as the Marketing API payload (JSON, or CSV with the schema keys as headers when
    ``path`` ends in ``.csv``); returns the rows written."""
    data = [list(r) for r in rows]
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(schema)
            out.writerows(data)
        return len(data)
    with path.open("w", encoding="utf-8") as handle:
        json.dump({"schema": list(schema), "data": data}, handle, separators=(",", ":"))
    return len(data)


def write_meta(
    customers: Iterable[AudienceCustomer], path: Path, *, default_country: str | None = "JP"
) -> int:
    """Write the Custom Audiences payload of ``customers`` (those with an email or a phone) to ``path``
    (``.json``: the API payload; ``.csv``: the same columns for a manual upload); returns the rows."""
    entries = (entry(c, default_country) for c in customers)
    return write_payload((e[1] for e in entries if e is not None), path)


def write_meta_ids(ids: Iterable[Sequence[str]], path: Path) -> int:
    """Write a payload of hashed ``EMAIL`` and ``PHONE`` only (for ``DELETE``); returns the rows."""
    return write_payload(ids, path, ID_SCHEMA)
