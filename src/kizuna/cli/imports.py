"""``kizuna import``: CSV and Parquet files of each kind, and public datasets (see cli/datasets.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.ingest.mapping import KINDS, load_mapping_file, parse_map_options
from kizuna.ingest.tabular import import_file
from kizuna.progress import RichProgress


@click.group("import")
def import_group() -> None:
    """Import customers, products, orders, events and interactions."""


def _file_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("file", type=click.Path(path_type=Path)),
        click.option("--kind", type=click.Choice(KINDS), required=True, help="What the file holds."),
        click.option(
            "--map",
            "maps",
            multiple=True,
            metavar="SOURCE=FIELD",
            help="Take column SOURCE for kizuna's FIELD (repeatable), e.g. --map 顧客ID=external_id.",
        ),
        click.option(
            "--mapping",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="YAML file of 'source column: field' pairs (--map options override it).",
        ),
        click.option(
            "--update",
            is_flag=True,
            help="Customers/products: overwrite existing rows with the file's values instead of skipping.",
        ),
        db_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(
    file: Path,
    kind: str,
    maps: tuple[str, ...],
    mapping: Path | None,
    update: bool,
    db: str | None,
    fmt: str,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> None:
    columns = load_mapping_file(mapping) if mapping else {}
    columns.update(parse_map_options(maps))
    store = store_for(db)
    with RichProgress() as progress:
        summary = import_file(
            store,
            file,
            kind,
            mapping=columns,
            fmt=fmt,
            encoding=encoding,
            delimiter=delimiter,
            update=update,
            progress=progress,
        )
    console.print(f"[green]{file.name}[/] ({kind}): {summary.describe()} in {summary.seconds:.1f} s")
    for note in summary.notes:
        console.print(f"[yellow]note:[/] {note}")


@import_group.command("csv")
@_file_options
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Text encoding; cp932 reads Shift_JIS files from Japanese systems.",
)
@click.option("--delimiter", default=None, help="Field separator (default: comma; tab for .tsv).")
def import_csv(
    file: Path,
    kind: str,
    maps: tuple[str, ...],
    mapping: Path | None,
    update: bool,
    db: str | None,
    encoding: str,
    delimiter: str | None,
) -> None:
    """Import a CSV FILE of customers, products, orders (one row per line), events or interactions.

    Columns are matched to kizuna's fields by name; other columns are kept as attributes. Interactions
    files (user,item[,timestamp][,weight]) create the customers and products they name.
    """
    _run(file, kind, maps, mapping, update, db, "csv", encoding, delimiter)


@import_group.command("parquet")
@_file_options
def import_parquet(
    file: Path, kind: str, maps: tuple[str, ...], mapping: Path | None, update: bool, db: str | None
) -> None:
    """Import a Parquet FILE; same kinds and mapping as ``import csv``."""
    _run(file, kind, maps, mapping, update, db, "parquet")
