"""The segment form's fields turned into condition data, the same data ``segments/conditions.py`` reads.

The form has up to :data:`ROWS` rows, each ``c<k>_kind`` (what to test), ``c<k>_field`` (the attribute,
measure, category, SKU, event name or consent purpose), ``c<k>_op`` and ``c<k>_value`` (a comparison),
``c<k>_days`` (a window) and ``c<k>_not`` (negate), combined by ``match`` (``all`` or ``any``). The result is
validated with :func:`~kizuna.segments.conditions.parse_condition`, so the form can express nothing the
condition language would refuse, and the errors name the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from kizuna.errors import ConfigError
from kizuna.segments.conditions import Condition, condition_to_data, parse_condition
from kizuna.segments.registry import readable

ROWS = 4
KINDS = ("attribute", "measure", "bought_category", "bought_product", "event", "consent")
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")
MEASURES = (
    "recency",
    "frequency",
    "monetary",
    "orders",
    "average_order_value",
    "days_since_first_order",
)


def _number_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _comparison(op: str, value: str, row: int, *, numeric: bool) -> dict[str, Any]:
    if op not in OPERATORS:
        raise ConfigError(f"row {row}: choose a comparison ({', '.join(OPERATORS)})")
    if not value.strip():
        raise ConfigError(f"row {row}: give a value to compare with")
    if op == "in":
        items = [_number_or_text(v.strip()) for v in value.split(",") if v.strip()]
        return {"in": items}
    parsed = _number_or_text(value.strip()) if op != "contains" else value.strip()
    if numeric and not isinstance(parsed, (int, float)):
        raise ConfigError(f"row {row}: {value!r} is not a number")
    return {op: parsed}


def _days(text: str, row: int) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ConfigError(f"row {row}: the window must be a whole number of days, 1 or more")
    return int(text)


def _row(form: Mapping[str, str], k: int) -> dict[str, Any] | None:
    def get(name: str) -> str:
        return str(form.get(f"c{k}_{name}", "")).strip()

    kind, subject, row = get("kind"), get("field"), k + 1
    if not kind:
        return None
    if kind not in KINDS:
        raise ConfigError(f"row {row}: unknown kind {kind!r}")
    if not subject:
        raise ConfigError(
            f"row {row}: say what to test (attribute, measure, category, SKU, event or purpose)"
        )
    days = _days(get("days"), row)
    window = {"within_days": days} if days else {}
    data: dict[str, Any]
    if kind == "attribute":
        data = {"attribute": subject, **_comparison(get("op"), get("value"), row, numeric=False)}
    elif kind == "measure":
        data = {"measure": subject, **_comparison(get("op"), get("value"), row, numeric=True), **window}
    elif kind in ("bought_category", "bought_product"):
        target = "category" if kind == "bought_category" else "product"
        data = {"bought": {target: subject, **window}}
    elif kind == "event":
        data = {"event": subject, **window}
        if get("value"):
            data["count"] = _comparison(get("op") or "gte", get("value"), row, numeric=True)
    else:
        data = {"consent": subject}
    return {"not": data} if get("not") else data


def condition_data(form: Mapping[str, str]) -> dict[str, Any]:
    """The condition the form describes, as plain data (not yet validated)."""
    rows = [r for r in (_row(form, k) for k in range(ROWS)) if r is not None]
    if not rows:
        raise ConfigError("add at least one condition")
    if len(rows) == 1:
        return rows[0]
    match = form.get("match", "all")
    return {"any" if match == "any" else "all": rows}


def condition_from_form(form: Mapping[str, str]) -> Condition:
    """The validated condition the form describes; ConfigError naming the row or place otherwise."""
    return parse_condition(condition_data(form), "the form")


def as_yaml(condition: Condition) -> str:
    """The condition as the YAML a segment file would hold."""
    text: str = yaml.safe_dump(
        readable(condition_to_data(condition)), allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    return text
