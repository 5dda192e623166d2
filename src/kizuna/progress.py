"""Progress reporting for long work, apart from the library so the CLI can draw bars and tests stay quiet."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID


class Progress(Protocol):
    """Something that shows how far long work has come."""

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a new stage of the work, with its size when known."""

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units done in the current stage."""


class NullProgress:
    """Shows nothing; the default for library calls."""

    def stage(self, description: str, total: int | None = None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None


class RichProgress:
    """Progress bars on the terminal (rich), one per stage; use as a context manager."""

    def __init__(self, *, transient: bool = False) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _Bars

        self._bars = _Bars(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=transient,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish()
        self._bars.stop()

    def _finish(self) -> None:
        if self._task is not None:
            task = self._bars.tasks[self._task]
            if task.total is None:
                self._bars.update(self._task, total=task.completed)
            self._task = None

    def stage(self, description: str, total: int | None = None) -> None:
        self._finish()
        self._task = self._bars.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, n)
