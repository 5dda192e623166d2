"""Saving, reading and switching scenarios in the store, and loading them from YAML files.

A scenario is stored as its validated definition (plain data in the ``scenarios`` table) with a status
(``active`` or ``paused``), a version that goes up each time it is replaced, and a campaign
(``external_id = "scenario:NAME"``, kind ``scenario``) under which its control group, arms, coupons and
responses are measured. Every segment a scenario names must exist before it is saved, so the engine never
meets a dangling name.

A YAML file holds one scenario, or several under ``scenarios:``::

    scenarios:
      - name: cart-reminder
        trigger: {event: Product Added}
        steps: [{send: {channel: email, template: cart-reminder}}]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.scenarios.definition import (
    BranchStep,
    ScenarioDefinition,
    ScheduleTrigger,
    SegmentTrigger,
    parse_scenario,
    scenario_to_data,
)
from kizuna.segments.conditions import segment_references
from kizuna.store.automation import Scenario, ScenarioRun, Segment
from kizuna.store.engine import Store
from kizuna.store.tables import Campaign

Status = Literal["active", "paused"]
STATUSES: tuple[Status, ...] = ("active", "paused")
#: Run statuses that mean a customer is still on their way through the scenario.
IN_PROGRESS = ("waiting",)


@dataclass(frozen=True)
class SavedScenario:
    """A scenario as stored: its definition, status, version and campaign."""

    id: int
    name: str
    definition: ScenarioDefinition
    status: str
    version: int
    campaign_id: int | None
    created_at: datetime
    updated_at: datetime


def campaign_key(name: str) -> str:
    """The external id of the campaign a scenario is measured under."""
    return f"scenario:{name}"


def segments_named(definition: ScenarioDefinition) -> set[str]:
    """Every segment the scenario refers to: its trigger, its schedule's audience and its branches."""
    found: set[str] = set()
    trigger = definition.trigger
    if isinstance(trigger, SegmentTrigger):
        found.add(trigger.segment)
    elif isinstance(trigger, ScheduleTrigger) and trigger.schedule.segment is not None:
        found.add(trigger.schedule.segment)
    for step in definition.steps:
        if isinstance(step, BranchStep):
            found |= segment_references(step.branch.if_)
    return found


def check_segments(session: Session, definition: ScenarioDefinition, source: str | None = None) -> None:
    """A ConfigError naming the scenario (and ``source``) when a segment it refers to does not exist."""
    wanted = segments_named(definition)
    if not wanted:
        return
    known = set(session.scalars(select(Segment.name).where(Segment.name.in_(wanted))))
    missing = sorted(wanted - known)
    if missing:
        where = f"{source}: " if source else ""
        names = ", ".join(repr(m) for m in missing)
        raise ConfigError(
            f"{where}scenario {definition.name!r} names segment{'s' if len(missing) > 1 else ''} {names}, "
            "which do not exist: create them first (or add the scenario from a template, which brings its "
            "segments)"
        )


def save_scenario(
    store: Store,
    definition: ScenarioDefinition,
    *,
    replace: bool = False,
    status: Status = "active",
    source: str | None = None,
) -> SavedScenario:
    """Store ``definition`` under its name with ``status``; ``replace`` overwrites it and bumps its version.

    Raises ConfigError when the name is taken and ``replace`` is not given, when a segment it names does not
    exist, or when ``status`` is unknown. ``source`` (a file name) prefixes error messages.
    """
    with store.session() as session:
        saved = save_in_session(session, definition, replace=replace, status=status, source=source)
        session.commit()
        return _saved(saved, definition)


def save_in_session(
    session: Session,
    definition: ScenarioDefinition,
    *,
    replace: bool = False,
    status: Status = "active",
    source: str | None = None,
) -> Scenario:
    """:func:`save_scenario` inside the caller's transaction (to save several all or nothing)."""
    _check_status(status)
    check_segments(session, definition, source)
    campaign = _campaign_for(session, definition)
    row = session.scalars(select(Scenario).where(Scenario.name == definition.name)).first()
    data = scenario_to_data(definition)
    if row is None:
        row = Scenario(
            name=definition.name, definition=data, status=status, version=1, campaign_id=campaign.id
        )
        session.add(row)
    elif not replace:
        where = f"{source}: " if source else ""
        raise ConfigError(
            f"{where}a scenario named {definition.name!r} exists (version {row.version}): "
            "give --replace to overwrite it, or choose another name"
        )
    else:
        row.definition = data
        row.status = status
        row.version += 1
        row.campaign_id = campaign.id
    session.flush()
    return row


