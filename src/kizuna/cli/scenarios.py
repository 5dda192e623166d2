"""``kizuna scenarios``: add scenarios from YAML or built-in templates, list, show, pause, resume, preview,
export and remove them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.errors import ConfigError
from kizuna.moments import parse_moment
from kizuna.scenarios.builtin import add_from_template, list_templates, parse_assignments
from kizuna.scenarios.definition import ScenarioDefinition
from kizuna.scenarios.durations import parse_duration
from kizuna.scenarios.registry import (
    Status,
    get_scenario,
    list_scenarios,
    load_scenarios_yaml,
    remove_scenario,
    save_all,
    scenario_yaml,
    set_status,
)
from kizuna.scenarios.report import diagram, scenario_stats, summary_row
from kizuna.store.engine import Store

if TYPE_CHECKING:
    from kizuna.scenarios.preview import Preview
from kizuna.store.types import utcnow


@click.group()
def scenarios() -> None:
    """Add, inspect, preview, pause and remove marketing scenarios."""


@scenarios.command("add")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--template", "template", metavar="NAME", help="A built-in template (see `scenarios templates`)."
)
@click.option(
    "--name", metavar="NAME", help="With --template: the scenario's name (default: the template's)."
)
@click.option(
    "--set", "assignments", metavar="KEY=VALUE", multiple=True, help="With --template: a parameter."
)
@click.option("--replace", is_flag=True, help="Overwrite a scenario of the same name (its version goes up).")
@click.option("--paused", is_flag=True, help="Store it paused: nobody enters until `scenarios resume`.")
@db_option
def add(
    path: Path | None,
    template: str | None,
    name: str | None,
    assignments: tuple[str, ...],
    replace: bool,
    paused: bool,
    db: str | None,
) -> None:
    """Add the scenarios in YAML file PATH, or one from --template; all or nothing."""
    status: Status = "paused" if paused else "active"
    if (path is None) == (template is None):
        raise ConfigError("give a YAML file or --template NAME (one of them)")
    if path is not None:
        if name is not None or assignments:
            raise ConfigError("--name and --set go with --template")
        saved = save_all(
            store_for(db), load_scenarios_yaml(path), replace=replace, status=status, source=str(path)
        )
        for s in saved:
            console.print(
                f"scenario [bold]{escape(s.name)}[/] saved ({s.status}, version {s.version})", soft_wrap=True
            )
        return
    assert template is not None
    values = parse_assignments(assignments)
    added = add_from_template(
        store_for(db), template, name=name, values=values, replace=replace, status=status
    )
    for segment in added.created_segments:
        console.print(f"segment [bold]{escape(segment)}[/] created")
    s = added.scenario
    state = f"{s.status}, version {s.version}"
    console.print(
        f"scenario [bold]{escape(s.name)}[/] saved from template {template} ({state})", soft_wrap=True
    )


@scenarios.command("list")
@db_option
def list_command(db: str | None) -> None:
    """Show every scenario: status, trigger, steps, runs in progress and deliveries."""
    store = store_for(db)
    found = list_scenarios(store)
    if not found:
        console.print("no scenarios yet; add one with `kizuna scenarios add FILE` or `--template NAME`")
        return
    with store.session() as session:
        rows = [summary_row(s, scenario_stats(session, s.id)) for s in found]
    table = Table(*rows[0])
    table.columns[0].no_wrap = True
    for row in rows:
        table.add_row(*(escape(v) for v in row.values()))
    console.print(table)


@scenarios.command("show")
@click.argument("name")
@db_option
def show(name: str, db: str | None) -> None:
    """The scenario's YAML and its steps as a diagram, with runs waiting and deliveries per step."""
    store = store_for(db)
    saved = get_scenario(store, name)
    with store.session() as session:
        stats = scenario_stats(session, saved.id)
    console.print(f"[bold]{escape(saved.name)}[/]  {saved.status}, version {saved.version}", highlight=False)
    click.echo(scenario_yaml(saved.definition))
    click.echo(diagram(saved.definition, stats))


@scenarios.command("pause")
@click.argument("name")
@db_option
def pause(name: str, db: str | None) -> None:
    """Pause scenario NAME: no one enters or moves on until it is resumed."""
    set_status(store_for(db), name, "paused")
    console.print(f"scenario [bold]{escape(name)}[/] paused", soft_wrap=True)


@scenarios.command("resume")
@click.argument("name")
@db_option
def resume(name: str, db: str | None) -> None:
    """Resume scenario NAME."""
    set_status(store_for(db), name, "active")
    console.print(f"scenario [bold]{escape(name)}[/] active", soft_wrap=True)


