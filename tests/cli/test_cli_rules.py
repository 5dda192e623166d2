from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from kizuna.cli import _Group
from kizuna.cli.rules import rules
from kizuna.ingest.writer import import_run
from kizuna.recommend.rules_store import list_rules
from kizuna.store.engine import Store

# The ``rules`` group under the same error handling as ``kizuna`` itself.
cli: click.Group = _Group("kizuna", commands={"rules": rules})

YAML = """\
rules:
  - name: beans-to-filter
    when: {bought: BEANS}
    recommend: FILTER
    priority: 10
    valid_from: 2026-01-01
    valid_until: 2026-03-31
  - name: coffee-to-mug
    when: {category: 食品/コーヒー}
    recommend: MUG
"""


def _catalogue(store: Store) -> None:
    with import_run(store, "test") as (writer, _):
        writer.write_products(
            [
                {"sku": "BEANS", "title": "豆", "category_path": "食品/コーヒー/豆"},
                {"sku": "FILTER", "title": "フィルター", "category_path": "雑貨"},
                {"sku": "MUG", "title": "マグ", "category_path": "雑貨"},
            ]
        )


def test_add_list_remove(store: Store, db_url: str) -> None:
    _catalogue(store)
    runner = CliRunner()
    args = ["rules", "add", "beans-to-mug", "--bought", "BEANS", "--recommend", "MUG", "--priority", "3"]
    result = runner.invoke(cli, [*args, "--until", "2026-12-31", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "beans-to-mug" in result.output
    [rule] = list_rules(store)
    assert (rule.trigger_event, rule.trigger_value, rule.target_sku, rule.priority) == (
        "bought",
        "BEANS",
        "MUG",
        3,
    )
    assert rule.valid_until is not None and rule.valid_from is None

    result = runner.invoke(cli, ["rules", "list", "--db", db_url])
    assert result.exit_code == 0
    assert (
        "beans-to-mug" in result.output and "bought BEANS" in result.output and "…2026-12-31" in result.output
    )

    result = runner.invoke(cli, ["rules", "remove", "beans-to-mug", "--db", db_url])
    assert result.exit_code == 0 and list_rules(store) == []
    result = runner.invoke(cli, ["rules", "remove", "beans-to-mug", "--db", db_url])
    assert result.exit_code == 1 and "no rule named 'beans-to-mug'" in result.output


def test_add_refuses_bad_input(store: Store, db_url: str) -> None:
    _catalogue(store)
    runner = CliRunner()
    two = ["rules", "add", "x", "--bought", "BEANS", "--category", "食品", "--recommend", "MUG"]
    result = runner.invoke(cli, [*two, "--db", db_url])
    assert result.exit_code == 2 and "exactly one trigger" in result.output
    unknown = ["rules", "add", "x", "--viewed", "BEANS", "--recommend", "NOPE", "--db", db_url]
    result = runner.invoke(cli, unknown)
    assert result.exit_code == 2 and "unknown SKU" in result.output and "NOPE" in result.output
    bad_day = ["rules", "add", "x", "--any", "BEANS", "--recommend", "MUG", "--from", "2026-13-01"]
    result = runner.invoke(cli, [*bad_day, "--db", db_url])
    assert result.exit_code == 2 and "valid_from" in result.output
    assert list_rules(store) == []


def test_import_and_export_round_trip(store: Store, db_url: str, tmp_path: Path) -> None:
    _catalogue(store)
    source = tmp_path / "rules.yaml"
    source.write_text(YAML, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["rules", "import", str(source), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "2 rules imported" in result.output
    assert [r.name for r in list_rules(store)] == ["beans-to-filter", "coffee-to-mug"]

    result = runner.invoke(cli, ["rules", "export", "--db", db_url])
    assert result.exit_code == 0
    assert "valid_from: 2026-01-01" in result.output and "category: 食品/コーヒー" in result.output
    target = tmp_path / "out.yaml"
    result = runner.invoke(cli, ["rules", "export", "-o", str(target), "--db", db_url])
    assert (
        result.exit_code == 0
        and target.read_text(encoding="utf-8")
        == runner.invoke(cli, ["rules", "export", "--db", db_url]).output
    )

    # Importing the export again changes nothing; a file naming an unknown SKU adds nothing.
    before = list_rules(store)
    assert runner.invoke(cli, ["rules", "import", str(target), "--db", db_url]).exit_code == 0
    assert list_rules(store) == before
    bad = tmp_path / "bad.yaml"
    bad.write_text(YAML.replace("recommend: MUG", "recommend: GONE").replace("beans-to", "new-"), "utf-8")
    result = runner.invoke(cli, ["rules", "import", str(bad), "--db", db_url])
    assert result.exit_code == 2
    assert "rule 'coffee-to-mug', field 'recommend': unknown SKU" in result.output
    assert list_rules(store) == before
