"""Typed errors whose messages tell the user what to do."""

from __future__ import annotations

from pathlib import Path


class KizunaError(Exception):
    """Base of every error kizuna raises on purpose."""

    exit_code = 1


class ConfigError(KizunaError):
    """A setting or option is wrong."""

    exit_code = 2


class NotFoundError(KizunaError):
    """Something asked for by id does not exist."""

    exit_code = 1


class ImportDataError(KizunaError):
    """Input data that cannot be imported; nothing from the file was written.

    The message names the file, the line (1-based, counting the header as line 1), the column and what was
    expected, so the user can fix the input and run the import again. Parquet files count ``row``s (1-based)
    instead of lines.
    """

    exit_code = 2

    def __init__(
        self,
        path: Path | str | None,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        got: object = None,
        unit: str = "line",
    ) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.line = line
        self.column = column
        self.expected = expected
        self.got = got
        self.unit = unit
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f", {self.unit} {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        message = f"{where}: {self.problem}"
        if self.expected is not None:
            message += f"; expected {self.expected}"
        if self.got is not None:
            got = repr(self.got)
            message += f", got {got[:80]}"
        return message + ". Nothing was imported."


class AuthenticationError(KizunaError):
    """A request came with no API key, or one that is unknown, malformed or revoked (HTTP 401)."""

    exit_code = 2


class PermissionDeniedError(KizunaError):
    """A valid API key that may not do what was asked: the wrong kind, or a missing scope (HTTP 403)."""

    exit_code = 2
