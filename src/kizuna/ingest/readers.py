"""Reading CSV and Parquet files as (line number, record) pairs, with errors that point at the line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizuna.errors import ImportDataError

FORMATS = ("csv", "parquet")


@dataclass
class Table:
    """An open input file: its columns, and its records as ``(line, {column: value})``."""

    path: Path
    columns: list[str]
    records: Iterator[tuple[int, dict[str, Any]]]
    unit: str = "line"


def detect_format(path: Path, fmt: str | None = None) -> str:
    """``csv`` or ``parquet``, from ``fmt`` or the file's extension."""
    if fmt:
        if fmt not in FORMATS:
            raise ImportDataError(path, f"unknown format {fmt!r}", expected="csv or parquet")
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def open_table(
    path: Path,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    batch_rows: int = 50_000,
) -> Table:
    """Open ``path`` for reading; raises ImportDataError for a missing, empty or undecodable file."""
    if not path.is_file():
        raise ImportDataError(path, "file not found", expected="a readable CSV or Parquet file")
    if detect_format(path, fmt) == "parquet":
        return _open_parquet(path, batch_rows)
    return _open_csv(path, encoding, delimiter)


def decoded_lines(path: Path, encoding: str = "utf-8") -> Iterator[str]:
    """The file's lines, decoded one by one (not in 8 KB blocks) so a bad byte is reported on its own line.

    A UTF-8 byte-order mark is dropped; undecodable bytes raise :class:`ImportDataError` naming the line.
    """
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode(codec if number == 1 else codec.replace("-sig", ""))
            except UnicodeDecodeError as exc:
                raise ImportDataError(
                    path,
                    f"bytes that are not valid {encoding} at position {exc.start}",
                    line=number,
                    expected=f"text encoded as {encoding} (use --encoding cp932 for Shift_JIS files)",
                ) from None
            except LookupError:
                raise ImportDataError(
                    path, f"unknown encoding {encoding!r}", expected="e.g. utf-8 or cp932"
                ) from None


def _open_csv(path: Path, encoding: str, delimiter: str | None) -> Table:
    lines = decoded_lines(path, encoding)
    sep = delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
    reader = csv.reader(lines, delimiter=sep)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportDataError(
            path, "the file is empty", expected="a header line naming the columns"
        ) from None
    columns = [c.strip() for c in header]
    if not any(columns):
        raise ImportDataError(path, "the header line is blank", line=1, expected="column names")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ImportDataError(path, f"column {duplicates[0]!r} appears twice in the header", line=1)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for values in reader:
            line = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != len(columns):
                raise ImportDataError(
                    path,
                    f"{len(values)} fields",
                    line=line,
                    expected=f"{len(columns)} fields like the header",
                )
            yield line, dict(zip(columns, values, strict=True))

    return Table(path, columns, records())


def _open_parquet(path: Path, batch_rows: int) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ImportDataError(
            path, f"not a readable Parquet file ({exc})", expected="a Parquet file"
        ) from None
    columns = list(parquet.schema_arrow.names)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        row = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for record in batch.to_pylist():
                row += 1
                yield row, record

    return Table(path, columns, records(), unit="row")
