from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kizuna.cli import main
from kizuna.recommend.registry import ALGORITHMS


def _store_with_baskets(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "p.csv").write_text(
        "sku,title,price\nbeans,コーヒー豆,1280\nfilter,ペーパーフィルター,300\ntea,緑茶,980\n",
        encoding="utf-8",
    )
    lines = ["order_id,customer_id,ordered_at,sku,unit_price"]
    for c in range(1, 6):
        lines += [f"o{c},c{c},2024-03-0{c},beans,1280", f"o{c},c{c},2024-03-0{c},filter,300"]
    lines += ["o9,c9,2024-03-09,beans,1280", "o8,c8,2024-03-08,tea,980"]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, kind in (("p.csv", "products"), ("o.csv", "orders")):
        result = runner.invoke(main, ["import", "csv", str(tmp_path / name), "--kind", kind, "--db", db_url])
        assert result.exit_code == 0, result.output


def test_train_then_recommend_with_reason(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _store_with_baskets(db_url, tmp_path)
    models = tmp_path / "models"
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "--out", str(models), "--db", db_url])
    assert trained.exit_code == 0, trained.output
    assert {p.name for p in models.iterdir()} == {f"{name}.npz" for name in ALGORITHMS} | {"default.npz"}
    shown = runner.invoke(
        main,
        ["recommend", "c9", "--algorithm", "cooccurrence", "-n", "1", "--lang", "ja", "--models", str(models),
         "--db", db_url],
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "ペーパーフィルター" in shown.output
    assert "コーヒー豆を購入したお客様" in shown.output
    assert "…" not in shown.output  # folded in an 80-column terminal, never cut


def test_recommend_without_training_explains(db_url: str, tmp_path: Path) -> None:
    _store_with_baskets(db_url, tmp_path)
    result = CliRunner().invoke(main, ["recommend", "c1", "--models", str(tmp_path / "none"), "--db", db_url])
    assert result.exit_code == 1 and "kizuna train" in result.output
