"""Reading the public datasets' text files record by record, with errors naming line and column.

Each line is decoded on its own (rather than in blocks) so that a bad byte is reported on the
line that holds it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kizuna.errors import ImportDataError
from kizuna.ingest.readers import decoded_lines
from kizuna.ingest.values import Expected

T = TypeVar("T")

#: Rows handed to the writer at a time.
BATCH = 10_000


@dataclass(frozen=True)
class Record:
    """One data line of a file: where it is, and its cells as text by column name."""

    path: Path
    line: int
    cells: dict[str, str]

    def required(self, column: str, parse: Callable[[str], T | None]) -> T:
        """The cell parsed by ``parse``; blank or malformed cells raise :class:`ImportDataError`."""
        value = self.optional(column, parse)
        if value is None:
            raise self.error("a value is missing", column=column, expected="a value")
        return value

    def optional(self, column: str, parse: Callable[[str], T | None]) -> T | None:
        """The cell parsed by ``parse`` (None when ``parse`` says blank)."""
        raw = self.cells[column]
        try:
            return parse(raw)
        except Expected as exc:
            raise self.error("a value cannot be read", column=column, expected=str(exc)) from None

    def error(
        self, problem: str, *, column: str | None = None, expected: str | None = None
    ) -> ImportDataError:
        """An error about this line (and ``column``), quoting the cell it names."""
        got = self.cells.get(column) if column is not None else None
        return ImportDataError(self.path, problem, line=self.line, column=column, expected=expected, got=got)


def require_file(path: Path, expected: str) -> Path:
    """``path`` if it is a file, else an :class:`ImportDataError` saying what PATH should be."""
    if not path.is_file():
        raise ImportDataError(path, "file not found", expected=expected)
    return path


def count_lines(path: Path) -> int:
    """Lines in ``path`` (for progress totals)."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def lines(path: Path, *, encoding: str = "utf-8", expected: str) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each non-blank line, without its line ending.

    Raises :class:`ImportDataError` for bytes that are not ``encoding`` and for a file with no text;
    ``expected`` says what the file should hold.
    """
    found = False
    for number, text in enumerate(decoded_lines(path, encoding), start=1):
        text = text.rstrip("\r\n")
        if text.strip():
            found = True
            yield number, text
    if not found:
        raise ImportDataError(path, "the file is empty", line=1, expected=expected)


def split_records(
    path: Path,
    columns: Sequence[str],
    *,
    sep: str | None,
    encoding: str = "utf-8",
    what: str = "",
) -> Iterator[Record]:
    """Records of a file without a header, its fields split on ``sep`` (None: any whitespace)."""
    sep_name = {None: "whitespace", "|": "'|'", "\t": "tabs", ",": "commas"}.get(sep, repr(sep))
    expected = f"{len(columns)} fields separated by {sep_name}: {', '.join(columns)}"
    if what:
        expected = f"{what}; {expected}"
    for number, text in lines(path, encoding=encoding, expected=expected):
        fields = text.split(sep)
        if len(fields) != len(columns):
            raise ImportDataError(
                path,
                f"the line has {len(fields)} fields",
                line=number,
                expected=expected,
                got=text,
            )
        yield Record(path, number, dict(zip(columns, fields, strict=True)))


def csv_records(path: Path, required: Sequence[str], *, encoding: str = "utf-8") -> Iterator[Record]:
    """Records of a CSV file whose header (line 1) names at least the ``required`` columns."""
    expected = f"a CSV file with a header naming {', '.join(required)}"
    numbered = lines(path, encoding=encoding, expected=expected)
    line_of: list[int] = [0]

    def texts() -> Iterator[str]:
        for number, text in numbered:
            line_of[0] = number
            yield text

    reader = csv.reader(texts())
    header = [name.strip() for name in next(reader)]
    for name in required:
        if name not in header:
            raise ImportDataError(
                path,
                "a column is missing from the header",
                line=line_of[0],
                column=name,
                expected=expected,
                got=",".join(header),
            )
    rows = 0
    for fields in reader:
        if len(fields) != len(header):
            raise ImportDataError(
                path,
                f"the line has {len(fields)} fields",
                line=line_of[0],
                expected=f"{len(header)} fields, like the header",
                got=",".join(fields),
            )
        rows += 1
        yield Record(path, line_of[0], dict(zip(header, fields, strict=True)))
    if not rows:
        raise ImportDataError(path, "the file has a header but no rows", line=line_of[0] + 1)


def zero_one(value: str) -> bool | None:
    """A 0/1 flag as a bool; None when blank."""
    text = value.strip()
    if not text:
        return None
    if text not in ("0", "1"):
        raise Expected("0 or 1")
    return text == "1"
