"""Scenario results (uplift against control, with its interval and verdict in the UI language, and the
lines per step, arm and channel) and the customer's value on the 360."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dashboard_seed import Seeded
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from kizuna.config import Settings
from kizuna.measure.campaign import measure_scenario
from kizuna.store.automation import Scenario, ScenarioRun
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow
from kizuna.store.values import CustomerValue


def _keep_back(seeded: Seeded, n: int = 3) -> None:
    """Add ``n`` control runs to the seeded scenario, for customers not in it yet."""
    now = utcnow()
    with seeded.store.session() as session, session.begin():
        scenario_id = session.scalars(select(Scenario.id).where(Scenario.name == seeded.scenario)).one()
        inside = select(ScenarioRun.customer_id).where(ScenarioRun.scenario_id == scenario_id)
        outside = session.scalars(select(Customer.id).where(Customer.id.not_in(inside)).limit(n)).all()
        assert len(outside) == n
        for customer_id in outside:
            session.add(
                ScenarioRun(
                    scenario_id=scenario_id, customer_id=customer_id, occurrence="once", status="control",
                    arm="control", context={}, entered_at=now, updated_at=now, finished_at=now,
                )
            )  # fmt: skip


def test_results_show_uplift_against_control_in_the_ui_language(
    seeded: Seeded, client_as: Callable[[str], TestClient], settings: Settings
) -> None:
    _keep_back(seeded)
    with seeded.store.session() as session:
        measured = measure_scenario(session, seeded.scenario, settings=settings)
    assert measured.control_arm == "control" and measured.uplifts
    client = client_as("viewer")
    page = client.get(f"/scenarios/{seeded.scenario}")
    assert page.status_code == 200
    assert 'id="result-uplift"' in page.text
    rows = sum(len(arm.uplifts) for arm in measured.uplifts)
    assert page.text.count('<tr class="uplift">') == rows
    first = measured.uplifts[0].uplifts[0]
    assert first.verdict("en") in page.text
    assert "95 % interval" in page.text
    assert 'id="result-lines"' in page.text
    for line in measured.deliveries:
        assert f"<td>{line.step}</td><td>{line.arm}</td><td>{line.channel}</td>" in page.text

    japanese = client.get(f"/scenarios/{seeded.scenario}", headers={"accept-language": "ja"}).text
    assert first.verdict("ja") in japanese
    assert "コントロール群に対するアップリフト" in japanese


def test_without_a_control_group_the_page_says_so(
    seeded: Seeded, client_as: Callable[[str], TestClient], settings: Settings
) -> None:
    with seeded.store.session() as session, session.begin():
        session.execute(delete(ScenarioRun).where(ScenarioRun.status.in_(["control", "holdout"])))
    with seeded.store.session() as session:
        assert measure_scenario(session, seeded.scenario, settings=settings).control_arm is None
    page = client_as("viewer").get(f"/scenarios/{seeded.scenario}").text
    assert 'id="no-control"' in page and 'id="result-uplift"' not in page
    assert 'id="result-arms"' in page


def test_the_360_shows_the_customers_value_when_computed(
    seeded: Seeded, client_as: Callable[[str], TestClient]
) -> None:
    client = client_as("viewer")
    before = client.get(f"/customers/{seeded.customer_id}").text
    assert 'id="no-value"' in before and "kizuna value compute" in before
    with seeded.store.session() as session, session.begin():
        session.add(
            CustomerValue(
                customer_id=seeded.customer_id, r_score=4, f_score=2, m_score=5, rfm_segment="big_spenders",
                p_alive=0.8734, expected_purchases=1.237, expected_value=8123.0, ltv=12345.6,
                horizon_days=365, model_version="bgnbd-test",
                computed_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
            )
        )  # fmt: skip
    page = client.get(f"/customers/{seeded.customer_id}").text
    assert 'id="no-value"' not in page
    assert '<dd id="rfm-scores">4 / 2 / 5</dd>' in page
    assert '<dd id="rfm-segment">big_spenders</dd>' in page
    assert '<dd id="p-alive">87.3%</dd>' in page
    assert '<dd id="expected-purchases">1.24</dd>' in page
    assert '<dd id="ltv">¥12,346</dd>' in page
    assert "2026-03-01 09:30" in page and "Expected purchases in 365 days" in page
    assert 'id="deliveries"' in page and "scan 1" in page  # the seeded response next to its delivery
