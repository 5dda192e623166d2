from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from kizuna.cli import main
from kizuna.store import Store
from kizuna.store.access import PrivacyRequest
from kizuna.store.tables import Customer, Order

WHEN = "2024-03-01T10:00:00+09:00"


def _customer(store: Store) -> None:
    with store.session() as s:
        c = Customer(external_id="c1", name="山田 太郎", email="taro@example.jp")
        s.add(c)
        s.flush()
        s.add(
            Order(external_id="o1", customer_id=c.id, ordered_at=datetime.fromisoformat(WHEN), total=2560.0)
        )
        s.commit()


def test_export_prints_json_or_writes_a_file(store: Store, db_url: str, tmp_path: Path) -> None:
    _customer(store)
    runner = CliRunner()
    shown = runner.invoke(main, ["privacy", "export", "taro@example.jp", "--db", db_url])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["customer"]["name"] == "山田 太郎" and data["orders"][0]["external_id"] == "o1"
    out = tmp_path / "export.json"
    written = runner.invoke(main, ["privacy", "export", "c1", "--out", str(out), "--db", db_url])
    assert written.exit_code == 0, written.output
    assert json.loads(out.read_text(encoding="utf-8"))["customer"]["external_id"] == "c1"
    with store.session() as s:
        assert [r.requested_by for r in s.scalars(select(PrivacyRequest))] == ["cli", "cli"]


def test_delete_needs_yes_and_then_removes_the_customer(store: Store, db_url: str) -> None:
    _customer(store)
    runner = CliRunner()
    refused = runner.invoke(main, ["privacy", "delete", "c1", "--db", db_url])
    assert refused.exit_code == 2 and "--yes" in refused.output
    done = runner.invoke(main, ["privacy", "delete", "c1", "--yes", "--db", db_url])
    assert done.exit_code == 0, done.output
    assert "deleted" in done.output and "orders 1" in done.output
    missing = runner.invoke(main, ["privacy", "delete", "c1", "--yes", "--db", db_url])
    assert missing.exit_code == 1 and "no customer 'c1'" in missing.output


def test_delete_anonymise_keeps_the_order(store: Store, db_url: str) -> None:
    _customer(store)
    result = CliRunner().invoke(main, ["privacy", "delete", "#1", "--anonymise", "--yes", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "anonymised" in result.output
    with store.session() as s:
        assert s.scalars(select(Order.total)).all() == [2560.0]
        assert s.scalars(select(Customer.external_id)).one().startswith("deleted-")
