from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine

from kizuna.cli import main
from kizuna.store.migrate import head_revision


def test_db_upgrade_and_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'k.db'}"
    up = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    head = head_revision(create_engine(url))
    assert head is not None and head >= "0003"
    assert up.exit_code == 0 and f"revision {head}" in up.output
    status = CliRunner().invoke(main, ["db", "status", "--db", url])
    assert status.exit_code == 0 and "customers" in status.output


def test_customer_show_prints_360(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "c.csv").write_text(
        "customer_id,name,name_kana,email\nc1,山田 太郎,ヤマダ タロウ,t@example.jp\n",
        encoding="utf-8",
    )
    (tmp_path / "p.csv").write_text("sku,title,price\np1,有機コーヒー豆,1280\n", encoding="utf-8")
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,ordered_at,sku,quantity,unit_price\no1,c1,2024-03-01,p1,2,1280\n",
        encoding="utf-8",
    )
    for name, kind in (("c.csv", "customers"), ("p.csv", "products"), ("o.csv", "orders")):
        assert (
            runner.invoke(
                main, ["import", "csv", str(tmp_path / name), "--kind", kind, "--db", db_url]
            ).exit_code
            == 0
        )
    result = runner.invoke(main, ["customer", "show", "t@example.jp", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "山田 太郎" in result.output and "ヤマダ タロウ" in result.output
    assert "有機コーヒー豆" in result.output and "2,560" in result.output
    assert "no consent recorded" in result.output


def test_customer_show_unknown_exits_1(db_url: str) -> None:
    result = CliRunner().invoke(main, ["customer", "show", "ghost", "--db", db_url])
    assert result.exit_code == 1 and "no customer 'ghost'" in result.output
