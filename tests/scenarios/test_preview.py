from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import record_consent
from kizuna.recommend.service import train
from kizuna.scenarios.assign import choose_arm, in_control
from kizuna.scenarios.definition import parse_scenario
from kizuna.scenarios.preview import CustomerPreview, preview
from kizuna.store.automation import Delivery, ScenarioRun, Segment
from kizuna.store.engine import Store
from kizuna.store.tables import Coupon, Customer, Event, Order, OrderLine, Product

NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
SKUS = {"BEANS": "コーヒー豆", "MUG": "マグ", "TEA": "緑茶"}


def _seed(store: Store) -> dict[str, int]:
    """alice: 2 orders, email granted; bob: 1 order, never decided (email is opt-in); carol: 2 orders,
    email granted, two emails this week; dave: no order."""
    with store.session() as s:
        people = {
            key: Customer(external_id=key, timezone="Asia/Tokyo") for key in ("alice", "bob", "carol", "dave")
        }
        products = {sku: Product(sku=sku, title=title) for sku, title in SKUS.items()}
        s.add_all([*people.values(), *products.values()])
        s.flush()
        ids = {key: c.id for key, c in people.items()}
        orders = [("alice", 40, "MUG"), ("alice", 20, "BEANS"), ("bob", 10, "TEA"), ("carol", 30, "TEA")]
        for n, (key, days, sku) in enumerate([*orders, ("carol", 15, "BEANS")]):
            order = Order(external_id=f"o{n}", customer_id=ids[key], ordered_at=NOW - timedelta(days=days))
            order.lines.append(OrderLine(line_no=1, product_id=products[sku].id, amount=1000))
            s.add(order)
        s.add(Segment(name="buyers", definition={"measure": "orders", "gte": 1}))
        for key in ("alice", "carol"):
            record_consent(s, ids[key], "email", "granted", at=NOW - timedelta(days=50))
        for n in range(2):
            s.add(
                Delivery(
                    key=f"other:{n}",
                    customer_id=ids["carol"],
                    channel="email",
                    status="sent",
                    created_at=NOW - timedelta(days=n + 1),
                    due_at=NOW - timedelta(days=n + 1),
                )
            )
        s.commit()
        return ids


def _counts(store: Store) -> tuple[int, ...]:
    with store.session() as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(t)) or 0) for t in (Delivery, ScenarioRun, Coupon)
        )


BRANCHING: dict[str, Any] = {
    "name": "thanks",
    "trigger": {"segment": "buyers"},
    "frequency_caps": [{"channel": "email", "max": 2, "per": "7d"}],
    "holdout": False,
    "steps": [
        {"coupon": {"prefix": "THX"}},
        {"id": "check", "branch": {"if": {"measure": "orders", "gte": 2}, "then": "loyal"}},
        {"id": "newcomer", "send": {"channel": "email", "template": "welcome-back"}},
        {"exit": "newcomer"},
        {
            "id": "loyal",
            "send": {"channel": "email", "template": "loyal", "recommend": {"algorithm": "popularity"}},
        },
    ],
}


def _by_key(customers: list[CustomerPreview]) -> dict[str, CustomerPreview]:
    return {c.external_id: c for c in customers}


def test_segment_trigger_branches_and_suppression(store: Store, tmp_path: Path) -> None:
    ids = _seed(store)
    before = _counts(store)
    result = preview(store, parse_scenario(BRANCHING), now=NOW, models=tmp_path / "none")
    assert _counts(store) == before  # writes nothing
    assert (result.total, result.control, result.holdout) == (3, 0, 0)
    shown = _by_key(result.customers)
    assert set(shown) == {"alice", "bob", "carol"} and shown["alice"].customer_id == ids["alice"]

    alice = shown["alice"]
    assert [p.step for p in alice.path] == ["step-1", "check", "loyal"]
    assert "yes now → loyal" in alice.path[1].text
    send = alice.path[2].send
    assert send is not None and send.suppressed is None
    assert (send.channel, send.template, send.coupon) == ("email", "loyal", True)
    assert send.recommendation_note == "no trained model 'popularity'"

    bob = shown["bob"]
    assert [p.step for p in bob.path] == ["step-1", "check", "newcomer", "step-4"]
    assert "no now → newcomer" in bob.path[1].text
    assert bob.path[2].send is not None and bob.path[2].send.suppressed == "no consent for email"

    carol = shown["carol"]
    assert carol.path[-1].send is not None
    assert carol.path[-1].send.suppressed == "frequency cap: 2 email per 1w reached"


def test_recommendations_from_a_trained_model(store: Store, tmp_path: Path) -> None:
    _seed(store)
    train(store, ["popularity"], out=tmp_path)
    result = preview(store, parse_scenario(BRANCHING), now=NOW, customer="alice", models=tmp_path)
    [alice] = result.customers
    send = alice.path[-1].send
    assert send is not None and send.recommendation_note is None
    # Alice bought the mug and the beans: the one product she has not bought is what is left to recommend.
    [tea] = send.recommendations
    assert (tea.sku, tea.title) == ("TEA", SKUS["TEA"]) and tea.reason


