"""``kizuna rules``: merchandising rules ("customers who chose A are shown B") for the rules recommender."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.errors import ConfigError
from kizuna.recommend.rules import load_rules_yaml, rule_from_dict, rules_to_yaml
from kizuna.recommend.rules_store import list_rules, remove_rule, save_rules


@click.group()
def rules() -> None:
    """Add, list, remove, import and export merchandising rules."""


@rules.command("add")
@click.argument("name")
@click.option("--bought", metavar="SKU", help="Trigger: customers who bought this product.")
@click.option("--viewed", metavar="SKU", help="Trigger: customers who viewed this product.")
@click.option("--any", "any_", metavar="SKU", help="Trigger: customers who chose this product in any way.")
@click.option("--category", metavar="PATH", help="Trigger: anything in this category (path prefix).")
@click.option("--recommend", "target", metavar="SKU", required=True, help="The product to recommend.")
@click.option("--priority", default=0, show_default=True, help="Higher priorities rank first.")
@click.option("--from", "valid_from", metavar="DATE", help="First valid day (YYYY-MM-DD) or ISO time.")
@click.option("--until", "valid_until", metavar="DATE", help="Last valid day (inclusive) or ISO time.")
@click.option("--inactive", is_flag=True, help="Store the rule switched off.")
@db_option
def add(
    name: str,
    bought: str | None,
    viewed: str | None,
    any_: str | None,
    category: str | None,
    target: str,
    priority: int,
    valid_from: str | None,
    valid_until: str | None,
    inactive: bool,
    db: str | None,
) -> None:
    """Add (or replace) rule NAME: give one trigger and --recommend."""
    when = {
        key: value
        for key, value in (("bought", bought), ("viewed", viewed), ("any", any_), ("category", category))
        if value is not None
    }
    if len(when) != 1:
        raise ConfigError("give exactly one trigger: --bought, --viewed, --any or --category")
    item: dict[str, Any] = {"name": name, "when": when, "recommend": target, "priority": priority}
    item |= {k: v for k, v in (("valid_from", valid_from), ("valid_until", valid_until)) if v is not None}
    rule = rule_from_dict(item | {"active": not inactive})
    save_rules(store_for(db), [rule])
    console.print(f"rule [bold]{rule.name}[/] saved")


@rules.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only rules that are switched on.")
@db_option
def list_command(active_only: bool, db: str | None) -> None:
    """Show the rules, highest priority first."""
    found = list_rules(store_for(db), active_only=active_only)
    if not found:
        console.print("no rules yet; add one with `kizuna rules add` or `kizuna rules import`")
        return
    table = Table("name", "when", "recommend", "priority", "valid (days)", "on")
    for r in found:
        when = f"{'category' if r.trigger_kind == 'category' else r.trigger_event} {r.trigger_value}"
        days = r.to_yaml_dict()
        bounded = "valid_from" in days or "valid_until" in days
        valid = f"{days.get('valid_from', '')}…{days.get('valid_until', '')}" if bounded else "always"
        table.add_row(r.name, when, r.target_sku, str(r.priority), valid, "yes" if r.active else "no")
    console.print(table)


@rules.command("remove")
@click.argument("name")
@db_option
def remove(name: str, db: str | None) -> None:
    """Delete rule NAME."""
    remove_rule(store_for(db), name)
    console.print(f"rule [bold]{name}[/] removed")


@rules.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def import_command(path: Path, db: str | None) -> None:
    """Add or replace (by name) the rules in YAML file PATH; all or nothing."""
    found = load_rules_yaml(path)
    n = save_rules(store_for(db), found, path=path)
    console.print(f"{n} rule{'s' if n != 1 else ''} imported from {path}")


@rules.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@db_option
def export(output: Path | None, db: str | None) -> None:
    """Write every rule as YAML that `kizuna rules import` reads back."""
    text = rules_to_yaml(list_rules(store_for(db)))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"rules written to {output}")
