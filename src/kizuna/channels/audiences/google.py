"""Google Ads Customer Match: the customer data file, as Google's template lays it out.

Columns, with the English headers Google requires ("Format your customer data file",
https://support.google.com/google-ads/answer/7659867): ``Email``, ``Phone``, ``First Name``, ``Last Name``,
``Country``, ``Zip``. Email, phone and names are SHA-256 hex of their normalised values (lower case, no
whitespace; phone in E.164), as the hashed-upload template says
(https://support.google.com/google-ads/answer/7475964); ``Country`` (ISO 3166-1 alpha-2) and ``Zip`` stay in
clear, as Google requires for address matching. A removal file is uploaded with "remove from list" and
carries only the hashed ``Email`` and ``Phone``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.normalise import (
    country_code,
    e164,
    hashed,
    lower_without_spaces,
    normalise_email,
    split_name,
)

HEADERS = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
ID_HEADERS = ("Email", "Phone")


Entry = tuple[tuple[str, ...], list[str]]


def entry(customer: AudienceCustomer, default_country: str | None) -> Entry | None:
    """(identifiers, row): the hashed email and phone (either may be empty) that identify the customer in
    adds and removals, and the data row under :data:`HEADERS`. None when the customer has neither."""
    country = country_code(customer.country, default_country)
    email = hashed(normalise_email(customer.email, drop_inner_whitespace=True)) or ""
    phone = hashed(e164(customer.phone, country)) or ""
    if not email and not phone:
        return None
    given, family = split_name(customer.name)
    data = [
        email,
        phone,
        hashed(lower_without_spaces(given)) or "",
        hashed(lower_without_spaces(family)) or "",
        country or "",
        (customer.postal_code or "").strip(),
    ]
    return (email, phone), data


def write_rows(rows: Iterable[Sequence[str]], path: Path, headers: Sequence[str] = HEADERS) -> int:
    """Write a CSV of ``rows`` under ``headers``; returns the rows written."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(headers)
        for data in rows:
            out.writerow(data)
            written += 1
    return written


def write_google(
    customers: Iterable[AudienceCustomer], path: Path, *, default_country: str | None = "JP"
) -> int:
    """Write the Customer Match CSV of ``customers`` (those with an email or a phone); returns the rows.

    ``default_country`` is assumed for customers whose country is unknown (it decides how their phone
    number is read, and fills ``Country``).
    """
    entries = (entry(c, default_country) for c in customers)
    return write_rows((e[1] for e in entries if e is not None), path)


def write_google_ids(ids: Iterable[Sequence[str]], path: Path) -> int:
    """Write a CSV of hashed ``Email`` and ``Phone`` only (for removals); returns the rows."""
    return write_rows(ids, path, ID_HEADERS)
