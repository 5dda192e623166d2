"""The per-dialect SQL pieces: JSON keys stay bound parameters, and each dialect gets its own spelling."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from kizuna.errors import ConfigError
from kizuna.segments.sqlfuncs import json_field, json_number, json_text, no_index, text_position
from kizuna.store import Store
from kizuna.store.tables import Customer, Event


def _sql(expr: object, dialect: object) -> str:
    return str(select(expr).compile(dialect=dialect))  # type: ignore[call-overload]


def test_json_keys_are_parameters_never_sql_text() -> None:
    key = "x') OR 1=1 --"
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert key not in _sql(json_field(json_text, Customer.attributes, key), dialect)
    with pytest.raises(ConfigError, match="double quotes and backslashes"):
        json_field(json_number, Customer.attributes, 'a"b')


def test_each_dialect_has_its_own_spelling() -> None:
    assert "json_type" in _sql(json_field(json_number, Customer.attributes, "k"), sqlite.dialect())
    assert "jsonb_typeof" in _sql(json_field(json_number, Customer.attributes, "k"), postgresql.dialect())
    assert "instr(" in _sql(text_position(Customer.name, "x"), sqlite.dialect())
    assert "strpos(" in _sql(text_position(Customer.name, "x"), postgresql.dialect())
    assert "+events.name" in _sql(no_index(Event.name), sqlite.dialect())
    assert "+" not in _sql(no_index(Event.name), postgresql.dialect())


def test_json_values_by_type_on_both_stores(store: Store) -> None:
    with store.session() as session:
        session.add(Customer(external_id="c", attributes={"n": 5, "s": "5", "b": True, "odd key-ü": "x"}))
        session.commit()
        row = session.execute(
            select(
                json_field(json_number, Customer.attributes, "n"),
                json_field(json_number, Customer.attributes, "s"),
                json_field(json_text, Customer.attributes, "s"),
                json_field(json_text, Customer.attributes, "n"),
                json_field(json_text, Customer.attributes, "odd key-ü"),
                json_field(json_text, Customer.attributes, "missing"),
            )
        ).one()
    assert (float(row[0]), row[1], row[2], row[3], row[4], row[5]) == (5.0, None, "5", None, "x", None)
