"""Membership: full rebuilds, incremental refreshes, re-entry, reading members and entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from segments_seed import NOW, Shop, ids_of
from sqlalchemy import select

from kizuna.errors import NotFoundError
from kizuna.segments import membership
from kizuna.segments.membership import (
    entries_since,
    is_member,
    live_count,
    member_ids,
    members,
    rebuild,
    refresh,
)
from kizuna.segments.registry import definitions_from_text, get_segment, remove_segment, save_segments
from kizuna.store import Store
from kizuna.store.automation import SegmentMember
from kizuna.store.tables import Customer

SEGMENTS = """\
segments:
  - name: recent
    condition: {measure: days_since_last_order, lt: 30}
  - name: tokyo
    condition: {attribute: prefecture, eq: 東京都}
  - name: recent-outside-tokyo
    condition: {all: [{segment: recent}, {not: {segment: tokyo}}]}
"""


@pytest.fixture
def shop(store: Store) -> Shop:
    s = Shop(store)
    s.product("P")
    a = s.customer("a", name="Aoki", prefecture="東京都")
    b = s.customer("b", name="Baba", prefecture="大阪府")
    s.customer("c", name="Chiba", prefecture="大阪府")
    s.order(a, "P", days_ago=10)
    s.order(b, "P", days_ago=25)
    save_segments(store, definitions_from_text(SEGMENTS, "f"))
    return s


def _stays(store: Store, segment: str) -> list[tuple[str, Any, Any]]:
    ids = {v: k for k, v in ids_of(store).items()}
    sid = get_segment(store, segment).id
    with store.session() as session:
        rows = session.execute(
            select(SegmentMember.customer_id, SegmentMember.entered_at, SegmentMember.left_at)
            .where(SegmentMember.segment_id == sid)
            .order_by(SegmentMember.id)
        )
        return [(ids[c], entered, left) for c, entered, left in rows]


def test_rebuild_records_entries_exits_and_reentry(store: Store, shop: Shop) -> None:
    [first] = rebuild(store, "recent", now=NOW)
    assert (first.segment, first.members, first.entered, first.left) == ("recent", 2, 2, 0)
    assert first.seconds >= 0
    assert _stays(store, "recent") == [("a", NOW, None), ("b", NOW, None)]
    assert get_segment(store, "recent").rebuilt_at == NOW

    # Ten days on, b's order is 35 days old: b leaves, a stays.
    later = NOW + timedelta(days=10)
    [second] = rebuild(store, "recent", now=later)
    assert (second.members, second.entered, second.left) == (1, 0, 1)
    assert _stays(store, "recent") == [("a", NOW, None), ("b", NOW, later)]

    # b orders again and comes back: a new stay, the old one kept as history.
    shop.order(ids_of(store)["b"], "P", days_ago=-9)
    again = later + timedelta(days=1)
    [third] = rebuild(store, "recent", now=again)
    assert (third.members, third.entered, third.left) == (2, 1, 0)
    assert _stays(store, "recent") == [("a", NOW, None), ("b", NOW, later), ("b", again, None)]
    info = get_segment(store, "recent")
    assert info.member_count == 2 and info.rebuilt_at == again

    # Nothing changed: a rebuild adds no row.
    [fourth] = rebuild(store, "recent", now=again)
    assert (fourth.entered, fourth.left) == (0, 0) and len(_stays(store, "recent")) == 3


def test_rebuild_all_in_name_order(store: Store, shop: Shop) -> None:
    done = rebuild(store, now=NOW)
    assert [(r.segment, r.members) for r in done] == [
        ("recent", 2),
        ("recent-outside-tokyo", 1),
        ("tokyo", 1),
    ]
    ids = ids_of(store)
    assert member_ids(store, "recent-outside-tokyo") == {ids["b"]}
    with pytest.raises(NotFoundError):
        rebuild(store, "nope", now=NOW)


def test_a_failed_rebuild_writes_nothing(store: Store, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild(store, "recent", now=NOW)
    real = membership._apply_match

    def fail_after_writing(*args: Any) -> tuple[int, int, int]:
        real(*args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(membership, "_apply_match", fail_after_writing)
    with pytest.raises(RuntimeError):
        rebuild(store, "recent", now=NOW + timedelta(days=10))
    assert _stays(store, "recent") == [("a", NOW, None), ("b", NOW, None)]
    info = get_segment(store, "recent")
    assert info.member_count == 2 and info.rebuilt_at == NOW


def test_refresh_only_the_customers_given(store: Store, shop: Shop) -> None:
    rebuild(store, now=NOW)
    ids = ids_of(store)
    # c moves to Tokyo and orders; a moves away. Only c is refreshed.
    with store.session() as session:
        for key, prefecture in (("a", "大阪府"), ("c", "東京都")):
            session.get_one(Customer, ids[key]).prefecture = prefecture
        session.commit()
    shop.order(ids["c"], "P", days_ago=1)
    changes = refresh(store, [ids["c"]], now=NOW)
    assert [(c.segment, c.customer_id, c.change, c.at) for c in changes] == [
        ("recent", ids["c"], "entered", NOW),
        ("tokyo", ids["c"], "entered", NOW),
    ]
    assert member_ids(store, "tokyo") == {ids["a"], ids["c"]}  # a is not refreshed yet
    assert get_segment(store, "tokyo").member_count == 2
    changes = refresh(store, [ids["a"], ids["b"], ids["c"]], now=NOW)
    assert [(c.segment, c.customer_id, c.change) for c in changes] == [
        ("recent-outside-tokyo", ids["a"], "entered"),
        ("tokyo", ids["a"], "left"),
    ]
    assert get_segment(store, "tokyo").member_count == 1
    assert refresh(store, [], now=NOW) == [] and refresh(store, [ids["c"]], now=NOW) == []


def test_reading_members_and_entries(store: Store, shop: Shop) -> None:
    rebuild(store, "recent", now=NOW)
    ids = ids_of(store)
    listed = members(store, "recent", limit=10)
    assert [(m.external_id, m.name, m.entered_at) for m in listed] == [("a", "Aoki", NOW), ("b", "Baba", NOW)]
    assert [m.external_id for m in members(store, "recent", limit=1, offset=1)] == ["b"]
    assert is_member(store, "recent", ids["a"]) and not is_member(store, "recent", ids["c"])
    entries = entries_since(store)
    assert [(e.segment, e.customer_id) for e in entries] == [("recent", ids["a"]), ("recent", ids["b"])]
    rebuild(store, "tokyo", now=NOW)
    newer = entries_since(store, entries[-1].id)
    assert [(e.segment, e.customer_id, e.entered_at) for e in newer] == [("tokyo", ids["a"], NOW)]
    assert entries_since(store, newer[-1].id) == []
    with pytest.raises(NotFoundError):
        members(store, "nope")


def test_live_count_stores_nothing(store: Store, shop: Shop) -> None:
    assert live_count(store, "recent", now=NOW) == 2
    assert live_count(store, "recent", now=NOW + timedelta(days=10)) == 1
    assert get_segment(store, "recent").member_count == 0 and member_ids(store, "recent") == set()


def test_removing_a_segment_removes_its_history(store: Store, shop: Shop) -> None:
    rebuild(store, now=NOW)
    sid = get_segment(store, "recent-outside-tokyo").id
    remove_segment(store, "recent-outside-tokyo")
    with store.session() as session:
        left = session.scalars(select(SegmentMember.id).where(SegmentMember.segment_id == sid)).all()
    assert left == [] and len(member_ids(store, "recent")) == 2
