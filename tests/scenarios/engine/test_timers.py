"""Date triggers (birthday, first order, expected re-order) and schedules, on a controlled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from engine_seed import T0, customers, join_segment, runs, scenario

from kizuna.scenarios.definition import ScheduleSpec
from kizuna.scenarios.engine import run_once
from kizuna.scenarios.engine.timers import current_tick
from kizuna.store import Store
from kizuna.store.tables import Order

MAIL = {"send": {"channel": "email", "template": "t"}}


def _orders(store: Store, customer_id: int, times: list[datetime], status: str = "completed") -> None:
    with store.session() as session, session.begin():
        session.add_all(
            Order(
                external_id=f"o-{customer_id}-{status}-{i}",
                customer_id=customer_id,
                ordered_at=t,
                status=status,
            )
            for i, t in enumerate(times)
        )


def test_birthday_enters_on_the_day_at_the_local_time_once_per_year(store: Store) -> None:
    scenario(
        store,
        {
            "name": "bday",
            "trigger": {"date": {"source": "birthday", "offset_days": -1, "at": "10:00"}},
            "steps": [MAIL],
        },
    )
    [a] = customers(store, birth_date=date(1990, 3, 4))  # the day before: 3 March, 10:00 JST = 01:00 UTC
    [b] = customers(store, birth_date=date(1985, 7, 1))
    run_once(store, now=datetime(2026, 3, 3, 0, 30, tzinfo=UTC))
    assert runs(store) == []
    run_once(store, now=datetime(2026, 3, 3, 1, 5, tzinfo=UTC))
    [run] = runs(store)
    assert (run.customer_id, run.occurrence) == (a, "2026-03-03")
    run_once(store, now=datetime(2026, 3, 3, 2, 5, tzinfo=UTC))  # the next hour's scan: nothing new
    assert len(runs(store)) == 1 and b not in {r.customer_id for r in runs(store)}


def test_a_scan_after_a_stop_catches_up_the_hours_it_missed(store: Store) -> None:
    scenario(
        store,
        {"name": "first", "trigger": {"date": {"source": "first_order", "offset_days": 30}}, "steps": [MAIL]},
    )
    a, b = customers(store, 2)
    _orders(store, a, [datetime(2026, 1, 31, 5, 0, tzinfo=UTC)])  # 30 days on: 2 March 10:00 JST
    _orders(store, b, [datetime(2026, 1, 1, 5, 0, tzinfo=UTC)])
    run_once(store, now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    run_once(store, now=datetime(2026, 3, 2, 6, 0, tzinfo=UTC))  # a stop over the moment: caught up
    assert [(r.customer_id, r.occurrence) for r in runs(store)] == [(a, "2026-03-02")]


def test_expected_reorder_uses_the_customers_median_gap(store: Store) -> None:
    scenario(
        store,
        {
            "name": "reorder",
            "trigger": {"date": {"source": "expected_reorder", "offset_days": -2}},
            "steps": [MAIL],
        },
    )
    a, b = customers(store, 2)
    day = timedelta(days=1)
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    _orders(store, a, [start, start + 10 * day, start + 40 * day, start + 50 * day])  # gaps 10, 30, 10
    _orders(store, b, [start])  # one order: no cycle
    _orders(store, a, [start + 55 * day], status="cancelled")  # no purchase: the cycle is unchanged
    # next expected: 50 + 10 = 60 days after start = 2 March; two days before = 28 February, 10:00 JST
    run_once(store, now=datetime(2026, 2, 28, 0, 30, tzinfo=UTC))
    run_once(store, now=datetime(2026, 2, 28, 1, 30, tzinfo=UTC))
    assert [(r.customer_id, r.occurrence) for r in runs(store)] == [(a, "2026-02-28")]


def test_a_schedule_fires_once_per_tick_for_its_segment(store: Store) -> None:
    scenario(
        store,
        {
            "name": "news",
            "trigger": {"schedule": {"every": "1d", "at": "09:00", "segment": "subs"}},
            "steps": [MAIL],
        },
        created_at=T0 - timedelta(days=3),
    )
    a, _outside = customers(store, 2)
    join_segment(store, "subs", [a], T0 - timedelta(days=5))
    run_once(store, now=T0)  # 12:00 JST: today's 09:00 tick
    run_once(store, now=T0 + timedelta(hours=1))
    assert [(r.customer_id, r.occurrence) for r in runs(store)] == [(a, "2026-03-02T00:00:00+00:00")]
    run_once(store, now=T0 + timedelta(days=1))
    assert len(runs(store)) == 2 and {r.customer_id for r in runs(store)} == {a}


def test_a_new_schedule_does_not_fire_for_ticks_before_it_existed(store: Store) -> None:
    scenario(
        store,
        {"name": "news", "trigger": {"schedule": {"every": "1d", "at": "09:00"}}, "steps": [MAIL]},
        created_at=T0,
    )
    customers(store, 2)
    run_once(store, now=T0)
    assert runs(store) == []
    run_once(store, now=T0 + timedelta(days=1))
    assert len(runs(store)) == 2


def test_schedule_ticks_count_from_a_fixed_anchor() -> None:
    spec = ScheduleSpec(every=timedelta(weeks=1), at=datetime(2000, 1, 1, 9, 0).time())
    tick = current_tick(spec, T0)
    assert tick == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday 09:00 JST
    assert current_tick(spec, T0 + timedelta(days=6)) == tick
    assert current_tick(spec, T0 + timedelta(days=7)) == tick + timedelta(weeks=1)
