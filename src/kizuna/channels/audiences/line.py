"""LINE: a text file of one identifier per line, no header, of either kind LINE takes.

- ``email`` (LINE Ads "メールアドレスアップロード", https://www.linebiz.com/jp/manual/line-ads/tracking_011/):
  SHA-256 hex of each address, trimmed and lower-cased. LINE takes hashed or raw addresses; kizuna never
  sends them raw.
- ``user_id`` (Messaging API "Create audience for uploading user IDs (by file)",
  https://developers.line.biz/en/reference/messaging-api/#create-upload-audience-group-by-file): the LINE
  user ids kizuna knows, identities of kind ``line``
  (:data:`~kizuna.channels.audiences.members.LINE_USER_ID`). They are LINE's own pseudonymous ids,
  uploaded as they are.

Removals use the same layout: LINE Ads and the Messaging API remove audience members from such a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from kizuna.channels.audiences.members import AudienceCustomer
from kizuna.channels.audiences.normalise import hashed, normalise_email

LineId = Literal["email", "user_id"]
Entry = tuple[tuple[str, ...], list[str]]


def entry(customer: AudienceCustomer, kind: LineId) -> Entry | None:
    """(identifiers, row) of one identifier; None when the customer has none of that kind."""
    value = customer.line_user_id if kind == "user_id" else hashed(normalise_email(customer.email))
    if not value:
        return None
    return (value,), [value]


def write_lines(rows: Iterable[Sequence[str]], path: Path) -> int:
    """Write the first value of each row, one a line; returns the lines written."""
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for data in rows:
            handle.write(f"{data[0]}\n")
            written += 1
    return written


def write_line(customers: Iterable[AudienceCustomer], path: Path, *, kind: LineId = "email") -> int:
    """Write the LINE upload file of ``customers``: hashed emails, or LINE user ids; returns the lines."""
    entries = (entry(c, kind) for c in customers)
    return write_lines((e[1] for e in entries if e is not None), path)