def save_all(
    store: Store,
    definitions: Iterable[ScenarioDefinition],
    *,
    replace: bool = False,
    status: Status = "active",
    source: str | None = None,
) -> list[SavedScenario]:
    """Save several scenarios in one transaction: all of them, or none when one is refused."""
    chosen = list(definitions)
    with store.session() as session:
        rows = [save_in_session(session, d, replace=replace, status=status, source=source) for d in chosen]
        session.commit()
        return [_saved(row, d) for row, d in zip(rows, chosen, strict=True)]


def get_scenario(store: Store, name: str) -> SavedScenario:
    """The stored scenario called ``name``; NotFoundError naming the known ones otherwise."""
    with store.session() as session:
        return _saved(_row(session, name))


def list_scenarios(store: Store, *, status: Status | None = None) -> list[SavedScenario]:
    """Every stored scenario (or those with ``status``), by name."""
    query = select(Scenario).order_by(Scenario.name)
    if status is not None:
        query = query.where(Scenario.status == status)
    with store.session() as session:
        return [_saved(row) for row in session.scalars(query)]


def set_status(store: Store, name: str, status: Status) -> SavedScenario:
    """Switch scenario ``name`` to ``active`` or ``paused``. A paused scenario takes no new entrants and
    moves no one on; its runs wait where they are until it is resumed."""
    _check_status(status)
    with store.session() as session:
        row = _row(session, name)
        row.status = status
        session.commit()
        return _saved(row)


def runs_in_progress(session: Session, scenario_id: int) -> int:
    """How many customers are on their way through the scenario now."""
    count = session.scalar(
        select(func.count())
        .select_from(ScenarioRun)
        .where(ScenarioRun.scenario_id == scenario_id, ScenarioRun.status.in_(IN_PROGRESS))
    )
    return int(count or 0)


def remove_scenario(store: Store, name: str, *, force: bool = False) -> int:
    """Delete scenario ``name`` and its runs; returns how many runs were still in progress.

    Refused (ConfigError) while customers are on their way through it, unless ``force``. Its deliveries and
    its campaign stay, for measurement.
    """
    with store.session() as session:
        row = _row(session, name)
        waiting = runs_in_progress(session, row.id)
        if waiting and not force:
            raise ConfigError(
                f"scenario {name!r} has {waiting} run{'s' if waiting != 1 else ''} in progress: pause it and "
                "let them finish, or give --force to remove it anyway"
            )
        session.execute(delete(ScenarioRun).where(ScenarioRun.scenario_id == row.id))
        session.delete(row)
        session.commit()
        return waiting


def scenarios_from_data(data: Any, source: str) -> list[ScenarioDefinition]:
    """Decoded YAML holding one scenario or a list under ``scenarios:``, validated; errors name the place."""
    if isinstance(data, dict) and set(data) == {"scenarios"}:
        items = data["scenarios"]
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{source}: scenarios: expected a list of scenarios")
        found = [parse_scenario(item, f"{source}, scenarios.{n}") for n, item in enumerate(items)]
    else:
        found = [parse_scenario(data, source)]
    names = [d.name for d in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{source}: scenario names must be unique in a file: {', '.join(twice)}")
    return found


def load_scenarios_yaml(path: Path) -> list[ScenarioDefinition]:
    """Read and validate the scenarios in YAML file ``path``; ConfigError naming the file and place."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    return scenarios_from_data(data, str(path))


def scenario_yaml(definition: ScenarioDefinition) -> str:
    """The definition as YAML that :func:`load_scenarios_yaml` reads back, leaving out what is the default."""
    data = definition.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(f"unknown scenario status {status!r}: use active or paused")


def _campaign_for(session: Session, definition: ScenarioDefinition) -> Campaign:
    key = campaign_key(definition.name)
    campaign = session.scalars(select(Campaign).where(Campaign.external_id == key)).first()
    if campaign is None:
        campaign = Campaign(external_id=key, name=definition.name, kind="scenario")
        session.add(campaign)
    campaign.description = definition.description
    session.flush()
    return campaign


def _row(session: Session, name: str) -> Scenario:
    row = session.scalars(select(Scenario).where(Scenario.name == name)).first()
    if row is None:
        known = list(session.scalars(select(Scenario.name).order_by(Scenario.name).limit(20)))
        hint = (
            f"known: {', '.join(known)}"
            if known
            else "none is stored yet: add one with `kizuna scenarios add`"
        )
        raise NotFoundError(f"no scenario named {name!r} ({hint})")
    return row


def _saved(row: Scenario, definition: ScenarioDefinition | None = None) -> SavedScenario:
    return SavedScenario(
        id=row.id,
        name=row.name,
        definition=definition or parse_scenario(row.definition, f"stored scenario {row.name!r}"),
        status=row.status,
        version=row.version,
        campaign_id=row.campaign_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
