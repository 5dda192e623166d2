"""Built-in scenario templates: ready-made scenarios a marketer adds with one command.

Each template is a YAML file shipped in ``kizuna/scenarios/templates/``: a description in English and
Japanese, named parameters with defaults, the segments the scenario needs (inline definitions, created when
missing) and the scenario itself. Parameters appear in the data as ``${name}``; they are replaced on the
loaded data, never on the text and never by a template engine, so a value can only ever become data. A value
that is the whole string keeps its type (``n: "${recommendations}"`` becomes the number 4); inside a longer
string it is written as text (``no-purchase-${days}d``). The result is validated like any scenario.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from kizuna.errors import ConfigError, NotFoundError
from kizuna.scenarios.definition import NAME_PATTERN, ScenarioDefinition, parse_scenario
from kizuna.scenarios.registry import SavedScenario, Status, save_in_session
from kizuna.segments.compiler import compile_condition
from kizuna.segments.conditions import Condition, condition_to_data, describe_errors
from kizuna.segments.registry import stored_conditions
from kizuna.store.automation import Segment
from kizuna.store.engine import Store
from kizuna.store.types import utcnow

ParameterValue = str | int | float | bool
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Strict):
    """A text in English and Japanese."""

    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)


class Parameter(_Strict):
    """A named parameter: its default (which also fixes its type) and what it means."""

    default: ParameterValue
    description: str = Field(min_length=1)


class SegmentSpec(_Strict):
    """A segment a template needs: created with this definition when no segment of the name exists."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    condition: Condition


class Template(_Strict):
    """A template file as loaded: ``segments`` and ``scenario`` hold ``${...}`` until :func:`instantiate`."""

    name: str = Field(pattern=NAME_PATTERN)
    description: Texts
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    segments: list[Any] = Field(default_factory=list)
    scenario: dict[str, Any]


@dataclass(frozen=True)
class Instance:
    """A template with its parameters filled in: the validated scenario and the segments it needs."""

    definition: ScenarioDefinition
    segments: list[SegmentSpec]


def _folder() -> Any:
    return resources.files("kizuna.scenarios").joinpath("templates")


def template_names() -> list[str]:
    """The names of the built-in templates, sorted."""
    return sorted(p.name[: -len(".yaml")] for p in _folder().iterdir() if p.name.endswith(".yaml"))


def load_template(name: str) -> Template:
    """The built-in template ``name``; NotFoundError listing the templates when there is none."""
    if name not in template_names():
        raise NotFoundError(f"no scenario template {name!r}: use one of {', '.join(template_names())}")
    source = f"template {name!r}"
    data = yaml.safe_load(_folder().joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc)}") from exc
    if template.name != name:
        raise ConfigError(f"{source}: its name field says {template.name!r}")
    return template


def list_templates() -> list[Template]:
    """Every built-in template, by name."""
    return [load_template(name) for name in template_names()]


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``["days=60"]`` → ``{"days": "60"}``; ConfigError for a pair without ``=``."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set days=60")
        values[key.strip()] = value.strip()
    return values


def instantiate(
    template: Template, *, name: str | None = None, values: Mapping[str, ParameterValue] | None = None
) -> Instance:
    """Fill in the template's parameters (defaults for those not given) and validate the result.

    ``values`` may be text (from ``--set``); each is converted to its parameter's type. ``name`` renames the
    scenario, so one template can be added several times with different settings.
    """
    source = f"template {template.name!r}"
    given = dict(values or {})
    unknown = sorted(set(given) - set(template.parameters))
    if unknown:
        known = ", ".join(template.parameters) or "none"
        raise ConfigError(f"{source}: unknown parameter {', '.join(unknown)} (its parameters: {known})")
    filled = {
        key: _typed(key, given[key], spec.default) if key in given else spec.default
        for key, spec in template.parameters.items()
    }
    scenario = _substitute(template.scenario, filled, f"{source}, scenario")
    if name is not None:
        scenario["name"] = name
    definition = parse_scenario(scenario, source)
    segments = []
    for index, raw in enumerate(template.segments):
        data = _substitute(raw, filled, f"{source}, segments.{index}")
        try:
            segments.append(SegmentSpec.model_validate(data))
        except ValidationError as exc:
            raise ConfigError(f"{source}, segments.{index}: {describe_errors(exc)}") from exc
    return Instance(definition, segments)


def ensure_segments(session: Session, specs: Sequence[SegmentSpec]) -> list[str]:
    """Create the segments that do not exist yet; returns the names created.

    A segment that exists is left as it is: the store's definition wins over the template's. New ones are
    compiled once first, so a reference to an unknown segment or an unsuitable value fails here.
    """
    known = stored_conditions(session)
    missing = [spec for spec in specs if spec.name not in known]
    conditions = {**known, **{spec.name: spec.condition for spec in missing}}
    now = utcnow()
    for spec in missing:
        compile_condition(spec.condition, now=now, resolve=conditions.__getitem__, name=spec.name)
        definition = condition_to_data(spec.condition)
        session.add(
            Segment(name=spec.name, description=spec.description, definition=definition, member_count=0)
        )
    session.flush()
    return [spec.name for spec in missing]


@dataclass(frozen=True)
class Added:
    """What :func:`add_from_template` did: the saved scenario and the segments it created."""

    scenario: SavedScenario
    created_segments: list[str]


def add_from_template(
    store: Store,
    template_name: str,
    *,
    name: str | None = None,
    values: Mapping[str, ParameterValue] | None = None,
    replace: bool = False,
    status: Status = "active",
) -> Added:
    """Add the scenario of a built-in template, with its segments, in one transaction."""
    instance = instantiate(load_template(template_name), name=name, values=values)
    with store.session() as session:
        created = ensure_segments(session, instance.segments)
        row = save_in_session(session, instance.definition, replace=replace, status=status)
        session.commit()
        saved = SavedScenario(
            id=row.id,
            name=row.name,
            definition=instance.definition,
            status=row.status,
            version=row.version,
            campaign_id=row.campaign_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
    return Added(saved, created)


def _typed(key: str, value: ParameterValue, default: ParameterValue) -> ParameterValue:
    """``value`` converted to the type of the parameter's default (text from the command line)."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    text = value.strip()
    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered not in ("true", "false", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "yes")
        if isinstance(default, int):
            return int(text)
        return float(text)
    except ValueError:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}[type(default)]
        raise ConfigError(f"--set {key}: expected {kind}, got {value!r}") from None


def _substitute(data: Any, values: Mapping[str, ParameterValue], place: str) -> Any:
    """A copy of ``data`` with ``${name}`` replaced in every string value (as data, never evaluated)."""
    if isinstance(data, dict):
        return {key: _substitute(item, values, f"{place}.{key}") for key, item in data.items()}
    if isinstance(data, list):
        return [_substitute(item, values, f"{place}.{n}") for n, item in enumerate(data)]
    if not isinstance(data, str):
        return data
    for found in _PLACEHOLDER.findall(data):
        if found not in values:
            raise ConfigError(f"{place}: ${{{found}}} is not one of the template's parameters")
    whole = _PLACEHOLDER.fullmatch(data)
    if whole is not None:
        return values[whole.group(1)]
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), data)
