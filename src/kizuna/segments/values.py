"""Conditions on stored customer values (``customer_values``): lifetime value, probability of being active,
expected purchases and spend, RFM scores and RFM segment, as sets of customer ids.

The values are those of the last ``kizuna value compute``; customers it did not value (no purchase)
have no row and match no comparison, only ``exists: false``.
"""

from __future__ import annotations

from sqlalchemy import select

from kizuna.errors import ConfigError
from kizuna.measure.rfm import SEGMENTS
from kizuna.segments.compare import column_test
from kizuna.segments.conditions import ValueCondition
from kizuna.segments.sets import ID, Members, Scope, nobody
from kizuna.store.tables import table_of
from kizuna.store.values import CustomerValue


def _check_segment_names(ops: dict[str, object], place: str) -> None:
    for name in ("eq", "ne", "in", "not_in"):
        given = ops.get(name)
        for value in given if isinstance(given, list) else [given] if given is not None else []:
            if value not in SEGMENTS:
                raise ConfigError(f"{place}: unknown RFM segment {value!r}; use one of {', '.join(SEGMENTS)}")


def value_members(condition: ValueCondition, scope: Scope, place: str) -> Members:
    """Customers whose stored value passes the comparison."""
    values = table_of(CustomerValue)
    column = values.c[condition.value]
    ops = dict(condition.operators())
    text = condition.value == "rfm_segment"
    if text:
        _check_segment_names(ops, place)
    customer = values.c.customer_id
    if ops.pop("exists", None) is False:
        # No value: no row at all, or a row whose model could not be fitted.
        if ops:
            return nobody()
        valued = select(customer.label(ID)).where(column.is_not(None), *scope.restrict(customer))
        return Members(valued, negated=True)
    if not ops:
        return Members(select(customer.label(ID)).where(column.is_not(None), *scope.restrict(customer)))
    test = column_test(column, "text" if text else "number", ops, place)
    return Members(select(customer.label(ID)).where(test, *scope.restrict(customer)))
