"""Scenario measurement: runs per arm against control, deliveries per step and channel, costs and ROI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kizuna.channels.responses import record_response
from kizuna.cli import main
from kizuna.config import get_settings
from kizuna.errors import NotFoundError
from kizuna.measure.campaign import measure_scenario
from kizuna.store import Store
from kizuna.store.automation import Delivery, Scenario, ScenarioRun
from kizuna.store.tables import Customer, Order

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def welcome(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Arm A (4 runs, email), arm B (2 runs, direct mail) and 3 control runs, with orders around them."""
    monkeypatch.setenv("KIZUNA_COST_PER_EMAIL", "10")
    monkeypatch.setenv("KIZUNA_COST_PER_DM_PIECE", "100")
    monkeypatch.setenv("KIZUNA_COST_DM_POSTAGE", "84")
    get_settings.cache_clear()
    plan = {1: "A", 2: "A", 3: "A", 4: "A", 5: "B", 6: "B", 7: None, 8: None, 9: None}
    with store.session() as s:
        scenario = Scenario(name="welcome", definition={})
        s.add(scenario)
        customers = {k: Customer(external_id=f"c{k}") for k in plan}
        s.add_all(customers.values())
        s.flush()
        for k, arm in plan.items():
            cid = customers[k].id
            run = ScenarioRun(
                scenario_id=scenario.id,
                customer_id=cid,
                occurrence="once",
                status="done" if arm else "control",
                arm=arm,
                entered_at=T0,
                updated_at=T0,
            )
            s.add(run)
            s.flush()
            if arm is None:
                continue
            email = arm == "A"
            s.add(
                Delivery(
                    key=f"welcome:{k}",
                    scenario_id=scenario.id,
                    run_id=run.id,
                    step="mail" if email else "dm",
                    customer_id=cid,
                    channel="email" if email else "direct_mail",
                    arm=arm,
                    status="suppressed" if k == 4 else "sent",
                    created_at=T0,
                    due_at=T0,
                    sent_at=None if k == 4 else T0 + timedelta(hours=1),
                )
            )
        s.flush()
        for at in (2, 3):
            record_response(s, "welcome:1", "open", at=T0 + timedelta(hours=at))
        record_response(s, "welcome:1", "click", at=T0 + timedelta(hours=3))
        record_response(s, "welcome:2", "open", at=T0 + timedelta(hours=5))
        orders = [
            (1, 2, 1_000, "completed"),  # within 7 days: converts
            (2, 10, 500, "completed"),  # after the window
            (5, 3, 2_000, "completed"),
            (7, 1, 300, "completed"),  # a control customer buys anyway
            (8, 1, 9_999, "cancelled"),  # never counts
        ]
        for n, (k, days, total, status) in enumerate(orders):
            s.add(
                Order(
                    external_id=f"o{n}",
                    customer_id=customers[k].id,
                    ordered_at=T0 + timedelta(days=days),
                    total=total,
                    status=status,
                )
            )
        s.commit()
    return store


def test_arms_are_measured_from_runs_and_orders(welcome: Store) -> None:
    with welcome.session() as session:
        m = measure_scenario(session, "welcome")
    arms = {a.arm: a for a in m.arms}
    assert set(arms) == {"A", "B", "control"}
    a, b, control = arms["A"], arms["B"], arms["control"]
    assert (a.customers, a.responded, a.converted, a.revenue) == (4, 2, 1, 1_000)
    assert (b.customers, b.responded, b.converted, b.revenue) == (2, 0, 1, 2_000)
    assert (control.customers, control.is_control, control.converted, control.revenue) == (3, True, 1, 300)
    assert [u.arm for u in m.uplifts] == ["A", "B"]
    conversion = m.uplifts[0].uplifts[1]
    assert conversion.difference == pytest.approx(1 / 4 - 1 / 3)
    assert not conversion.significant


def test_deliveries_costs_and_roi(welcome: Store) -> None:
    with welcome.session() as session:
        m = measure_scenario(session, "welcome")
    lines = {(d.step, d.arm, d.channel): d for d in m.deliveries}
    mail = lines["mail", "A", "email"]
    assert (mail.deliveries, mail.sent, mail.suppressed) == (4, 3, 1)
    assert (mail.opened, mail.clicked) == (2, 1)  # first open per delivery
    assert (mail.converted, mail.revenue, mail.cost) == (1, 1_000, 30)
    dm = lines["dm", "B", "direct_mail"]
    assert (dm.sent, dm.converted, dm.revenue, dm.cost) == (2, 1, 2_000, 368)
    assert dm.roi == pytest.approx((2_000 - 368) / 368)
    assert m.cost == 398
    # All treated runs: 3,000 over 6 customers against 300 over 3: 400 more per customer, 6 customers.
    assert m.incremental_revenue is not None
    assert m.incremental_revenue[0] == pytest.approx(2_400)
    assert m.roi == pytest.approx((2_400 - 398) / 398)


def test_the_window_follows_the_setting(welcome: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_ATTRIBUTION_WINDOW_DAYS", "14")
    get_settings.cache_clear()
    with welcome.session() as session:
        m = measure_scenario(session, "welcome")
    assert {a.arm: a.revenue for a in m.arms}["A"] == 1_500


def test_report_scenario_writes_json_and_a_chart(welcome: Store, db_url: str, tmp_path: Path) -> None:
    out, chart = tmp_path / "welcome.json", tmp_path / "welcome.png"
    args = ["report", "scenario", "welcome", "--json", str(out), "--chart", str(chart), "--db", db_url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["cost"] == 398 and data["window_days"] == 7
    assert data["incremental_revenue"]["estimate"] == pytest.approx(2_400)
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "ROI" in result.output


def test_an_unknown_scenario_is_named(store: Store) -> None:
    with store.session() as session, pytest.raises(NotFoundError, match="no scenario 'nope'"):
        measure_scenario(session, "nope")


def test_report_scenario_in_japanese_is_japanese_throughout(welcome: Store, db_url: str) -> None:
    result = CliRunner().invoke(main, ["report", "scenario", "welcome", "--lang", "ja", "--db", db_url])
    assert result.exit_code == 0, result.output
    japanese = (
        "シナリオ welcome",
        "コントロール群との差",
        "購入率",
        "配信（送信から 7 日以内の購入）",
        "費用",
        "増分売上",
    )
    for label in japanese:
        assert label in result.output
    for english in ("orders within", "uplift against", "deliveries (", "incremental revenue", "cost "):
        assert english not in result.output


def test_report_scenario_shows_where_every_delivery_went(welcome: Store, db_url: str) -> None:
    result = CliRunner().invoke(main, ["report", "scenario", "welcome", "--db", db_url])
    assert result.exit_code == 0, result.output
    for label in ("waiting", "suppressed", "failed", "sent", "converted"):
        assert label in result.output


def test_the_report_and_the_dashboard_name_the_groups_alike() -> None:
    # A marketer reads both: one word for the control group and one for the holdout, in either language.
    from kizuna.cli.report import _LABELS
    from kizuna.dashboard.i18n import catalogue

    for lang in ("ja", "en"):
        words = catalogue(lang)
        assert _LABELS[lang]["control"].lower() in words["preview.control"].lower()
        assert _LABELS[lang]["holdout"].lower() in words["preview.holdout"].lower()
