"""Reading the Complete Journey Parquet folder: which files and columns it must hold, and their values.

The import checks every file's footer before it writes anything, so a missing file or column is reported at
once, naming the file, the column and what was expected.

The files' timestamps carry no zone, and two clocks are in use. ``transaction_timestamp`` holds UTC instants:
the ``week`` number turns over at 05:00 in winter and 04:00 in summer (midnight in New York, EST and EDT),
the year of data ends at 2018-01-01 04:01, and read as UTC the busiest hours are 4-6 pm in New York. The
dates (campaign start and end, redemption) are calendar days in New York, where 84.51° is (Cincinnati,
Eastern time): redemptions match the New York day of the household's coupon purchases (1,935 of 2,102)
better than the UTC day (1,680). Timestamps that do carry a zone are taken as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kizuna.errors import ImportDataError

#: The zone of the files' calendar days.
NEW_YORK = ZoneInfo("America/New_York")

Int64Array = npt.NDArray[np.int64]

_KINDS: dict[str, tuple[str, Callable[[pa.DataType], bool]]] = {
    "id": ("an integer column", pa.types.is_integer),
    "number": (
        "a numeric column",
        lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    ),
    "text": (
        "a text column",
        lambda t: (
            pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_integer(t)
            or pa.types.is_null(t)
            or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type))
        ),
    ),
    "time": ("a timestamp or date column", lambda t: pa.types.is_timestamp(t) or pa.types.is_date(t)),
}

#: File stem → column → kind; every one of them must be present. ``promotions.parquet`` is not read.
FILES: dict[str, dict[str, str]] = {
    "transactions": {
        "household_id": "id",
        "store_id": "id",
        "basket_id": "id",
        "product_id": "id",
        "quantity": "number",
        "sales_value": "number",
        "retail_disc": "number",
        "coupon_disc": "number",
        "coupon_match_disc": "number",
        "week": "id",
        "transaction_timestamp": "time",
    },
    "demographics": {
        "household_id": "id",
        "age": "text",
        "income": "text",
        "home_ownership": "text",
        "marital_status": "text",
        "household_size": "text",
        "household_comp": "text",
        "kids_count": "text",
    },
    "products": {
        "product_id": "id",
        "manufacturer_id": "id",
        "department": "text",
        "brand": "text",
        "product_category": "text",
        "product_type": "text",
        "package_size": "text",
    },
    "campaigns": {"campaign_id": "id", "household_id": "id"},
    "campaign_descriptions": {
        "campaign_id": "id",
        "campaign_type": "text",
        "start_date": "time",
        "end_date": "time",
    },
    "coupons": {"coupon_upc": "id", "product_id": "id", "campaign_id": "id"},
    "coupon_redemptions": {
        "household_id": "id",
        "coupon_upc": "id",
        "campaign_id": "id",
        "redemption_date": "time",
    },
}


def check_folder(folder: Path) -> dict[str, Path]:
    """Check that ``folder`` holds every file in :data:`FILES` with the right columns (footers only).

    Returns:
        File stem → path.

    Raises:
        ImportDataError: naming the missing or unreadable file, or the missing or mistyped column.
    """
    if not folder.is_dir():
        raise ImportDataError(
            folder,
            "not a folder",
            expected="the Complete Journey folder holding transactions.parquet, products.parquet ...",
        )
    paths = {}
    for stem, columns in FILES.items():
        path = folder / f"{stem}.parquet"
        if not path.is_file():
            raise ImportDataError(
                path, "file is missing", expected=f"a Parquet file with {', '.join(columns)}"
            )
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowException, OSError) as exc:
            raise ImportDataError(path, f"cannot be read as Parquet ({exc})") from None
        for column, kind in columns.items():
            described, accepts = _KINDS[kind]
            if column not in schema.names:
                raise ImportDataError(
                    path,
                    "missing column",
                    column=column,
                    expected=f"{described}; the file has {', '.join(schema.names) or 'no columns'}",
                )
            if not accepts(schema.field(column).type):
                raise ImportDataError(
                    path,
                    "wrong column type",
                    column=column,
                    expected=described,
                    got=str(schema.field(column).type),
                )
        paths[stem] = path
    return paths


def read_table(path: Path, columns: Iterable[str], *, required: Iterable[str] = ()) -> pa.Table:
    """Read ``columns`` of a checked file; the ``required`` ones may hold no empty value."""
    table = pq.read_table(path, columns=list(columns))
    for column in required:
        require_values(path, column, table[column])
    return table


def require_values(path: Path, column: str, values: pa.ChunkedArray | pa.Array) -> None:
    """Raise :class:`ImportDataError` naming the first row (1-based) where ``column`` is empty."""
    if values.null_count:
        row = pc.index(pc.is_null(values), True).as_py() + 1
        raise ImportDataError(path, f"row {row} has no value", column=column, expected="a value")


def integers(path: Path, column: str, values: pa.ChunkedArray) -> Int64Array:
    """An id or count column as int64, refusing empty values."""
    require_values(path, column, values)
    out: Int64Array = values.cast(pa.int64()).to_numpy()
    return out


def floats(values: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """A money column as float64, empty values as 0."""
    out: npt.NDArray[np.float64] = pc.fill_null(values.cast(pa.float64()), 0.0).to_numpy()
    return out


def micros(path: Path, column: str, values: pa.ChunkedArray, *, naive: tzinfo) -> tuple[Int64Array, tzinfo]:
    """A time column as microseconds since 1970 on its own clock, and the zone of that clock.

    Timestamps without a zone, and dates, are on the clock of ``naive``; those with a zone are UTC instants.
    """
    require_values(path, column, values)
    if pa.types.is_date(values.type):
        values = values.cast(pa.timestamp("us"))
    zone = values.type.tz
    as_us = pc.cast(values, pa.timestamp("us", zone), safe=False)
    out: Int64Array = as_us.cast(pa.int64()).to_numpy()
    return out, (UTC if zone else naive)


def datetimes(values: Int64Array, zone: tzinfo) -> list[datetime]:
    """Aware datetimes from :func:`micros` output.

    A wall-clock time that occurs twice when clocks go back is read as the first; one that is skipped when
    clocks go forward is read on the standard-time offset (so 02:30 on that day is 07:30 UTC).
    """
    naive: list[datetime] = values.astype("datetime64[us]").tolist()
    return [moment.replace(tzinfo=zone) for moment in naive]


def text(value: Any) -> str | None:
    """A cell as trimmed text, or None when empty."""
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None
