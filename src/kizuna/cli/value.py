"""``kizuna value``: RFM scores and segments, and predicted lifetime value, per customer."""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.errors import ConfigError
from kizuna.measure.rfm import SEGMENTS
from kizuna.measure.value import compute_values
from kizuna.moments import parse_moment
from kizuna.progress import RichProgress


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        raise ConfigError(f"--at {value!r}: expected YYYY-MM-DD or an ISO time") from None


@click.group()
def value() -> None:
    """Customer value: RFM segments and lifetime value (BG/NBD + Gamma-Gamma)."""


@value.command("compute")
@click.option(
    "--horizon-days",
    type=click.IntRange(1, 3_650),
    default=None,
    help="Days ahead to predict purchases and value (default: KIZUNA_LTV_HORIZON_DAYS, 365).",
)
@click.option(
    "--discount",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Yearly discount rate of future spend, 0.1 for 10 %% (default: KIZUNA_LTV_DISCOUNT_RATE, 0).",
)
@click.option("--at", "at", metavar="TIME", help="Value customers as of this day or ISO time (default: now).")
@db_option
def compute(horizon_days: int | None, discount: float | None, at: str | None, db: str | None) -> None:
    """Fit the models on every purchase (not cancelled, refunded or returned); store each customer's value."""
    store = store_for(db)
    with RichProgress(transient=True) as progress:
        result = compute_values(
            store, now=_moment(at), horizon_days=horizon_days, discount=discount, progress=progress
        )
    console.print(f"valued {result.customers:,} customers over {result.horizon_days} days")
    if result.bgnbd is not None:
        b = result.bgnbd
        console.print(f"BG/NBD: r={b.r:.4f} alpha={b.alpha:.4f} a={b.a:.4f} b={b.b:.4f}")
    if result.gamma_gamma is not None:
        g = result.gamma_gamma
        console.print(f"Gamma-Gamma: p={g.p:.4f} q={g.q:.4f} gamma={g.gamma:.4f}")
    console.print(f"total predicted value: {result.total_ltv:,.2f} (fitted in {result.fit_seconds:.2f} s)")
    for problem in result.problems:
        console.print(f"[yellow]{problem}[/]")
    table = Table(title="RFM segments")
    table.add_column("segment")
    table.add_column("customers", justify="right")
    table.add_column("meaning")
    for name, meaning in SEGMENTS.items():
        if result.segments[name]:
            table.add_row(name, f"{result.segments[name]:,}", meaning)
    console.print(table)