def test_one_customer_limit_control_and_split(store: Store, tmp_path: Path) -> None:
    ids = _seed(store)
    data = BRANCHING | {
        "control": 0.5,
        "steps": [
            {"id": "ab", "split": [{"arm": "a", "weight": 1}, {"arm": "b", "weight": 3}]},
            {"exit": "done"},
        ],
    }
    definition = parse_scenario(data)
    result = preview(store, definition, now=NOW, limit=1, models=tmp_path)
    buyers = [ids["alice"], ids["bob"], ids["carol"]]
    assert result.total == 3 and len(result.customers) == 1
    assert result.control == sum(in_control("thanks", cid, 0.5) for cid in buyers)
    [first] = result.customers
    if first.group == "treated":
        arm = choose_arm("thanks", "ab", first.customer_id, [("a", 1), ("b", 3)])
        assert f"arm {arm}" in first.path[0].text
    else:
        assert first.group == "control" and first.path == []
    only = preview(store, definition, now=NOW, customer="dave", models=tmp_path)
    assert (only.total, only.customers) == (0, [])
    with pytest.raises(NotFoundError):
        preview(store, definition, now=NOW, customer="nobody")


def test_event_trigger_with_unless_and_lookback(store: Store, tmp_path: Path) -> None:
    ids = _seed(store)
    with store.session() as s:
        rows = [
            ("alice", "Product Added", 2 * 24, {"sku": "BEANS"}),  # abandoned: enters
            ("bob", "Product Added", 30, {"sku": "MUG"}),
            ("bob", "Order Completed", 25, {}),  # ordered 5 h later: does not enter
            ("carol", "Product Added", 10 * 24, {}),  # before the lookback
            ("dave", "Product Added", 3 * 24, {"sku": "MUG"}),
            ("dave", "Order Completed", 1 * 24, {}),  # two days later: too late to count
        ]
        for n, (key, name, hours, props) in enumerate(rows):
            s.add(
                Event(
                    message_id=f"e{n}",
                    type="track",
                    name=name,
                    customer_id=ids[key],
                    occurred_at=NOW - timedelta(hours=hours),
                    properties=props,
                )
            )
        s.commit()
    definition = parse_scenario(
        {
            "name": "cart",
            "trigger": {"event": "Product Added", "unless": {"event": "Order Completed", "within": "24h"}},
            "steps": [{"send": {"channel": "ads", "audience": "carts"}}],
        }
    )
    result = preview(store, definition, now=NOW, models=tmp_path)
    shown = _by_key(result.customers)
    assert set(shown) == {"alice", "dave"}
    assert "no Order Completed after it" in shown["alice"].entry
    send = shown["alice"].path[0].send
    assert send is not None and send.audience == "carts" and send.suppressed == "no consent for ads"
    longer = preview(store, definition, now=NOW, lookback=timedelta(days=14), models=tmp_path)
    assert {c.external_id for c in longer.customers} == {"alice", "carol", "dave"}


def test_date_trigger_expected_reorder(store: Store, tmp_path: Path) -> None:
    _seed(store)
    # alice ordered 40 and 20 days ago: expected again now; carol 30 and 15 days ago: expected now too.
    definition = parse_scenario(
        {
            "name": "reorder",
            "trigger": {"date": {"source": "expected_reorder", "offset_days": 2, "at": "10:00"}},
            "steps": [{"send": {"channel": "email", "template": "reorder"}}],
        }
    )
    result = preview(store, definition, now=NOW, models=tmp_path)
    assert {c.external_id for c in result.customers} == {"alice", "carol"}
    late = preview(store, definition, now=NOW + timedelta(days=6), models=tmp_path)
    assert late.total == 0  # the date has passed
    assert "expected_reorder" in result.customers[0].entry


def test_similar_to_the_trigger_product(store: Store, tmp_path: Path) -> None:
    ids = _seed(store)
    with store.session() as s:
        record_consent(s, ids["alice"], "direct_mail", "granted", at=NOW - timedelta(days=50))
        s.add(
            Event(
                message_id="order",
                type="track",
                name="Order Completed",
                customer_id=ids["alice"],
                occurred_at=NOW - timedelta(hours=1),
                properties={"sku": "BEANS"},
            )
        )
        s.commit()
    train(store, ["popularity"], out=tmp_path)
    flyer = parse_scenario(
        {
            "name": "flyer",
            "trigger": {"event": "Order Completed"},
            "steps": [
                {
                    "send": {
                        "channel": "direct_mail",
                        "template": "shipment-flyer",
                        "recommend": {"algorithm": "popularity", "n": 5, "similar_to_trigger": True},
                    }
                }
            ],
        }
    )
    [alice] = preview(store, flyer, now=NOW, models=tmp_path).customers
    send = alice.path[0].send
    assert send is not None and send.suppressed is None
    # Bought together with the beans: the mug (by alice) and the tea (by carol); never the beans themselves.
    assert {r.sku for r in send.recommendations} == {"MUG", "TEA"}
    assert all(SKUS["BEANS"] in r.reason for r in send.recommendations)
