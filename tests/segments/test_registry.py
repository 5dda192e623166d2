"""Stored segments: reading files, validation with places named, add/replace, get, list and remove."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from kizuna.errors import ConfigError, NotFoundError
from kizuna.segments.conditions import AttributeCondition, ConsentCondition, condition_to_data
from kizuna.segments.registry import (
    condition_from_text,
    definitions_from_text,
    get_segment,
    list_segments,
    load_definitions,
    remove_segment,
    save_segments,
)
from kizuna.store import Store
from kizuna.store.automation import Segment, SegmentMember
from kizuna.store.tables import Customer
from kizuna.store.types import utcnow

FILE = """\
segments:
  - name: lapsed
    description: 90 days without an order
    condition: {measure: days_since_last_order, gte: 90}
  - name: young-tokyo
    condition:
      all:
        - {attribute: prefecture, eq: 東京都}
        - {attribute: birth_date, gte: 1990-01-01}   # YAML reads this as a date
  - name: lapsed-tokyo
    condition:
      all: [{segment: lapsed}, {segment: young-tokyo}]
"""


def test_a_list_under_segments(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text(FILE, encoding="utf-8")
    found = load_definitions(path)
    assert [d.name for d in found] == ["lapsed", "young-tokyo", "lapsed-tokyo"]
    assert found[0].description == "90 days without an order"
    born = condition_to_data(found[1].condition)["all"][1]
    assert born == {"attribute": "birth_date", "gte": "1990-01-01"}


def test_one_segment_as_json() -> None:
    [d] = definitions_from_text('{"name": "mail", "condition": {"consent": "email"}}', "mail.json")
    assert d.name == "mail" and d.description is None
    assert isinstance(d.condition, ConsentCondition)
    assert isinstance(condition_from_text("{attribute: gender, eq: f}"), AttributeCondition)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("segments:\n  - {name: ok, condition: {consent: email}}\n  - {name: bad, condition: {consent: fax}}",
         r"s\.yaml, segments\.1 \(bad\), condition: consent: "),
        ("name: two words\ncondition: {consent: email}", r"s\.yaml: segment name 'two words' is not valid"),
        ("name: a\ncondition: {all: [{attribute: x, gte: 1}, {measure: orders}]}",
         r"s\.yaml \(a\), condition: all\.1: .*measure 'orders' needs a comparison"),
        ("name: a", r"s\.yaml \(a\): condition is missing"),
        ("name: a\ncondition: {consent: email}\ncolour: red", r"unknown field\(s\) colour"),
        ("segments: {name: a}", r"'segments' must be the only key, holding a list"),
        ("segments:\n  - {name: a, condition: {consent: email}}\n  - {name: a, condition: {consent: ads}}",
         r"segment 'a' is defined more than once"),
        ("name: a\ncondition: {consent: [email", r"s\.yaml, line \d+: not valid YAML or JSON"),
        ("- just a list", r"s\.yaml: expected a mapping"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        definitions_from_text(text, "s.yaml")


def test_save_get_list_replace(store: Store) -> None:
    assert save_segments(store, definitions_from_text(FILE, "f")) == 3
    assert [s.name for s in list_segments(store)] == ["lapsed", "lapsed-tokyo", "young-tokyo"]
    lapsed = get_segment(store, "lapsed")
    assert lapsed.member_count == 0 and lapsed.rebuilt_at is None
    assert condition_to_data(lapsed.condition) == {"measure": "days_since_last_order", "gte": 90}
    save_segments(store, definitions_from_text("name: lapsed\ncondition: {measure: recency, gte: 60}", "g"))
    replaced = get_segment(store, "lapsed")
    assert replaced.id == lapsed.id and replaced.description is None
    assert condition_to_data(replaced.condition) == {"measure": "recency", "gte": 60}
    with pytest.raises(NotFoundError, match="no segment named 'nope'"):
        get_segment(store, "nope")


def _count(store: Store) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(Segment)).scalar_one()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\ncondition: {segment: ghost}", r"unknown segment 'ghost' \(referred to by a → ghost\)"),
        ("segments:\n  - {name: a, condition: {segment: b}}\n  - {name: b, condition: {not: {segment: a}}}",
         r"cycle: a → b → a"),
        ("name: a\ncondition: {attribute: prefecture, gte: 5}", r"segment 'a', attribute: is text"),
    ],
)  # fmt: skip
def test_nothing_is_saved_when_one_is_wrong(store: Store, text: str, message: str) -> None:
    save_segments(store, definitions_from_text("name: fine\ncondition: {consent: email}", "f"))
    with pytest.raises(ConfigError, match=message):
        save_segments(store, definitions_from_text(text, "f"))
    assert _count(store) == 1


def test_references_to_stored_segments_and_cycles_through_them(store: Store) -> None:
    save_segments(store, definitions_from_text("name: base\ncondition: {consent: email}", "f"))
    save_segments(store, definitions_from_text("name: top\ncondition: {not: {segment: base}}", "f"))
    with pytest.raises(ConfigError, match="cycle: base → top → base"):
        save_segments(store, definitions_from_text("name: base\ncondition: {segment: top}", "f"))


def test_remove(store: Store) -> None:
    save_segments(store, definitions_from_text(FILE, "f"))
    with pytest.raises(ConfigError, match="'lapsed' is used by lapsed-tokyo"):
        remove_segment(store, "lapsed")
    with store.session() as s, s.begin():
        [customer_id] = s.scalars(insert(Customer).values(external_id="c-1").returning(Customer.id)).all()
        for segment_id in s.scalars(select(Segment.id)):
            s.add(SegmentMember(segment_id=segment_id, customer_id=customer_id, entered_at=utcnow()))
    remove_segment(store, "lapsed-tokyo")
    with store.session() as s:  # its membership history goes with it, the others' stays
        assert s.scalar(select(func.count()).select_from(SegmentMember)) == 2
    remove_segment(store, "lapsed")
    assert [s.name for s in list_segments(store)] == ["young-tokyo"]
    with pytest.raises(NotFoundError):
        remove_segment(store, "lapsed")
