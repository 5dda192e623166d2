"""``kizuna customer``: look at one customer."""

from __future__ import annotations

import click


@click.group()
def customer() -> None:
    """Look at customers."""
