"""What every kind of file import shares while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizuna.config import Settings
from kizuna.progress import Progress

#: One parsed input row: field name → typed value, plus ``_extra`` (unmapped columns).
Record = dict[str, Any]


@dataclass(frozen=True)
class ImportContext:
    """The file being imported and how: where errors point, whether to update, settings, progress."""

    path: Path
    unit: str
    update: bool
    settings: Settings
    progress: Progress
