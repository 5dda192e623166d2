from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kizuna.cli import main
from kizuna.recommend.data import TrainingData
from kizuna.recommend.evaluate.report import colours, write_report
from kizuna.recommend.evaluate.run import evaluate, relevant_items, score_model, split_data
from kizuna.recommend.repurchase import Repurchase


def groups(n_users: int = 40, seed: int = 3) -> TrainingData:
    """Two taste groups; each customer chose 6 of their group's 10 products, one per day."""
    rng = np.random.default_rng(seed)
    customers, products, times = [], [], []
    for u in range(n_users):
        group = u % 2
        chosen = rng.choice(10, size=6, replace=False) + 100 + 10 * group
        for day, p in enumerate(chosen):
            customers.append(u)
            products.append(int(p))
            times.append(day * 86_400.0)
    return TrainingData.from_ids(customers, products, times=times)


def test_personalised_model_beats_popularity_on_held_out_items() -> None:
    result = evaluate(groups(), ["popularity", "ease"], split="leave-last-out", k=3)
    assert set(result.results) == {"popularity", "ease"}
    assert result.results["ease"]["recall@3"] > result.results["popularity"]["recall@3"]
    assert result.results["ease"]["train_seconds"] >= 0
    assert result.split["test"] == 40


def test_splits_by_name_and_unknown_split() -> None:
    train, test = split_data(groups(), "temporal", days=1.5)
    assert len(test.interactions) == 80 and len(train.interactions) == 160
    with pytest.raises(ValueError, match="unknown split"):
        split_data(groups(), "random")


def test_dense_model_too_large_is_reported_as_skipped() -> None:
    result = evaluate(groups(), ["ease"], split="leave-last-out", params={"ease": {"max_items": 5}})
    assert "ease" in result.skipped and not result.results


def test_report_has_table_and_chart(tmp_path: Path) -> None:
    result = evaluate(groups(), ["popularity", "cooccurrence"], split="stratified", k=5)
    path = write_report(result, tmp_path / "eval.md")
    text = path.read_text(encoding="utf-8")
    assert "| cooccurrence |" in text and "ndcg@5" in text and "![metrics per algorithm](eval.png)" in text
    assert (tmp_path / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_evaluate_writes_json(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    lines = ["user,item,timestamp"]
    data = groups(20)
    for u, i, t in zip(data.interactions.user, data.interactions.item, data.interactions.time, strict=True):
        lines.append(f"u{data.customer_ids[u]},p{data.product_ids[i]},{int(t) + 1_700_000_000}")
    (tmp_path / "i.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["import", "csv", str(tmp_path / "i.csv"), "--kind", "interactions",
                                "--db", db_url]).exit_code == 0  # fmt: skip
    out = tmp_path / "r.json"
    args = ["evaluate", "--split", "stratified", "--ratio", "0.75", "--seed", "42", "-k", "10"]
    args += ["--algorithm", "popularity", "--algorithm", "cooccurrence", "--json", str(out), "--db", db_url]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    # The table reads in an 80-column terminal: names and headers whole.
    assert max(map(len, result.output.splitlines())) <= 80
    for word in ("popularity", "cooccurrence", "precision", "coverage", "novelty"):
        assert word in result.output
    figures = json.loads(out.read_text())
    assert set(figures) == {"popularity", "cooccurrence"}
    assert {"ndcg@10", "precision@10", "recall@10", "map@10", "coverage", "novelty", "train_seconds"} <= set(
        figures["cooccurrence"]
    )


def test_repeats_count_products_bought_again() -> None:
    # Customer 1 buys 10 every day and tries 11 once in the test period; customer 2 buys 20.
    day = 86_400.0
    data = TrainingData.from_ids(
        [1, 1, 1, 1, 2, 2, 2], [10, 10, 10, 11, 20, 20, 20], times=[0, day, 9 * day, 9 * day, 0, day, 9 * day]
    )
    train, test = split_data(data, "temporal", days=2)
    new_only = relevant_items(train, test)
    every = relevant_items(train, test, repeats=True)
    col = {int(p): c for c, p in enumerate(data.product_ids)}
    row = {int(c): r for r, c in enumerate(data.customer_ids)}
    assert new_only == {row[1]: {col[11]}}
    assert every == {row[1]: {col[10], col[11]}, row[2]: {col[20]}}
    model = Repurchase().fit(train)
    assert score_model(model, train, test, 1, repeats=True)["recall@1"] == pytest.approx((0.5 + 1.0) / 2)
    assert score_model(model, train, test, 1)["recall@1"] == 0.0
    result = evaluate(data, ["repurchase"], split="temporal", days=2, k=1, repeats=True)
    assert result.split["repeats"] is True
    assert result.results["repurchase"]["recall@1"] == pytest.approx(0.75)


def test_every_algorithm_of_a_full_evaluation_gets_its_own_colour() -> None:
    # Twelve algorithms: the default ten-colour cycle would give two pairs the same colour.
    assert len(set(colours(12))) == 12
    assert len(set(colours(20))) == 20