@scenarios.command("preview")
@click.argument("name", required=False)
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Preview a YAML file.",
)
@click.option("--limit", default=20, show_default=True, help="How many customers to show in detail.")
@click.option("--customer", metavar="KEY", help="Only this customer (external id, email or #id).")
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="Preview as of this ISO time (default: now; no zone: the store's).",
)
@click.option("--lookback", default="7d", show_default=True, help="How far back an event trigger looks.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@db_option
def preview_command(
    name: str | None,
    path: Path | None,
    limit: int,
    customer: str | None,
    now_text: str | None,
    lookback: str,
    as_json: bool,
    db: str | None,
) -> None:
    """Who would enter scenario NAME (or the one in --file) now, and what each would get. Writes nothing."""
    if (name is None) == (path is None):
        raise ConfigError("give a scenario NAME or --file FILE (one of them)")
    store = store_for(db)
    definition = _definition(store, name, path)
    try:
        window = parse_duration(lookback)
    except ValueError as exc:
        raise ConfigError(f"--lookback: {exc}") from None
    from kizuna.scenarios.preview import preview  # the recommenders load only when a preview needs them

    result = preview(
        store, definition, now=_moment(now_text), limit=limit, customer=customer, lookback=window
    )
    if as_json:
        click.echo(json.dumps(result.to_data(), ensure_ascii=False, indent=2))
    else:
        click.echo(preview_text(result))


@scenarios.command("templates")
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
def templates_command(lang: str) -> None:
    """The built-in templates, with their parameters and defaults."""
    for template in list_templates():
        text = template.description.ja if lang == "ja" else template.description.en
        click.echo(f"{template.name}\n    {text}")
        for key, spec in template.parameters.items():
            click.echo(f"    --set {key}={spec.default}  {spec.description}")


@scenarios.command("export")
@click.argument("name")
@db_option
def export(name: str, db: str | None) -> None:
    """Write scenario NAME as YAML (to stdout) that `scenarios add` reads back."""
    click.echo(scenario_yaml(get_scenario(store_for(db), name).definition), nl=False)


@scenarios.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove it even while runs are in progress (they are dropped).")
@db_option
def remove(name: str, force: bool, db: str | None) -> None:
    """Delete scenario NAME and its runs (its deliveries and campaign stay)."""
    dropped = remove_scenario(store_for(db), name, force=force)
    extra = f"; {dropped} run{'s' if dropped != 1 else ''} in progress dropped" if dropped else ""
    console.print(f"scenario [bold]{escape(name)}[/] removed{extra}", soft_wrap=True)


def preview_text(result: Preview) -> str:
    """The preview as text for the terminal."""
    lines = [
        f"{result.scenario}: {result.trigger}, as of {result.now:%Y-%m-%d %H:%M %Z}",
        f"would enter: {result.total} (control {result.control}, holdout {result.holdout}, "
        f"contacted {result.total - result.control - result.holdout})",
    ]
    for c in result.customers:
        lines.append(f"\n{c.external_id} (#{c.customer_id}) — {c.entry}")
        if c.group != "treated":
            lines.append(f"  {c.group}: recorded, never contacted")
        for step in c.path:
            lines.append(f"  {step.step}: {step.text}")
            send = step.send
            if send is None:
                continue
            if send.suppressed is not None:
                lines.append(f"      suppressed: {send.suppressed}")
                continue
            if send.coupon:
                lines.append("      with the run's coupon")
            for r in send.recommendations:
                lines.append(f"      {r.sku} {r.title} — {r.reason}")
            if send.recommendation_note:
                lines.append(f"      recommendations: {send.recommendation_note}")
    if len(result.customers) < result.total:
        lines.append(f"\n… {result.total - len(result.customers)} more (--limit to show more)")
    return "\n".join(lines)


def _definition(store: Store, name: str | None, path: Path | None) -> ScenarioDefinition:
    if path is not None:
        found = load_scenarios_yaml(path)
        if len(found) != 1:
            raise ConfigError(f"{path}: holds {len(found)} scenarios; preview one at a time")
        return found[0]
    assert name is not None
    return get_scenario(store, name).definition


def _moment(text: str | None) -> datetime:
    if text is None:
        return utcnow()
    try:
        return parse_moment(text)
    except ValueError:
        raise ConfigError(
            f"--now: expected an ISO time such as 2026-03-01T10:00+09:00, got {text!r}"
        ) from None
