"""CDNOW purchase history (Fader & Hardie): each line is a purchase, imported as an order.

Two layouts, told apart by their number of fields: ``CDNOW_master.txt`` (``customer date cds
dollars``, possibly after a header line that the lifetimes package added) and ``CDNOW_sample.txt``
(``customer sample_id date cds dollars``, where the first field is the customer's id in the master
file, so both files give the same customers and orders).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from kizuna.errors import ImportDataError
from kizuna.ingest.datasets import DatasetAdapter
from kizuna.ingest.datasets._textfile import BATCH, Record, count_lines, lines, require_file
from kizuna.ingest.values import Expected, parse_date, parse_float, parse_int
from kizuna.ingest.writer import ImportSummary, Row, import_run
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked
from kizuna.store.engine import Store

NAME = "cdnow"
MASTER_COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")
SAMPLE_COLUMNS = ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value")
_LAYOUTS = {len(c): c for c in (MASTER_COLUMNS, SAMPLE_COLUMNS)}
_EXPECTED = (
    "whitespace-separated fields: customer_id date(YYYYMMDD) number_of_cds dollar_value "
    "(CDNOW_master.txt) or customer_id sample_id date number_of_cds dollar_value (CDNOW_sample.txt)"
)


def import_cdnow(
    store: Store, path: Path, *, prefix: str = "cdnow-", progress: Progress | None = None
) -> ImportSummary:
    """Import ``CDNOW_master.txt`` or ``CDNOW_sample.txt`` into ``store``.

    Each line becomes an order (USD, channel ``web``, ordered at 00:00 UTC of its date, total = the
    dollar value, ``attributes["cds"]`` = the number of CDs) of a customer who is created if new.
    A customer's purchases on one day are numbered in file order, so their order ids are stable and
    a second import adds nothing.

    Args:
        store: where to write.
        path: ``CDNOW_master.txt`` or ``CDNOW_sample.txt``.
        prefix: put before customer and order ids.
        progress: shows progress.

    Returns:
        What was added.

    Raises:
        ImportDataError: the file is missing, empty or has a line that cannot be read; nothing is
            written then.
    """
    path = require_file(Path(path), "CDNOW_master.txt or CDNOW_sample.txt")
    shown = progress or NullProgress()
    with import_run(store, NAME, path, progress=progress) as (writer, summary):
        shown.stage("CDNOW purchases", total=count_lines(path) - _has_header(path))
        for orders in chunked(_orders(path, prefix), BATCH):
            writer.customer_ids((o["customer_external_id"] for o in orders), create_missing=True)
            writer.write_orders(orders, [])
            shown.advance(len(orders))
    return summary


def _is_header(text: str) -> bool:
    # The lifetimes copy starts with "customer_id date number_of_cds dollar_value": no digits.
    return not any(c.isdigit() for c in text)


def _has_header(path: Path) -> bool:
    with path.open("rb") as handle:
        return _is_header(handle.readline().decode("latin-1"))


def _records(path: Path) -> Iterator[Record]:
    columns: tuple[str, ...] | None = None
    for number, text in lines(path, expected=_EXPECTED):
        fields = text.split()
        if number == 1 and _is_header(text):
            continue
        # The first data line decides the layout; every other line must follow it.
        columns = columns or _LAYOUTS.get(len(fields))
        if columns is None or len(fields) != len(columns):
            raise ImportDataError(
                path,
                f"the line has {len(fields)} fields",
                line=number,
                expected=f"{len(columns)} fields like the lines before" if columns else _EXPECTED,
                got=text,
            )
        yield Record(path, number, dict(zip(columns, fields, strict=True)))


def _orders(path: Path, prefix: str) -> Iterator[Row]:
    repeats: dict[tuple[int, date], int] = {}
    for record in _records(path):
        customer = record.required("customer_id", parse_int)
        day = record.required("date", _yyyymmdd)
        cds = record.required("number_of_cds", _count)
        dollars = record.required("dollar_value", parse_float)
        k = repeats[customer, day] = repeats.get((customer, day), 0) + 1
        yield {
            "external_id": f"{prefix}{customer}-{day:%Y%m%d}-{k}",
            "customer_external_id": f"{prefix}{customer}",
            "ordered_at": datetime(day.year, day.month, day.day, tzinfo=UTC),
            "channel": "web",
            "currency": "USD",
            "subtotal": dollars,
            "total": dollars,
            "attributes": {"cds": cds},
        }
    if not repeats:
        raise ImportDataError(path, "the file has a header but no purchases", line=2)


def _yyyymmdd(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        raise Expected("a date written YYYYMMDD, such as 19970101")
    return parse_date(value)


def _count(value: str) -> int | None:
    number = parse_int(value)
    if number is not None and number < 0:
        raise Expected("a number of CDs, 0 or more")
    return number


ADAPTER = DatasetAdapter(
    name=NAME,
    summary="CDNOW purchase history: 23,570 customers, 69,659 purchases, 1997-98 (Fader & Hardie).",
    path_help="CDNOW_master.txt (or the 1/10 sample, CDNOW_sample.txt).",
    default_prefix="cdnow-",
    run=import_cdnow,
)
