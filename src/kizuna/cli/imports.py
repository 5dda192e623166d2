"""``kizuna import``: CSV and Parquet files, and public datasets."""

from __future__ import annotations

import click


@click.group("import")
def import_group() -> None:
    """Import customers, products, orders, events and interactions."""
