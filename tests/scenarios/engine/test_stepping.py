"""Each kind of step, through the worker with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine_seed import T0, attributes, customers, deliveries, event, runs, scenario
from sqlalchemy import select

from kizuna.scenarios.assign import choose_arm
from kizuna.scenarios.engine import run_once
from kizuna.store import Store
from kizuna.store.tables import CampaignMember, Coupon

EMAIL = "email"


def _on_event(steps: list[dict[str, Any]], name: str = "flow") -> dict[str, Any]:
    return {"name": name, "trigger": {"event": "Go"}, "steps": steps}


def _go(store: Store, cids: list[int], at: datetime = T0) -> None:
    for cid in cids:
        event(store, cid, "Go", at)
    run_once(store, now=at)


def test_wait_until_a_time_of_day_in_the_customers_timezone(store: Store) -> None:
    scenario(
        store, _on_event([{"wait": {"until_time": "10:00"}}, {"send": {"channel": EMAIL, "template": "t"}}])
    )
    [tokyo] = customers(store)  # the default zone, Asia/Tokyo: T0 is 12:00 there
    [paris] = customers(store, timezone="Europe/Paris")  # T0 is 04:00 there
    _go(store, [tokyo, paris])
    wake = {r.customer_id: r.wake_at for r in runs(store)}
    assert wake[tokyo] == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 10:00 JST tomorrow
    assert wake[paris] == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 CET today
    run_once(store, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert [d.customer_id for d in deliveries(store)] == [paris]


def _until_event(store: Store) -> tuple[int, int]:
    scenario(
        store,
        _on_event(
            [
                {"wait": {"until_event": "Order Completed", "timeout": "3d", "on_timeout": "nudge"}},
                {"send": {"channel": EMAIL, "template": "thanks"}},
                {"exit": "thanked"},
                {"id": "nudge", "send": {"channel": EMAIL, "template": "nudge"}},
            ]
        ),
    )
    buyer, idle = customers(store, 2)
    _go(store, [buyer, idle])
    assert {r.waiting_for for r in runs(store)} == {"Order Completed"}
    return buyer, idle


def test_until_event_goes_on_when_the_event_comes(store: Store) -> None:
    buyer, idle = _until_event(store)
    event(store, buyer, "Order Completed", T0 + timedelta(hours=5))
    run_once(store, now=T0 + timedelta(hours=5, seconds=1))
    assert [(d.customer_id, d.template) for d in deliveries(store)] == [(buyer, "thanks")]
    state = {r.customer_id: (r.status, r.exit_reason) for r in runs(store)}
    assert state == {buyer: ("exited", "thanked"), idle: ("waiting", None)}


def test_until_event_times_out_to_its_own_branch(store: Store) -> None:
    buyer, idle = _until_event(store)
    event(store, buyer, "Order Completed", T0 + timedelta(hours=5))
    run_once(store, now=T0 + timedelta(days=3, seconds=1))
    got = sorted((d.customer_id, d.template) for d in deliveries(store))
    assert got == sorted([(buyer, "thanks"), (idle, "nudge")])


def test_branch_follows_the_condition_for_each_customer(store: Store) -> None:
    scenario(
        store,
        _on_event(
            [
                {"branch": {"if": {"attribute": "rank", "eq": "gold"}, "then": "vip"}},
                {"send": {"channel": EMAIL, "template": "standard"}},
                {"exit": "standard"},
                {"id": "vip", "send": {"channel": EMAIL, "template": "vip"}},
            ]
        ),
    )
    [gold] = customers(store, attributes={"rank": "gold"})
    [plain] = customers(store, attributes={"rank": "silver"})
    _go(store, [gold, plain])
    assert sorted((d.customer_id, d.template) for d in deliveries(store)) == [
        (gold, "vip"),
        (plain, "standard"),
    ]


def test_split_records_the_arm_on_run_member_and_delivery(store: Store) -> None:
    scenario(
        store,
        _on_event(
            [
                {
                    "id": "ab",
                    "split": [{"arm": "a", "weight": 1}, {"arm": "b", "weight": 1, "next": "b-mail"}],
                },
                {"send": {"channel": EMAIL, "template": "a"}},
                {"exit": "a"},
                {"id": "b-mail", "send": {"channel": EMAIL, "template": "b"}},
            ]
        ),
    )
    people = customers(store, 30)
    _go(store, people)
    expected = {c: choose_arm("flow", "ab", c, [("a", 1.0), ("b", 1.0)]) for c in people}
    assert set(expected.values()) == {"a", "b"}
    assert {r.customer_id: r.arm for r in runs(store)} == expected
    assert {d.customer_id: (d.arm, d.template) for d in deliveries(store)} == {
        c: (a, a) for c, a in expected.items()
    }
    with store.session() as session:
        arms = {m.customer_id: m.arm for m in session.scalars(select(CampaignMember))}
    assert arms == expected


def test_a_coupon_is_unique_per_customer_and_travels_with_later_sends(store: Store) -> None:
    scenario(
        store,
        _on_event(
            [
                {"coupon": {"prefix": "SPRING", "valid": "14d", "description": "10% off"}},
                {"send": {"channel": EMAIL, "template": "coupon"}},
            ]
        ),
    )
    people = customers(store, 5)
    _go(store, people)
    with store.session() as session:
        coupons = {c.customer_id: c for c in session.scalars(select(Coupon))}
    assert set(coupons) == set(people)
    assert len({c.code for c in coupons.values()}) == 5
    assert all(c.code.startswith("SPRING-") and len(c.code) == 15 for c in coupons.values())
    assert all(c.valid_until == T0 + timedelta(days=14) for c in coupons.values())
    assert {d.customer_id: d.payload["coupon"] for d in deliveries(store)} == {
        cid: c.code for cid, c in coupons.items()
    }


def test_set_attribute_tag_and_exit(store: Store) -> None:
    scenario(
        store,
        _on_event(
            [
                {"set_attribute": {"name": "stage", "value": "onboarded"}},
                {"tag": "welcomed"},
                {"tag": "welcomed"},
                {"exit": "finished"},
                {"send": {"channel": EMAIL, "template": "never"}},
            ]
        ),
    )
    [a] = customers(store, attributes={"tags": ["early"], "rank": "gold"})
    _go(store, [a])
    assert attributes(store, a) == {"tags": ["early", "welcomed"], "rank": "gold", "stage": "onboarded"}
    [run] = runs(store)
    assert (run.status, run.exit_reason) == ("exited", "finished")
    assert deliveries(store) == []


def test_a_send_step_visited_again_gets_a_new_key(store: Store) -> None:
    scenario(
        store,
        _on_event(
            [
                {"id": "mail", "send": {"channel": EMAIL, "template": "weekly"}},
                {"wait": "7d", "next": "mail"},
            ]
        ),
    )
    [a] = customers(store)
    _go(store, [a])
    run_once(store, now=T0 + timedelta(days=7, seconds=1))
    run_once(store, now=T0 + timedelta(days=14, seconds=2))
    keys = [d.key for d in deliveries(store)]
    assert len(keys) == 3 and len(set(keys)) == 3
    assert [k.rsplit(":", 1)[1] for k in keys] == ["1", "2", "3"]
