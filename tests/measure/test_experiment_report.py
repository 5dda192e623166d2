"""Experiment reports: the Hillstrom e-mail test's published figures, reproduced from a small fixture."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy import stats

from kizuna.cli import main
from kizuna.errors import NotFoundError
from kizuna.ingest.datasets.hillstrom import COLUMNS, import_hillstrom
from kizuna.measure.experiment import measure_experiment
from kizuna.store import Store

#: Per arm: customers, visits, conversions and total spend. The smallest groups whose rates round to the
#: published figures (Hillstrom 2008: visits 18.28 % / 15.14 % / 10.62 %, conversions 1.25 % / 0.88 % /
#: 0.57 %, spend per customer 1.42 / 1.08 / 0.65).
ARMS = {
    "Mens E-Mail": (640, 117, 8, 908.80),
    "Womens E-Mail": (568, 86, 5, 613.44),
    "No E-Mail": (697, 74, 4, 453.05),
}
PUBLISHED = {
    "Mens E-Mail": (18.28, 1.25, 1.42),
    "Womens E-Mail": (15.14, 0.88, 1.08),
    "No E-Mail": (10.62, 0.57, 0.65),
}


def fixture_file(tmp_path: Path) -> Path:
    """A hillstrom.csv whose arms have the counts of :data:`ARMS`; spend is shared by the converters."""
    lines = [",".join(COLUMNS)]
    for arm, (n, visits, conversions, spend) in ARMS.items():
        for k in range(n):
            converted = k < conversions
            amount = spend / conversions if converted else 0.0
            outcome = f"{int(k < visits)},{int(converted)},{amount:.2f}"
            lines.append(f"3,2) $100 - $200,150.0,1,0,Urban,0,Web,{arm},{outcome}")
    path = tmp_path / "hillstrom.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    return path


def _newcombe(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)

    def wilson(x: int, n: int) -> tuple[float, float]:
        p = x / n
        centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)

    (l1, u1), (l0, u0) = wilson(x1, n1), wilson(x0, n0)
    p1, p0 = x1 / n1, x0 / n0
    return p1 - p0 - math.hypot(p1 - l1, u0 - p0), p1 - p0 + math.hypot(u1 - p1, p0 - l0)


def test_the_published_hillstrom_figures_are_reproduced(store: Store, tmp_path: Path) -> None:
    import_hillstrom(store, fixture_file(tmp_path))
    with store.session() as session:
        report = measure_experiment(session, "hs-email-2008")
    assert report.control_arm == "No E-Mail"
    for arm, (visit, conversion, spend) in PUBLISHED.items():
        found = report.arm(arm)
        assert round(found.response_rate * 100, 2) == visit
        assert round(found.conversion_rate * 100, 2) == conversion
        assert round(found.revenue_per_customer, 2) == spend
    assert [u.arm for u in report.uplifts] == ["Mens E-Mail", "Womens E-Mail"]
    mens = report.uplifts[0].uplifts
    assert [u.metric for u in mens] == ["response_rate", "conversion_rate", "revenue_per_customer"]
    assert (mens[0].low, mens[0].high) == pytest.approx(_newcombe(117, 640, 74, 697))
    assert (mens[1].low, mens[1].high) == pytest.approx(_newcombe(8, 640, 4, 697))
    assert mens[0].significant  # 18.28 % against 10.62 % on 640 and 697 customers
    assert not mens[1].significant  # 8 against 4 conversions: the interval includes 0
    assert mens[1].verdict() == "not significant: the interval includes 0"


def test_report_experiment_prints_json_and_writes_a_chart(store: Store, db_url: str, tmp_path: Path) -> None:
    import_hillstrom(store, fixture_file(tmp_path))
    chart = tmp_path / "chart.svg"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "experiment",
            "hs-email-2008",
            "--json",
            "--chart",
            str(chart),
            "--lang",
            "ja",
            "--db",
            db_url,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["control_arm"] == "No E-Mail"
    arms = {a["arm"]: a for a in data["arms"]}
    assert arms["Mens E-Mail"]["customers"] == 640
    assert round(arms["Womens E-Mail"]["response_rate"] * 100, 2) == 15.14
    assert data["uplifts"][0]["uplifts"][0]["verdict"] == "95 % 水準で有意（プラスの効果）"
    assert "顧客あたり売上" in chart.read_text(encoding="utf-8")

    shown = CliRunner().invoke(main, ["report", "experiment", "hs-email-2008", "--db", db_url])
    assert shown.exit_code == 0, shown.output
    assert "18.28 %" in shown.output and "10.62 %" in shown.output


def test_an_unknown_campaign_is_named(store: Store) -> None:
    with store.session() as session, pytest.raises(NotFoundError, match="no campaign 'nope'"):
        measure_experiment(session, "nope")


@pytest.mark.slow
def test_the_full_hillstrom_file_when_present(store: Store) -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "hillstrom-email-2008" / "hillstrom.csv"
    if not path.is_file():
        pytest.skip("the Hillstrom file is not in ../shared/data")
    if store.dialect != "sqlite":
        pytest.skip("one backend is enough for 64,000 rows")
    import_hillstrom(store, path)
    with store.session() as session:
        report = measure_experiment(session, "hs-email-2008")
    for arm, (visit, conversion, spend) in PUBLISHED.items():
        found = report.arm(arm)
        rounded = (round(found.response_rate * 100, 2), round(found.conversion_rate * 100, 2))
        assert (*rounded, round(found.revenue_per_customer, 2)) == (visit, conversion, spend)
