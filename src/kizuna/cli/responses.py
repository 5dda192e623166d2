"""``kizuna responses``: attribute orders to deliveries, and count responses."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from sqlalchemy import select

from kizuna.channels.attribution import attribute
from kizuna.channels.responses import ResponseKind, count_responses
from kizuna.cli.common import console, db_option, store_for
from kizuna.config import get_settings
from kizuna.errors import NotFoundError
from kizuna.progress import RichProgress
from kizuna.store.automation import Scenario


@click.group("responses")
def responses() -> None:
    """Responses to deliveries: opens, clicks, scans, coupon redemptions and attributed orders."""


@responses.command("attribute")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Go over every order placed since this date (KIZUNA_DEFAULT_TIMEZONE) again, whatever was read "
    "before. Default: the orders not read yet.",
)
@db_option
def attribute_command(since: datetime | None, db: str | None) -> None:
    """Attribute orders to the deliveries that caused them: coupon redemptions and last-touch orders."""
    store = store_for(db)
    start = since.replace(tzinfo=ZoneInfo(get_settings().default_timezone)) if since else None
    with RichProgress(transient=True) as progress:
        report = attribute(store, since=start, progress=progress)
    console.print(
        f"orders read {report.orders_read:,}: coupon redemptions {report.redeemed:,} "
        f"(coupon_redemptions rows written {report.redemptions:,}), orders attributed {report.attributed:,}",
        soft_wrap=True,
    )


@responses.command("count")
@click.option("--scenario", "scenario_name", metavar="NAME", default=None, help="Only this scenario's.")
@click.option("--arm", default=None, help="Only this arm's.")
@db_option
def count_command(scenario_name: str | None, arm: str | None, db: str | None) -> None:
    """Count responses by kind: every response, and the deliveries that had at least one."""
    store = store_for(db)
    with store.session() as session:
        scenario_id = None
        if scenario_name is not None:
            scenario_id = session.scalar(select(Scenario.id).where(Scenario.name == scenario_name))
            if scenario_id is None:
                raise NotFoundError(f"no scenario {scenario_name!r}: see `kizuna scenarios list`")
        table = Table("kind", "responses", "deliveries", title="responses")
        for kind in ResponseKind:
            every = count_responses(session, kind, scenario_id=scenario_id, arm=arm)
            first = count_responses(session, kind, scenario_id=scenario_id, arm=arm, first_only=True)
            table.add_row(kind.value, f"{every:,}", f"{first:,}")
    console.print(table)
