"""Customer values in the store: computed from orders, used in segments, exported, merged and deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kizuna.cli import main
from kizuna.errors import ConfigError
from kizuna.ingest.merge import merge_customers
from kizuna.measure.rfm import quintile_scores, rfm_segments
from kizuna.measure.value import compute_values
from kizuna.privacy.erase import delete_customer_in_store
from kizuna.privacy.export import collect
from kizuna.segments.compiler import matching_ids
from kizuna.segments.conditions import parse_condition
from kizuna.store import Store
from kizuna.store.tables import Customer, Order
from kizuna.store.values import CustomerValue

NOW = datetime(2026, 6, 30, tzinfo=UTC)


def test_quintiles_and_the_rfm_grid() -> None:
    assert quintile_scores(np.arange(10.0)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(np.arange(10.0), higher_is_better=False).tolist()[0] == 5
    assert len(set(quintile_scores(np.array([1.0, 2, 2, 2, 9])).tolist()[1:4])) == 1  # ties share a score
    assert rfm_segments(np.array([5, 5, 1, 1, 2]), np.array([5, 1, 1, 5, 3])).tolist() == [
        "champions",
        "new",
        "lost",
        "cannot_lose",
        "at_risk",
    ]
    with pytest.raises(ValueError, match="between 1 and 5"):
        rfm_segments(np.array([0]), np.array([1]))


@pytest.fixture
def shop(store: Store) -> dict[str, int]:
    """Forty customers with repeat purchases at different paces, and one who never bought."""
    rng = np.random.default_rng(5)
    ids: dict[str, int] = {}
    with store.session() as s:
        n = 0
        for k in range(40):
            customer = Customer(external_id=f"c{k}")
            s.add(customer)
            s.flush()
            ids[customer.external_id] = customer.id
            first = NOW - timedelta(days=int(rng.integers(200, 400)))
            days = sorted({int(d) for d in rng.integers(0, (NOW - first).days, k % 6)})
            for day in [0, *days]:
                n += 1
                s.add(
                    Order(
                        external_id=f"o{n}",
                        customer_id=customer.id,
                        ordered_at=first + timedelta(days=day),
                        total=float(rng.gamma(4, 500)),
                    )
                )
        idle = Customer(external_id="idle")
        s.add(idle)
        s.commit()
        ids["idle"] = idle.id
    return ids


def _values(store: Store) -> dict[int, CustomerValue]:
    with store.session() as s:
        return {v.customer_id: v for v in s.scalars(select(CustomerValue))}


def test_compute_values_stores_scores_segments_and_predictions(store: Store, shop: dict[str, int]) -> None:
    report = compute_values(store, now=NOW, horizon_days=180)
    assert report.customers == 40 and report.bgnbd is not None and report.gamma_gamma is not None
    values = _values(store)
    assert set(values) == {v for k, v in shop.items() if k != "idle"}
    one = values[shop["c5"]]
    assert 1 <= one.r_score <= 5 and one.rfm_segment in report.segments
    assert one.p_alive is not None and 0 < one.p_alive <= 1
    assert one.ltv is not None and one.ltv > 0 and one.horizon_days == 180
    assert "bgnbd r=" in one.model_version
    # The one who bought once and never again has nothing to show of a drop-out: alive with certainty.
    assert values[shop["c0"]].p_alive == pytest.approx(1.0)
    assert sum(report.segments.values()) == 40
    # A second run replaces the rows, and a longer horizon predicts more.
    compute_values(store, now=NOW, horizon_days=365)
    longer = _values(store)
    assert len(longer) == 40
    assert longer[shop["c5"]].expected_purchases > one.expected_purchases  # type: ignore[operator]


def test_value_conditions_select_customers(store: Store, shop: dict[str, int]) -> None:
    compute_values(store, now=NOW)
    values = _values(store)

    def matching(data: dict[str, object]) -> set[int]:
        with store.engine.connect() as conn:
            return matching_ids(conn, parse_condition(data), now=NOW, resolve=_no_segments)

    ltvs = sorted(v.ltv for v in values.values() if v.ltv is not None)
    middle = ltvs[len(ltvs) // 2]
    assert matching({"value": "ltv", "gte": middle}) == {c for c, v in values.items() if v.ltv >= middle}  # type: ignore[operator]
    assert matching({"value": "p_alive", "lt": 0.3}) == {
        c for c, v in values.items() if v.p_alive is not None and v.p_alive < 0.3
    }
    champions = {c for c, v in values.items() if v.rfm_segment == "champions"}
    assert champions and matching({"value": "rfm_segment", "eq": "champions"}) == champions
    assert matching({"value": "r_score", "in": [4, 5]}) == {c for c, v in values.items() if v.r_score >= 4}
    assert matching({"value": "ltv", "exists": False}) == {shop["idle"]}
    with pytest.raises(ConfigError, match="unknown RFM segment 'heroes'"):
        matching({"value": "rfm_segment", "eq": "heroes"})
    with pytest.raises(ConfigError, match="value 'ltv' needs a comparison"):
        parse_condition({"value": "ltv"})


def test_values_are_exported_merged_and_deleted_with_the_customer(store: Store, shop: dict[str, int]) -> None:
    compute_values(store, now=NOW)
    with store.session() as s:
        exported = collect(s, shop["c3"])
        assert [row["customer_id"] for row in exported["customer_values"]] == [shop["c3"]]
        merge_customers(s, shop["c3"], shop["c4"], reason="same person")
        s.commit()
    values = _values(store)
    assert shop["c3"] in values and shop["c4"] not in values
    delete_customer_in_store(store, shop["c3"])
    assert shop["c3"] not in _values(store)


def test_value_compute_command(store: Store, shop: dict[str, int], db_url: str) -> None:
    result = CliRunner().invoke(
        main,
        ["value", "compute", "--horizon-days", "90", "--at", "2026-06-30T00:00:00+00:00", "--db", db_url],
    )
    assert result.exit_code == 0, result.output
    assert "valued 40 customers over 90 days" in result.output and "BG/NBD: r=" in result.output
    assert {v.horizon_days for v in _values(store).values()} == {90}


def _no_segments(name: str) -> object:
    raise KeyError(name)
