"""``kizuna responses attribute`` and ``kizuna responses count``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "channels"))

from outbox_seed import customer, scenario

from kizuna.cli import main
from kizuna.store import Store
from kizuna.store.automation import Delivery
from kizuna.store.tables import Order

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def _seed(store: Store) -> None:
    who = customer(store)
    sid = scenario(store, "welcome-mail")
    with store.session() as session, session.begin():
        session.add(
            Delivery(
                key=f"{sid}:mail:{who}:once:1", scenario_id=sid, step="mail", customer_id=who,
                channel="email",
                arm="a", payload={"coupon": "HELLO-1"}, status="sent", attempts=1, created_at=AT, due_at=AT,
                sent_at=AT,
            )
        )  # fmt: skip
        session.add(
            Order(
                external_id="o-1", customer_id=who, ordered_at=AT + timedelta(days=2), total=3000,
                coupon_code="HELLO-1", attributes={},
            )
        )  # fmt: skip


def test_attribute_then_count(store: Store, db_url: str) -> None:
    _seed(store)
    first = CliRunner().invoke(main, ["responses", "attribute", "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "orders read 1: coupon redemptions 1" in first.output and "orders attributed 1" in first.output
    again = CliRunner().invoke(main, ["responses", "attribute", "--since", "2026-01-01", "--db", db_url])
    assert again.exit_code == 0, again.output
    assert "orders read 1: coupon redemptions 0" in again.output and "orders attributed 0" in again.output
    counted = CliRunner().invoke(main, ["responses", "count", "--scenario", "welcome-mail", "--db", db_url])
    assert counted.exit_code == 0, counted.output
    rows = {line.split()[1]: line.split()[3] for line in counted.output.splitlines() if line.count("│") >= 3}
    assert rows["redeem"] == "1" and rows["order"] == "1" and rows["open"] == "0"


def test_count_names_an_unknown_scenario(store: Store, db_url: str) -> None:
    result = CliRunner().invoke(main, ["responses", "count", "--scenario", "nope", "--db", db_url])
    assert result.exit_code != 0 and "no scenario 'nope'" in result.output
