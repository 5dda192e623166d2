from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kizuna.cli import main
from kizuna.ingest.demo import generate_demo_store
from kizuna.recommend.base import Recommender
from kizuna.recommend.bayesnet import BayesianNetwork
from kizuna.recommend.service import recommend_for
from kizuna.store import open_store


def test_train_and_recommend_with_the_bayesian_network_on_the_demo_store(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url)
    generate_demo_store(store, customers=500, seed=7)
    models = tmp_path / "models"
    runner = CliRunner()
    trained = runner.invoke(
        main,
        [
            "train",
            "--algorithm",
            "bayesnet",
            "--algorithm",
            "popularity",
            "--out",
            str(models),
            "--db",
            db_url,
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "bayesnet trained" in trained.output
    model = Recommender.load(models / "bayesnet.npz")
    assert isinstance(model, BayesianNetwork) and model.network is not None
    assert {"age", "gender", "region", "favourite", "category"} <= set(model.network.variables)
    assert len({c for c, _ in model.cells}) == 13  # the demo catalogue's categories, two levels deep

    assert model.customer_ids is not None
    buyers = [f"#{c}" for c in model.customer_ids[:10]]
    shown = runner.invoke(
        main, ["recommend", buyers[0], "--algorithm", "bayesnet", "-n", "3", "--lang", "ja",
               "--models", str(models), "--db", db_url],
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    texts = [
        s.reason_text
        for key in buyers
        for s in recommend_for(store, key, algorithm_name="bayesnet", n=3, lang="ja", models=models)
    ]
    assert any("のお客様がよく選ぶ" in t for t in texts), texts
