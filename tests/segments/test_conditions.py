from __future__ import annotations

import pytest
import yaml

from kizuna.errors import ConfigError
from kizuna.segments.conditions import (
    AllCondition,
    AttributeCondition,
    BoughtCondition,
    EventCondition,
    MeasureCondition,
    NotCondition,
    condition_to_data,
    parse_condition,
    segment_references,
    walk,
)

DOC = """
all:
  - attribute: prefecture
    in: [東京都, 神奈川県]
  - measure: days_since_last_order
    gte: 90
  - bought: {category: 食品/コーヒー, within_days: 180}
  - viewed_not_bought: {product: SKU-1, within_days: 7}
  - event: Product Viewed
    within_days: 7
    count: {gte: 3}
  - not: {consent: email}
  - any:
      - segment: vip
      - trial_only: true
      - active_subscription: true
"""


def test_a_document_parses_into_typed_conditions_and_round_trips() -> None:
    condition = parse_condition(yaml.safe_load(DOC))
    assert isinstance(condition, AllCondition)
    first, second, third = condition.all[:3]
    assert isinstance(first, AttributeCondition) and first.operators() == {"in": ["東京都", "神奈川県"]}
    assert isinstance(second, MeasureCondition) and second.operators() == {"gte": 90}
    assert isinstance(third, BoughtCondition) and third.bought.within_days == 180
    event = condition.all[4]
    assert isinstance(event, EventCondition) and event.count.operators() == {"gte": 3}
    assert isinstance(condition.all[5], NotCondition)
    assert parse_condition(condition_to_data(condition)) == condition


def test_an_event_condition_without_count_means_at_least_one() -> None:
    condition = parse_condition({"event": "Cart Viewed"})
    assert isinstance(condition, EventCondition)
    assert condition.count.operators() == {"gte": 1}


def test_segment_references_are_found_at_any_depth() -> None:
    condition = parse_condition(yaml.safe_load(DOC))
    assert segment_references(condition) == {"vip"}
    assert sum(1 for _ in walk(condition)) == 12


@pytest.mark.parametrize(
    ("data", "place", "says"),
    [
        ({"all": [{"measure": "loyalty", "gte": 1}]}, "all.0.measure", "'recency'"),
        ({"all": [{"attribute": "rank"}]}, "all.0", "needs a comparison"),
        ({"not": {"bought": {"product": "A", "category": "B"}}}, "not.bought", "exactly one of product"),
        ({"attribute": "rank", "eq": "gold", "colour": "red"}, "colour", "Extra inputs"),
        ({"colour": "red"}, "(top)", "exactly one of: all, any"),
        ({"viewed_not_bought": {"product": "A"}}, "(top)", "needs within_days"),
        ({"consent": "telepathy"}, "consent", "'tracking'"),
    ],
)
def test_bad_conditions_name_the_place_and_what_was_expected(data: object, place: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_condition(data, "segments.yaml, segment 'lapsed'")
    message = str(caught.value)
    assert message.startswith("segments.yaml, segment 'lapsed': ")
    assert f": {place}: " in message
    assert says in message


def test_a_mapping_with_two_kinds_is_refused() -> None:
    with pytest.raises(ConfigError, match="exactly one of"):
        parse_condition({"segment": "vip", "consent": "email"})


def test_dates_yaml_reads_unquoted_are_compared_as_iso_text() -> None:
    condition = parse_condition(yaml.safe_load("{attribute: birth_date, gte: 1990-01-01, in: [2000-02-29]}"))
    assert isinstance(condition, AttributeCondition)
    assert condition.operators() == {"gte": "1990-01-01", "in": ["2000-02-29"]}
