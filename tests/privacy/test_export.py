from __future__ import annotations

import json

import pytest
from privacy_seed import rows_per_table, seed
from sqlalchemy import select

from kizuna.errors import NotFoundError
from kizuna.privacy.export import export_customer, export_customer_in_store, subject_hash
from kizuna.store import Store
from kizuna.store.access import PrivacyRequest
from kizuna.store.references import customer_references


def test_export_covers_every_table_that_points_at_customers(store: Store) -> None:
    ids = seed(store)
    held = rows_per_table(store, ids.alice)
    # A table added later with a customer foreign key fails here until the seed gives Alice a row in it,
    # and then below unless the export carries that row.
    unseeded = [table for table, n in held.items() if n == 0]
    assert unseeded == [], f"give Alice a row in {unseeded} in privacy_seed.seed"

    data = export_customer_in_store(store, ids.alice, requested_by="test")

    assert {ref.name for ref in customer_references()} <= set(data)
    assert {table: len(data[table]) for table in held} == held
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_export_holds_the_profile_history_and_merged_profile(store: Store) -> None:
    ids = seed(store)
    data = export_customer_in_store(store, ids.alice)

    assert data["format"].startswith("kizuna-customer-export/")
    assert data["customer"]["email"] == "hanako@example.jp"
    assert data["customer"]["birth_date"] == "1990-04-01"
    assert data["customer"]["attributes"] == {"newsletter": True, "rank": "gold"}
    orders = {o["external_id"]: o for o in data["orders"]}
    assert set(orders) == {"o-1", "o-0"}  # the merged profile's order too; never Bob's
    assert [(ln["sku"], ln["quantity"], ln["amount"]) for ln in orders["o-1"]["lines"]] == [
        ("beans", 2, 2560.0)
    ]
    assert orders["o-1"]["ordered_at"] == "2024-04-01T09:00:00+00:00"
    assert {e["message_id"] for e in data["events"]} == {"e-page", "e-identify", "e-track"}
    assert [e["message_id"] for e in data["device_events"]] == ["e-anon"]  # before she was known
    assert [(c["anonymous_id"], c["purpose"]) for c in data["device_consents"]] == [("dev-a1", "ads")]
    assert [(c["purpose"], c["status"], c["source"]) for c in data["consents"]] == [
        ("email", "withdrawn", "mail"),  # the merged profile's decision, a day earlier
        ("email", "granted", "signup"),
        ("personalisation", "denied", "web"),
    ]
    assert {(m["campaign_name"], m["arm"]) for m in data["campaign_members"]} == {("春のDM", "dm")}
    assert data["coupon_redemptions"][0]["coupon_code"] == "C-7F3K"
    assert {(i["kind"], i["value"]) for i in data["identities"]} == {
        ("anonymous_id", "dev-a1"),
        ("anonymous_id", "dev-a2"),
        ("user_id", "alice-old"),
    }
    [merge] = data["identity_merges"]
    assert merge["merged_external_id"] == "alice-old" and merge["reason"] == "email"


def test_export_is_recorded_and_listed_in_the_next_one(store: Store) -> None:
    ids = seed(store)
    export_customer_in_store(store, ids.alice, requested_by="support@example.jp")
    with store.session() as s:
        [request] = s.scalars(select(PrivacyRequest)).all()
        assert request.kind == "export" and request.customer_id == ids.alice
        assert request.subject_hash == subject_hash("alice") and request.requested_by == "support@example.jp"
        assert request.details["counts"]["orders"] == 2
        assert request.completed_at is not None
    again = export_customer_in_store(store, ids.alice)
    assert [r["kind"] for r in again["privacy_requests"]] == ["export"]


def test_unknown_customer_is_not_found(store: Store) -> None:
    with store.session() as s, pytest.raises(NotFoundError, match="#999"):
        export_customer(s, 999)
