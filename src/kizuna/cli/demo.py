"""``kizuna demo-data``: generate the demo store."""

from __future__ import annotations

from datetime import date, datetime

import click

from kizuna.cli.common import console, db_option, store_for
from kizuna.ingest.demo import MAX_CUSTOMERS, generate_demo_store
from kizuna.progress import RichProgress


@click.command("demo-data")
@click.option(
    "--customers",
    type=click.IntRange(1, MAX_CUSTOMERS),
    default=2_000,
    show_default=True,
    help="How many customers to generate (a million takes a few minutes).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=42,
    show_default=True,
    help="Random seed: the same seed (and as-of date) gives the same store.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the data, YYYY-MM-DD; it spans the two years up to it.  [default: today]",
)
@db_option
def demo_data(customers: int, seed: int, as_of: datetime | None, db: str | None) -> None:
    """Generate a deterministic Japanese D2C demo store.

    Customers with names, addresses and consents; a catalogue of skincare, coffee, tea, health food,
    groceries and household goods; two years of orders, subscriptions and web events that follow each
    customer's hidden tastes. Running it again with the same options adds nothing.
    """
    store = store_for(db)
    day = as_of.date() if as_of is not None else date.today()
    with RichProgress(transient=True) as progress:
        summary = generate_demo_store(store, customers=customers, seed=seed, as_of=day, progress=progress)
    console.print(f"Demo store (seed {seed}, as of {day.isoformat()}): {summary.describe()}")
    console.print(
        f"in {summary.seconds:.1f} s; store: {store.engine.url.render_as_string()}", highlight=False
    )
