from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kizuna.cli import main


def test_import_csv_prints_summary_and_is_idempotent(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("顧客番号,氏名\nA-1,山田 太郎\nA-2,佐藤 花子\n", encoding="utf-8")
    args = [
        "import",
        "csv",
        str(path),
        "--kind",
        "customers",
        "--map",
        "顧客番号=external_id",
        "--map",
        "氏名=name",
        "--db",
        db_url,
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "added 2 customers" in first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0 and "nothing new" in second.output


def test_mapping_yaml_file(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "items.csv"
    data.write_text("商品コード,商品名,価格\nP1,緑茶,980\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  商品コード: sku\n  商品名: title\n  価格: price\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "import",
            "csv",
            str(data),
            "--kind",
            "products",
            "--mapping",
            str(mapping),
            "--db",
            db_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "added 1 products" in result.output


def test_bad_input_exits_2_with_file_line_and_column(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,ordered_at,sku,unit_price\no1,c1,someday,p1,10\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "csv", str(path), "--kind", "orders", "--db", db_url])
    assert result.exit_code == 2
    assert "orders.csv, line 2, column 'ordered_at'" in result.output
    assert "Nothing was imported" in result.output


def test_missing_file_exits_2(db_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["import", "csv", str(tmp_path / "nope.csv"), "--kind", "customers", "--db", db_url]
    )
    assert result.exit_code == 2 and "file not found" in result.output


def test_bad_map_option_is_explained(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id\n1\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["import", "csv", str(path), "--kind", "customers", "--map", "id", "--db", db_url]
    )
    assert result.exit_code == 2 and "SOURCE_COLUMN=FIELD" in result.output


def test_parquet_command(db_url: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "i.parquet"
    pq.write_table(pa.table({"user": ["u1", "u2"], "item": ["i1", "i1"], "weight": [1.0, 3.0]}), path)
    result = CliRunner().invoke(
        main, ["import", "parquet", str(path), "--kind", "interactions", "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    assert "2 interactions" in result.output
