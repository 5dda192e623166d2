"""``kizuna demo-data``: generate the demo store."""

from __future__ import annotations

import click


@click.command("demo-data")
def demo_data() -> None:
    """Generate a deterministic Japanese D2C demo store."""
    raise click.UsageError("not available yet")
