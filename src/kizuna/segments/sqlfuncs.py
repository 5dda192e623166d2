"""SQL that SQLite and PostgreSQL spell differently, as expressions compiled per dialect.

Segment queries are built once, without a connection, and run on either store, so the few places where the
two disagree are constructs rendered by the dialect at execution time: reading a typed value from a JSON
column, finding a substring, and ordering text by code point. Each returns the same answers on both.

JSON keys travel as bound parameters, never spliced into SQL text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Integer, Numeric, String, case, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from kizuna.errors import ConfigError


class _JsonField(FunctionElement[Any]):
    """A key of a JSON column; clauses are (column, key, SQLite path[, SQLite path with escapes])."""

    inherit_cache = True


class json_number(_JsonField):
    """The key's value when it is a JSON number, else NULL."""

    type = Numeric()
    name = "json_number"
    inherit_cache = True


class json_text(_JsonField):
    """The key's value when it is a JSON string, else NULL."""

    type = String()
    name = "json_text"
    inherit_cache = True


class json_bool(_JsonField):
    """The key's value when it is a JSON boolean, else NULL."""

    type = Boolean()
    name = "json_bool"
    inherit_cache = True


class json_kind(_JsonField):
    """The JSON type of the key's value (names differ by dialect, but both say ``null`` for null), or NULL
    when the key is missing."""

    type = String()
    name = "json_kind"
    inherit_cache = True


class text_position(FunctionElement[int]):
    """1-based position of ``needle`` in ``haystack`` (0 when absent), case-sensitive on both dialects."""

    type = Integer()
    name = "text_position"
    inherit_cache = True


class binary_text(FunctionElement[str]):
    """Text that orders by code point (SQLite's default; ``COLLATE "C"`` on PostgreSQL)."""

    type = String()
    name = "binary_text"
    inherit_cache = True


def json_field(
    kind: type[_JsonField], column: ColumnElement[Any] | QueryableAttribute[Any], key: str
) -> _JsonField:
    """``kind`` of ``column``'s top-level ``key``.

    Raises:
        ConfigError: the key holds a double quote or backslash (SQLite's JSON paths cannot quote them).
    """
    if '"' in key or "\\" in key:
        raise ConfigError(f"JSON key {key!r}: double quotes and backslashes are not allowed in key names")
    paths = [f'$."{key}"']
    # SQLite matches a path against the key as written in the JSON text, and Python writes non-ASCII keys
    # as \u escapes by default: such keys are looked up both ways. (The number of clauses is part of the
    # statement's cache key, so the two shapes never share a compiled form.)
    escaped = json.dumps(key)[1:-1]
    if escaped != key:
        paths.append(f'$."{escaped}"')
    return kind(column, literal(key, String()), *(literal(p, String()) for p in paths))


def json_present(column: ColumnElement[Any] | QueryableAttribute[Any], key: str) -> ColumnElement[bool]:
    """Whether ``key`` is in ``column`` with a value other than JSON null."""
    return func.coalesce(json_field(json_kind, column, key), "null") != "null"


def _parts(element: FunctionElement[Any]) -> list[Any]:
    return list(element.clauses.clauses)


def _sqlite(element: FunctionElement[Any]) -> tuple[Any, Any]:
    """SQLite's (JSON type, value) of the key."""
    column, _, *paths = _parts(element)
    if len(paths) == 1:
        return func.json_type(column, paths[0]), func.json_extract(column, paths[0])
    written, escaped = paths
    found = func.json_type(column, written)
    kind = func.coalesce(found, func.json_type(column, escaped))
    either = func.json_extract(column, written), func.json_extract(column, escaped)
    value = case((found.is_not(None), either[0]), else_=either[1])
    return kind, value


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    kind, value = _sqlite(element)
    return compiler.process(case((kind.in_(["integer", "real"]), value)), **kw)


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    kind, value = _sqlite(element)
    return compiler.process(case((kind == "text", value)), **kw)


@compiles(json_bool, "sqlite")
def _json_bool_sqlite(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    kind, _ = _sqlite(element)
    return compiler.process(case((kind == "true", 1), (kind == "false", 0)), **kw)


@compiles(json_kind, "sqlite")
def _json_kind_sqlite(element: json_kind, compiler: SQLCompiler, **kw: Any) -> str:
    kind, _ = _sqlite(element)
    return compiler.process(kind, **kw)


def _pg_value(element: FunctionElement[Any]) -> tuple[Any, Any]:
    column, key, *_ = _parts(element)
    return func.jsonb_extract_path(column, key), func.jsonb_extract_path_text(column, key)


@compiles(json_number, "postgresql")
def _json_number_pg(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    value, text = _pg_value(element)
    # CASE, not AND: PostgreSQL may evaluate either side of an AND first, and the cast fails on text.
    return compiler.process(case((func.jsonb_typeof(value) == "number", cast(text, Numeric()))), **kw)


@compiles(json_text, "postgresql")
def _json_text_pg(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    value, text = _pg_value(element)
    return compiler.process(case((func.jsonb_typeof(value) == "string", text)), **kw)


@compiles(json_bool, "postgresql")
def _json_bool_pg(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    value, text = _pg_value(element)
    return compiler.process(case((func.jsonb_typeof(value) == "boolean", cast(text, Boolean()))), **kw)


@compiles(json_kind, "postgresql")
def _json_kind_pg(element: json_kind, compiler: SQLCompiler, **kw: Any) -> str:
    value, _ = _pg_value(element)
    return compiler.process(func.jsonb_typeof(value), **kw)


@compiles(text_position, "sqlite")
def _position_sqlite(element: text_position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = _parts(element)
    return compiler.process(func.instr(haystack, needle), **kw)


@compiles(text_position, "postgresql")
def _position_pg(element: text_position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = _parts(element)
    return compiler.process(func.strpos(haystack, needle), **kw)


@compiles(binary_text, "sqlite")
def _binary_sqlite(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _parts(element)
    return compiler.process(value, **kw)


@compiles(binary_text, "postgresql")
def _binary_pg(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _parts(element)
    return f'({compiler.process(value, **kw)}) COLLATE "C"'


class json_value(_JsonField):
    """The key's scalar value as the store holds it (text on PostgreSQL), for matching against a text
    column such as ``products.sku``."""

    type = String()
    name = "json_value"
    inherit_cache = True


class no_index(FunctionElement[Any]):
    """The value unchanged; on SQLite written ``+value`` so the planner will not pick an index on it.

    SQLite plans without statistics: given ``name = ? AND customer_id IN (...)`` it prefers the index on
    ``name``. When a query is restricted to a few customers, the index on the customer is the right one.
    """

    name = "no_index"
    inherit_cache = True

    def __init__(self, value: ColumnElement[Any] | QueryableAttribute[Any]) -> None:
        super().__init__(value)
        self.type = value.type  # binds next to it are processed as the column's (times on SQLite)


@compiles(json_value, "sqlite")
def _json_value_sqlite(element: json_value, compiler: SQLCompiler, **kw: Any) -> str:
    _, value = _sqlite(element)
    return compiler.process(value, **kw)


@compiles(json_value, "postgresql")
def _json_value_pg(element: json_value, compiler: SQLCompiler, **kw: Any) -> str:
    _, text = _pg_value(element)
    return compiler.process(text, **kw)


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _parts(element)
    return f"+{compiler.process(value, **kw)}"


@compiles(no_index, "postgresql")
def _no_index_pg(element: no_index, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _parts(element)
    return compiler.process(value, **kw)
