"""``kizuna report``: what a scenario or an imported experiment achieved against its control group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kizuna.cli.common import console, db_option, store_for
from kizuna.measure.campaign import ScenarioMeasurement, measure_scenario
from kizuna.measure.chart import arms_chart
from kizuna.measure.experiment import ArmOutcome, ArmUplift, measure_experiment
from kizuna.measure.stats import Lang

_RATE_METRICS = ("response_rate", "conversion_rate")
_HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "arm": "arm",
        "customers": "customers",
        "response_rate": "response rate",
        "conversion_rate": "conversion rate",
        "revenue_per_customer": "revenue / customer",
        "metric": "measure",
        "arm_value": "arm",
        "control": "control",
        "difference": "difference",
        "interval": "{level} interval",
        "relative": "relative",
        "verdict": "verdict",
    },
    "ja": {
        "arm": "群",
        "customers": "顧客数",
        "response_rate": "反応率",
        "conversion_rate": "購入率",
        "revenue_per_customer": "顧客あたり売上",
        "metric": "指標",
        "arm_value": "施策群",
        "control": "対照群",
        "difference": "差",
        "interval": "{level} 信頼区間",
        "relative": "相対差",
        "verdict": "判定",
    },
}

_lang_option = click.option(
    "--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True, help="Language of labels."
)
_chart_option = click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a bar chart of the arms with confidence intervals (.png or .svg).",
)


def _value(metric: str, value: float) -> str:
    return f"{value * 100:.2f} %" if metric in _RATE_METRICS else f"{value:,.2f}"


def _arms_table(arms: list[ArmOutcome], lang: Lang, title: str) -> Table:
    h = _HEADINGS[lang]
    table = Table(title=title)
    for key in ("arm", "customers", "response_rate", "conversion_rate", "revenue_per_customer"):
        table.add_column(h[key], justify="left" if key == "arm" else "right")
    for arm in arms:
        name = f"{arm.arm} (control)" if arm.is_control else arm.arm
        table.add_row(
            name,
            f"{arm.customers:,}",
            _value("response_rate", arm.response_rate),
            _value("conversion_rate", arm.conversion_rate),
            _value("revenue_per_customer", arm.revenue_per_customer),
        )
    return table


def _uplift_table(uplifts: list[ArmUplift], lang: Lang, confidence: float) -> Table:
    h = _HEADINGS[lang]
    table = Table(title="uplift against control" if lang == "en" else "対照群との差")
    level = f"{confidence * 100:g} %"
    for key in ("arm", "metric", "arm_value", "control", "difference", "interval", "relative", "verdict"):
        table.add_column(h[key].format(level=level), justify="left" if key in ("arm", "metric") else "right")
    for item in uplifts:
        for u in item.uplifts:
            relative = f"{u.relative * 100:+.1f} %" if u.relative is not None else "–"
            colour = "green" if u.significant and u.difference > 0 else "red" if u.significant else "dim"
            table.add_row(
                item.arm,
                h[u.metric],
                _value(u.metric, u.treatment),
                _value(u.metric, u.control),
                _value(u.metric, u.difference),
                f"[{_value(u.metric, u.low)}, {_value(u.metric, u.high)}]",
                relative,
                f"[{colour}]{u.verdict(lang)}[/]",
            )
    return table


def _deliveries_table(m: ScenarioMeasurement) -> Table:
    table = Table(title=f"deliveries (conversions within {m.window_days} days of sending)")
    names = ("step", "arm", "channel", "deliveries", "sent", "opened", "clicked", "scanned", "redeemed")
    for name in (*names, "converted", "revenue", "cost", "ROI"):
        table.add_column(name, justify="left" if name in ("step", "arm", "channel") else "right")
    for line in m.deliveries:
        counts = [f"{getattr(line, n):,}" for n in names[3:]]
        roi = f"{line.roi * 100:+.0f} %" if line.roi is not None else "–"
        table.add_row(
            line.step,
            line.arm,
            line.channel,
            *counts,
            f"{line.converted:,}",
            f"{line.revenue:,.2f}",
            f"{line.cost:,.2f}",
            roi,
        )
    return table


def _write_json(data: dict[str, Any], target: str) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if target == "-":
        click.echo(text)
        return
    Path(target).write_text(text + "\n", encoding="utf-8")
    console.print(f"wrote {target}")


@click.group()
def report() -> None:
    """Report what scenarios and experiments achieved against their control groups."""


@report.command("scenario")
@click.argument("name")
@click.option("--json", "json_path", metavar="PATH", help="Also write the report as JSON ('-': print it).")
@_chart_option
@_lang_option
@db_option
def scenario_command(
    name: str, json_path: str | None, chart_path: Path | None, lang: Lang, db: str | None
) -> None:
    """Measure scenario NAME: runs per arm, uplift against control, deliveries, cost and ROI."""
    store = store_for(db)
    with store.session() as session:
        m = measure_scenario(session, name)
    if json_path is not None:
        _write_json(m.to_dict(lang), json_path)
        if json_path == "-":
            return
    title = f"scenario {m.scenario}: orders within {m.window_days} days of entering"
    console.print(_arms_table(m.arms, lang, title))
    if m.uplifts:
        console.print(_uplift_table(m.uplifts, lang, m.confidence))
    else:
        console.print("no control group: uplift cannot be measured (set `control:` in the scenario)")
    if m.deliveries:
        console.print(_deliveries_table(m))
    incremental = m.incremental_revenue
    summary = f"cost {m.cost:,.2f} {m.currency}"
    if incremental is not None:
        summary += (
            f"; incremental revenue {incremental[0]:,.2f} {m.currency} "
            f"[{incremental[1]:,.2f}, {incremental[2]:,.2f}]"
        )
    if m.roi is not None:
        summary += f"; ROI {m.roi * 100:+.0f} %"
    console.print(summary)
    if chart_path is not None and m.arms:
        arms_chart(m.arms, chart_path, title=f"scenario {m.scenario}", lang=lang, currency=m.currency)
        console.print(f"wrote {chart_path}")


@report.command("experiment")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of tables.")
@_chart_option
@_lang_option
@db_option
def experiment_command(name: str, as_json: bool, chart_path: Path | None, lang: Lang, db: str | None) -> None:
    """Report experiment NAME (a campaign's external id or name): each arm against the control arm."""
    store = store_for(db)
    with store.session() as session:
        result = measure_experiment(session, name)
    if chart_path is not None:
        arms_chart(result.arms, chart_path, title=result.name, lang=lang)
    if as_json:
        click.echo(json.dumps(result.to_dict(lang), ensure_ascii=False, indent=2))
        return
    console.print(_arms_table(result.arms, lang, f"{result.name} ({result.campaign})"))
    if result.uplifts:
        console.print(_uplift_table(result.uplifts, lang, result.confidence))
    else:
        console.print("no control arm: uplift cannot be measured")
    if chart_path is not None:
        console.print(f"wrote {chart_path}")
