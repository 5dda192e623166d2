"""The segment form's fields as condition data."""

from __future__ import annotations

import pytest

from kizuna.dashboard.builder import as_yaml, condition_data, condition_from_form
from kizuna.errors import ConfigError


def test_one_row_is_the_condition_itself() -> None:
    form = {"c0_kind": "measure", "c0_field": "recency", "c0_op": "gte", "c0_value": "90"}
    assert condition_data(form) == {"measure": "recency", "gte": 90}


def test_rows_combine_with_all_or_any_and_can_be_negated() -> None:
    form = {
        "match": "any",
        "c0_kind": "attribute", "c0_field": "prefecture", "c0_op": "in", "c0_value": "東京都, 神奈川県",
        "c1_kind": "bought_category", "c1_field": "食品/コーヒー", "c1_days": "180",
        "c2_kind": "event", "c2_field": "Product Viewed", "c2_op": "gte", "c2_value": "3", "c2_days": "7",
        "c3_kind": "consent", "c3_field": "email", "c3_not": "1",
    }  # fmt: skip
    assert condition_data(form) == {
        "any": [
            {"attribute": "prefecture", "in": ["東京都", "神奈川県"]},
            {"bought": {"category": "食品/コーヒー", "within_days": 180}},
            {"event": "Product Viewed", "within_days": 7, "count": {"gte": 3}},
            {"not": {"consent": "email"}},
        ]
    }
    text = as_yaml(condition_from_form(form))
    assert "東京都" in text and "not:" in text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "at least one condition"),
        ({"c0_kind": "measure", "c0_field": "frequency", "c0_op": "gte", "c0_value": "lots"}, "row 1"),
        ({"c1_kind": "attribute", "c1_field": "rank", "c1_op": "eq", "c1_value": ""}, "row 2: give a value"),
        ({"c0_kind": "measure", "c0_field": "happiness", "c0_op": "gte", "c0_value": "1"}, "measure"),
        ({"c0_kind": "consent", "c0_field": "telepathy"}, "consent"),
        ({"c0_kind": "bought_product", "c0_field": "SKU-1", "c0_days": "-3"}, "whole number of days"),
    ],
)
def test_bad_rows_are_named(form: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        condition_from_form(form)
