"""Stored segments: add or replace, get, list and remove them, validated before anything is written.

A segment file (YAML or JSON) holds one segment or a list under ``segments:``::

    segments:
      - name: lapsed
        description: 90 days without an order, after at least one
        condition:
          measure: days_since_last_order
          gte: 90
      - name: lapsed-tokyo
        condition:
          all: [{segment: lapsed}, {attribute: prefecture, eq: 東京都}]

Names are letters (any script), digits, ``_``, ``.`` and ``-``. Every condition is parsed, compiled once
(so a value that does not suit its attribute is caught here, not at the first rebuild), and its segment
references must resolve, without cycles, among the stored segments and those being saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.segments.compiler import Resolver, compile_condition
from kizuna.segments.conditions import (
    KINDS,
    Condition,
    condition_to_data,
    parse_condition,
    segment_references,
)
from kizuna.store.automation import Segment, SegmentMember
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

NAME_PATTERN = re.compile(r"^\w[\w.\-]{0,99}$")
_FIELDS = {"name", "description", "condition"}


@dataclass(frozen=True)
class SegmentDefinition:
    """A segment as written in a file or given on the command line."""

    name: str
    condition: Condition
    description: str | None = None

    def to_data(self) -> dict[str, Any]:
        """The segment as plain data, in the file layout."""
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        return data | {"condition": readable(condition_to_data(self.condition))}


def readable(data: Any) -> Any:
    """Condition data with each condition's distinguishing key first (``measure`` before ``gte``), as a
    person writes it."""
    if isinstance(data, list):
        return [readable(item) for item in data]
    if not isinstance(data, dict):
        return data
    first = [key for key in data if key in KINDS]
    keys = [*first, *(k for k in data if k not in first and not (k == "where" and data[k] == {}))]
    return {key: readable(data[key]) for key in keys}


@dataclass(frozen=True)
class SegmentInfo:
    """A stored segment: its definition and the state of its membership."""

    id: int
    name: str
    description: str | None
    condition: Condition
    member_count: int
    rebuilt_at: datetime | None
    created_at: datetime
    updated_at: datetime


# -- reading definitions ----------------------------------------------------------------------------
def check_name(name: Any, source: str) -> str:
    """``name`` when it is a valid segment name; a ConfigError naming ``source`` otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{source}: segment name {name!r} is not valid: use up to 100 letters, digits, _, . or - "
            "(no spaces), starting with a letter or digit"
        )
    return name


def definition_from_data(item: Any, source: str) -> SegmentDefinition:
    """One segment from its mapping (``name``, ``description``, ``condition``); errors name ``source``."""
    if not isinstance(item, Mapping):
        raise ConfigError(f"{source}: expected a mapping with name, description and condition")
    unknown = sorted(set(map(str, item)) - _FIELDS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown field(s) {', '.join(unknown)}; use name, description, condition"
        )
    name = check_name(item.get("name"), source)
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigError(f"{source} ({name}): description must be text")
    if "condition" not in item:
        raise ConfigError(f"{source} ({name}): condition is missing")
    condition = parse_condition(item["condition"], f"{source} ({name}), condition")
    return SegmentDefinition(name, condition, description)


def definitions_from_text(text: str, source: str = "<input>") -> list[SegmentDefinition]:
    """Segments from YAML or JSON text: one mapping, or a list under ``segments:``."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML or JSON ({getattr(exc, 'problem', exc)})") from None
    if isinstance(doc, Mapping) and "segments" in doc:
        items = doc["segments"]
        if not isinstance(items, list) or set(doc) != {"segments"}:
            raise ConfigError(f"{source}: 'segments' must be the only key, holding a list of segments")
        found = [definition_from_data(item, f"{source}, segments.{k}") for k, item in enumerate(items)]
    else:
        found = [definition_from_data(doc, source)]
    names = [d.name for d in found]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"{source}: segment {duplicated[0]!r} is defined more than once")
    return found


def load_definitions(path: Path | str) -> list[SegmentDefinition]:
    """Segments from a YAML or JSON file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the segment file ({exc})") from None
    return definitions_from_text(text, str(path))


def condition_from_text(text: str, source: str = "--condition") -> Condition:
    """A condition given inline, as YAML or JSON (``{consent: email}``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML or JSON ({getattr(exc, 'problem', exc)})") from None
    return parse_condition(data, source)


# -- the store --------------------------------------------------------------------------------------
def stored_conditions(conn: Connection | Session) -> dict[str, Condition]:
    """Every stored segment's condition, by name."""
    rows = conn.execute(select(Segment.name, Segment.definition)).all()
    return {name: parse_condition(data, f"stored segment {name!r}") for name, data in rows}


def resolver(conn: Connection | Session) -> Resolver:
    """A resolver over the stored segments (read once): unknown names raise KeyError."""
    return stored_conditions(conn).__getitem__


def _check_references(definitions: Sequence[SegmentDefinition], known: Mapping[str, Condition]) -> None:
    conditions = {**known, **{d.name: d.condition for d in definitions}}
    now = utcnow()
    for d in definitions:
        # Compiling follows every reference, reports cycles and unknown names, and checks value types.
        compile_condition(d.condition, now=now, resolve=conditions.__getitem__, name=d.name)


def save_segments(store: Store, definitions: Sequence[SegmentDefinition]) -> int:
    """Add or replace (by name) ``definitions`` in one transaction, after validating them all.

    A replaced segment keeps its members until its next rebuild. Returns how many were saved.
    """
    with store.session() as session, session.begin():
        _check_references(definitions, stored_conditions(session))
        existing = {
            row.name: row
            for row in session.scalars(select(Segment).where(Segment.name.in_([d.name for d in definitions])))
        }
        for d in definitions:
            row = existing.get(d.name) or Segment(name=d.name, member_count=0)
            row.description = d.description
            row.definition = condition_to_data(d.condition)
            session.add(row)
    return len(definitions)


def _info(row: Segment) -> SegmentInfo:
    return SegmentInfo(
        id=row.id,
        name=row.name,
        description=row.description,
        condition=parse_condition(row.definition, f"stored segment {row.name!r}"),
        member_count=row.member_count,
        rebuilt_at=row.rebuilt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_segment(store: Store, name: str) -> SegmentInfo:
    """The stored segment called ``name``.

    Raises:
        NotFoundError: there is none.
    """
    with store.session() as session:
        row = session.scalars(select(Segment).where(Segment.name == name)).first()
        if row is None:
            raise NotFoundError(f"no segment named {name!r}; see `kizuna segments list`")
        return _info(row)


def list_segments(store: Store) -> list[SegmentInfo]:
    """Every stored segment, by name."""
    with store.session() as session:
        return [_info(row) for row in session.scalars(select(Segment).order_by(Segment.name))]


def remove_segment(store: Store, name: str) -> None:
    """Delete segment ``name`` and its membership history.

    Raises:
        NotFoundError: there is no such segment.
        ConfigError: other segments refer to it (change or remove those first).
    """
    with store.session() as session, session.begin():
        conditions = stored_conditions(session)
        if name not in conditions:
            raise NotFoundError(f"no segment named {name!r}; see `kizuna segments list`")
        users = sorted(n for n, c in conditions.items() if n != name and name in segment_references(c))
        if users:
            raise ConfigError(f"segment {name!r} is used by {', '.join(users)}: change or remove those first")
        segment_id = session.scalars(select(Segment.id).where(Segment.name == name)).one()
        session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))
        session.execute(delete(Segment).where(Segment.id == segment_id))
