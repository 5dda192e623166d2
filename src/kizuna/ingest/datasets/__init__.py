"""Adapters for public datasets, one module each, behind one small interface.

Each module defines ``ADAPTER``, a :class:`DatasetAdapter`. ``kizuna import NAME PATH`` runs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kizuna.ingest.writer import ImportSummary
from kizuna.progress import Progress
from kizuna.store.engine import Store


class DatasetImport(Protocol):
    """Signature of an adapter's import function."""

    def __call__(
        self, store: Store, path: Path, *, prefix: str, progress: Progress | None = None
    ) -> ImportSummary: ...


@dataclass(frozen=True)
class DatasetAdapter:
    """A public dataset kizuna can import.

    Attributes:
        name: the ``kizuna import`` subcommand (``movielens-100k``).
        summary: one line for ``--help``.
        path_help: what PATH must point at (a folder or a file, and which files it must hold).
        default_prefix: put before every external id (customers, products, orders ...) so that two datasets
            imported into one store never mix their people; ``--prefix ''`` keeps ids as they are.
        run: the import function.
    """

    name: str
    summary: str
    path_help: str
    default_prefix: str
    run: DatasetImport


#: Adapter name → module under ``kizuna.ingest.datasets``.
MODULES = {
    "movielens-100k": "movielens",
    "completejourney": "completejourney",
    "cdnow": "cdnow",
    "hillstrom": "hillstrom",
    "ifood": "ifood",
}


def get_adapter(name: str) -> DatasetAdapter:
    """The adapter called ``name``."""
    module = importlib.import_module(f"kizuna.ingest.datasets.{MODULES[name]}")
    adapter: DatasetAdapter = module.ADAPTER
    return adapter


def available() -> list[DatasetAdapter]:
    """Every adapter whose module is present."""
    found = []
    for name in MODULES:
        try:
            found.append(get_adapter(name))
        except ModuleNotFoundError:
            continue
    return found
