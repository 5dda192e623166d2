"""``kizuna import <dataset> PATH``: one subcommand per public-dataset adapter."""

from __future__ import annotations

from pathlib import Path

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.ingest.datasets import DatasetAdapter, available
from kizuna.progress import RichProgress


def _command(adapter: DatasetAdapter) -> click.Command:
    @click.command(adapter.name, help=f"{adapter.summary}\n\nPATH: {adapter.path_help}")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option(
        "--prefix",
        default=adapter.default_prefix,
        show_default=True,
        help="Put before every imported id, so datasets never mix in one store ('' for none).",
    )
    @db_option
    def run(path: Path, prefix: str, db: str | None) -> None:
        store = store_for(db)
        with RichProgress() as progress:
            summary = adapter.run(store, path, prefix=prefix, progress=progress)
        console.print(f"[green]{adapter.name}[/]: {summary.describe()} in {summary.seconds:.1f} s")
        for note in summary.notes:
            console.print(f"[yellow]note:[/] {note}")

    return run


def register_datasets(group: click.Group) -> None:
    """Add one ``import`` subcommand per dataset adapter."""
    for adapter in available():
        group.add_command(_command(adapter))
