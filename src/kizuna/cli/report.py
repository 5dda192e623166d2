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
#: Below these console widths the uplift is printed as lines and the deliveries table turned on its side.
_WIDE_UPLIFT = 135
_WIDE_DELIVERIES = 170
_LABELS: dict[str, dict[str, str]] = {
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
        "uplift_title": "uplift against control",
        "scenario_title": "scenario {name}: orders within {days:g} days of entering",
        "deliveries_title": "deliveries (conversions within {days:g} days of sending)",
        "control_mark": "{arm} (control)",
        "no_control": "no control group: uplift cannot be measured (set `control:` in the scenario)",
        "no_control_arm": "no control arm: uplift cannot be measured",
        "cost": "cost {value} {currency}",
        "incremental": "incremental revenue {value} {currency} [{low}, {high}]",
        "roi_total": "ROI {value}",
        "versus": "{arm} against {control}",
        "step": "step",
        "channel": "channel",
        "deliveries": "deliveries",
        "waiting": "waiting",
        "suppressed": "suppressed",
        "failed": "failed",
        "sent": "sent",
        "opened": "opened",
        "clicked": "clicked",
        "scanned": "scanned",
        "redeemed": "redeemed",
        "converted": "converted",
        "revenue": "revenue",
        "cost_column": "cost",
        "roi": "ROI",
        "wrote": "wrote {path}",
        "treated": "treated",
        "holdout": "holdout",
    },
    "ja": {
        "arm": "群",
        "customers": "顧客数",
        "response_rate": "反応率",
        "conversion_rate": "購入率",
        "revenue_per_customer": "顧客あたり売上",
        "metric": "指標",
        "arm_value": "施策群",
        "control": "コントロール群",
        "difference": "差",
        "interval": "{level} 信頼区間",
        "relative": "相対差",
        "verdict": "判定",
        "uplift_title": "コントロール群との差",
        "scenario_title": "シナリオ {name}: 開始から {days:g} 日以内の購入",
        "deliveries_title": "配信（送信から {days:g} 日以内の購入）",
        "control_mark": "{arm}（コントロール群）",
        "no_control": "コントロール群がないため効果を測れません（シナリオに `control:` を設定してください）",
        "no_control_arm": "コントロール群がないため効果を測れません",
        "cost": "費用 {value} {currency}",
        "incremental": "増分売上 {value} {currency} [{low}, {high}]",
        "roi_total": "ROI {value}",
        "versus": "{arm} 対 {control}",
        "step": "ステップ",
        "channel": "チャネル",
        "deliveries": "配信",
        "waiting": "送信待ち",
        "suppressed": "抑止",
        "failed": "失敗",
        "sent": "送信",
        "opened": "開封",
        "clicked": "クリック",
        "scanned": "QR読取",
        "redeemed": "クーポン利用",
        "converted": "購入",
        "revenue": "売上",
        "cost_column": "費用",
        "roi": "ROI",
        "wrote": "{path} に書き出しました",
        "treated": "施策群",
        "holdout": "ホールドアウト",
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


def _arm_name(arm: str, lang: Lang) -> str:
    """A scenario's own arm names as written; kizuna's three (treated, control, holdout) translated."""
    labels = _LABELS[lang]
    return labels.get(arm, arm) if arm in ("treated", "control", "holdout") else arm


def _arms_table(arms: list[ArmOutcome], lang: Lang, title: str) -> Table:
    h = _LABELS[lang]
    table = Table(title=title)
    for key in ("arm", "customers", "response_rate", "conversion_rate", "revenue_per_customer"):
        table.add_column(h[key], justify="left" if key == "arm" else "right")
    for arm in arms:
        name = _arm_name(arm.arm, lang)
        if arm.is_control and arm.arm != "control":
            name = h["control_mark"].format(arm=name)
        table.add_row(
            name,
            f"{arm.customers:,}",
            _value("response_rate", arm.response_rate),
            _value("conversion_rate", arm.conversion_rate),
            _value("revenue_per_customer", arm.revenue_per_customer),
        )
    return table


def _print_uplifts(uplifts: list[ArmUplift], lang: Lang, confidence: float, control: str | None) -> None:
    """Each arm against control: a table on a wide console, a line per measure on a narrow one."""
    h = _LABELS[lang]
    level = f"{confidence * 100:g} %"
    control_name = _arm_name(control or "control", lang)
    if console.width < _WIDE_UPLIFT:
        console.print(f"[bold]{h['uplift_title']}[/]")
        for item in uplifts:
            console.print(h["versus"].format(arm=_arm_name(item.arm, lang), control=control_name))
            for u in item.uplifts:
                relative = f" ({u.relative * 100:+.1f} %)" if u.relative is not None else ""
                colour = "green" if u.significant and u.difference > 0 else "red" if u.significant else "dim"
                interval = f"[{_value(u.metric, u.low)}, {_value(u.metric, u.high)}]"
                console.print(
                    f"  {h[u.metric]}: {_value(u.metric, u.treatment)} / {_value(u.metric, u.control)}, "
                    f"{h['difference']} {_value(u.metric, u.difference)}{relative}, "
                    f"{h['interval'].format(level=level)} {interval} — [{colour}]{u.verdict(lang)}[/]",
                    highlight=False,
                )
        return
    table = Table(title=h["uplift_title"])
    for key in ("arm", "metric", "arm_value", "control", "difference", "interval", "relative", "verdict"):
        table.add_column(h[key].format(level=level), justify="left" if key in ("arm", "metric") else "right")
    for item in uplifts:
        for u in item.uplifts:
            relative = f"{u.relative * 100:+.1f} %" if u.relative is not None else "–"
            colour = "green" if u.significant and u.difference > 0 else "red" if u.significant else "dim"
            table.add_row(
                _arm_name(item.arm, lang),
                h[u.metric],
                _value(u.metric, u.treatment),
                _value(u.metric, u.control),
                _value(u.metric, u.difference),
                f"[{_value(u.metric, u.low)}, {_value(u.metric, u.high)}]",
                relative,
                f"[{colour}]{u.verdict(lang)}[/]",
            )
    console.print(table)


_COUNTS = (
    "deliveries", "waiting", "suppressed", "failed", "sent", "opened", "clicked", "scanned", "redeemed",
    "converted",
)  # fmt: skip


def _deliveries_table(m: ScenarioMeasurement, lang: Lang) -> Table:
    """Per step, arm and channel; turned on its side (a column per line) on a narrow console."""
    h = _LABELS[lang]
    title = h["deliveries_title"].format(days=m.window_days)
    cells: list[list[str]] = []
    for line in m.deliveries:
        roi = f"{line.roi * 100:+.0f} %" if line.roi is not None else "–"
        counts = [f"{getattr(line, n):,}" for n in _COUNTS]
        cells.append([*counts, f"{line.revenue:,.2f}", f"{line.cost:,.2f}", roi])
    measures = [h[n] for n in _COUNTS] + [h["revenue"], h["cost_column"], h["roi"]]
    if console.width < _WIDE_DELIVERIES:
        table = Table(title=title)
        table.add_column(h["metric"], justify="left")
        for line in m.deliveries:
            table.add_column(f"{line.step}\n{_arm_name(line.arm, lang)}\n{line.channel}", justify="right")
        for k, measure in enumerate(measures):
            table.add_row(measure, *(row[k] for row in cells))
        return table
    table = Table(title=title)
    for key in ("step", "arm", "channel"):
        table.add_column(h[key], justify="left")
    for measure in measures:
        table.add_column(measure, justify="right")
    for line, row in zip(m.deliveries, cells, strict=True):
        table.add_row(line.step, _arm_name(line.arm, lang), line.channel, *row)
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
    h = _LABELS[lang]
    console.print(_arms_table(m.arms, lang, h["scenario_title"].format(name=m.scenario, days=m.window_days)))
    if m.uplifts:
        _print_uplifts(m.uplifts, lang, m.confidence, m.control_arm)
    else:
        console.print(h["no_control"])
    if m.deliveries:
        console.print(_deliveries_table(m, lang))
    incremental = m.incremental_revenue
    summary = h["cost"].format(value=f"{m.cost:,.2f}", currency=m.currency)
    if incremental is not None:
        low, high = f"{incremental[1]:,.2f}", f"{incremental[2]:,.2f}"
        summary += "; " + h["incremental"].format(
            value=f"{incremental[0]:,.2f}", currency=m.currency, low=low, high=high
        )
    if m.roi is not None:
        summary += "; " + h["roi_total"].format(value=f"{m.roi * 100:+.0f} %")
    console.print(summary, highlight=False)
    if chart_path is not None and m.arms:
        arms_chart(m.arms, chart_path, title=f"scenario {m.scenario}", lang=lang, currency=m.currency)
        console.print(h["wrote"].format(path=chart_path))


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
    h = _LABELS[lang]
    console.print(_arms_table(result.arms, lang, f"{result.name} ({result.campaign})"))
    if result.uplifts:
        control = next((a.arm for a in result.arms if a.is_control), None)
        _print_uplifts(result.uplifts, lang, result.confidence, control)
    else:
        console.print(h["no_control_arm"])
    if chart_path is not None:
        console.print(h["wrote"].format(path=chart_path))
