"""``kizuna customer``: look at one customer."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.config import get_settings
from kizuna.profiles import Customer360, customer_360


@click.group()
def customer() -> None:
    """Look at customers."""


@customer.command("show")
@click.argument("key")
@click.option("--orders", default=10, show_default=True, help="How many recent orders to show.")
@click.option("--events", default=20, show_default=True, help="How many recent events to show.")
@db_option
def show(key: str, orders: int, events: int, db: str | None) -> None:
    """Show customer KEY (external id, email or #id): attributes, identities, orders, events, consents."""
    store = store_for(db)
    with store.session() as session:
        profile = customer_360(session, key, orders=orders, events=events)
        _print(profile)


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or get_settings().default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().default_timezone)


def _print(p: Customer360) -> None:
    c = p.customer
    tz = _zone(c.timezone)

    def day(when: datetime) -> str:
        return when.astimezone(tz).date().isoformat()

    console.rule(f"[bold]{c.name or c.external_id}[/] {f'({c.name_kana})' if c.name_kana else ''}")
    attrs = Table.grid(padding=(0, 2))
    for key, value in p.attributes().items():
        attrs.add_row(f"[dim]{key}[/]", str(value))
    console.print(attrs)

    last = day(p.last_order_at) if p.last_order_at else "-"
    console.print(f"\n[bold]orders[/] {p.order_count:,}  revenue {p.revenue:,.2f}  last order {last}")
    if p.recent_orders:
        table = Table("order", "date", "channel", "items", "total", "coupon")
        for o in p.recent_orders:
            items = "; ".join(f"{title} ×{qty}" for _, title, qty, _ in o.lines) or "-"
            table.add_row(
                o.external_id,
                day(o.ordered_at),
                o.channel or "-",
                items,
                f"{o.total:,.2f} {o.currency or ''}",
                o.coupon_code or "",
            )
        console.print(table)

    if p.recent_events:
        table = Table(f"time ({tz})", "type", "name", "properties", title="recent events")
        for e in p.recent_events:
            table.add_row(
                e.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                e.type,
                e.name or "",
                json.dumps(e.properties, ensure_ascii=False)[:60],
            )
        console.print(table)

    table = Table("purpose", "status", "since", "source", "policy", title="consent in force")
    for purpose, state in sorted(p.consents.items()):
        colour = "green" if state.status == "granted" else "red"
        table.add_row(
            purpose,
            f"[{colour}]{state.status}[/]",
            day(state.recorded_at),
            state.source or "",
            state.policy_version or "",
        )
    console.print(table if p.consents else "[dim]no consent recorded[/]")

    if p.identities:
        console.print("\n[bold]identities[/] " + ", ".join(f"{i.kind}:{i.value}" for i in p.identities))
    if p.campaigns:
        rows = [
            f"{name} [{arm or '-'}{', responded' if responded else ''}]"
            for name, arm, responded in p.campaigns
        ]
        console.print("[bold]campaigns[/] " + "; ".join(rows))
