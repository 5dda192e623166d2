"""Scenario definitions: declarative data (YAML), validated by pydantic, interpreted by the engine.

A scenario says **when** a customer enters (``trigger``), **what** happens to them (``steps``) and under which
**policies** (goal, re-entry, frequency caps, quiet hours, control group, holdout)::

    name: cart-reminder
    trigger:
      event: Product Added
      unless: {event: Order Completed, within: 24h}   # enter only if no order follows within 24 h
    goal: {event: Order Completed}                    # leave as soon as they buy
    reentry: {after: 7d}
    control: 0.1                                      # 10 % kept back, stable per customer
    quiet_hours: {start: "21:00", end: "09:00"}
    frequency_caps: [{channel: email, max: 2, per: 7d}]
    steps:
      - send: {channel: email, template: cart-reminder, recommend: {algorithm: blend, n: 3}}
      - wait: 2d
      - branch: {if: {consent: ads}, then: audience}
      - exit: no-ads-consent
      - id: audience
        send: {channel: ads, audience: cart-abandoners}

Steps run in order unless one names another (``next``, ``then``/``else``, a split arm's ``next``, a wait's
``on_event``/``on_timeout``). Step ids default to ``step-1``, ``step-2`` ... by position. Every loop must pass
through a wait, so a scenario can never spin.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from kizuna.errors import ConfigError
from kizuna.scenarios.durations import Duration, TimeOfDay
from kizuna.scenarios.steps import (
    STEP_KINDS,
    Arm,
    BranchSpec,
    BranchStep,
    CouponSpec,
    CouponStep,
    ExitStep,
    Recommend,
    SendSpec,
    SendStep,
    SetAttributeSpec,
    SetAttributeStep,
    SplitStep,
    Step,
    TagStep,
    WaitSpec,
    WaitStep,
)
from kizuna.scenarios.triggers import (
    CHANNEL_PURPOSE,
    NAME_PATTERN,
    TRIGGER_KINDS,
    Channel,
    DateSpec,
    DateTrigger,
    EventTrigger,
    ScheduleSpec,
    ScheduleTrigger,
    SegmentTrigger,
    Strict,
    Trigger,
    Unless,
)
from kizuna.segments.conditions import Scalar, describe_errors

__all__ = [
    "CHANNEL_PURPOSE",
    "NAME_PATTERN",
    "STEP_KINDS",
    "TRIGGER_KINDS",
    "Arm",
    "BranchSpec",
    "BranchStep",
    "Channel",
    "CouponSpec",
    "CouponStep",
    "DateSpec",
    "DateTrigger",
    "EventTrigger",
    "ExitStep",
    "FrequencyCap",
    "Goal",
    "QuietHours",
    "Recommend",
    "Reentry",
    "ReentryAfter",
    "ScenarioDefinition",
    "ScheduleSpec",
    "ScheduleTrigger",
    "SegmentTrigger",
    "SendSpec",
    "SendStep",
    "SetAttributeSpec",
    "SetAttributeStep",
    "SplitStep",
    "Step",
    "TagStep",
    "Trigger",
    "Unless",
    "WaitSpec",
    "WaitStep",
    "parse_scenario",
    "scenario_to_data",
]


class Goal(Strict):
    """The customer leaves the scenario (reason ``goal``) as soon as this event arrives."""

    event: str = Field(min_length=1, max_length=200)
    where: dict[str, Scalar] = Field(default_factory=dict)


class ReentryAfter(Strict):
    """Enter again only once ``after`` has passed since the last entry (and no run is in progress)."""

    after: Duration


Reentry = Literal["never", "after_exit"] | ReentryAfter


class FrequencyCap(Strict):
    """At most ``max`` deliveries through ``channel`` per ``per``, counting every scenario's deliveries."""

    channel: Channel
    max: int = Field(ge=1, le=1_000)
    per: Duration


class QuietHours(Strict):
    """No sends between ``start`` and ``end`` in the customer's timezone; a send falling inside waits for
    ``end``. ``start`` after ``end`` spans midnight."""

    start: TimeOfDay
    end: TimeOfDay


class ScenarioDefinition(Strict):
    """A whole scenario, validated: unique step ids, every reference to a step exists, every loop waits."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=2_000)
    trigger: Trigger
    steps: list[Step] = Field(min_length=1)
    goal: Goal | None = None
    reentry: Reentry = "after_exit"
    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    control: float = Field(default=0.0, ge=0.0, le=0.9)
    holdout: bool = Field(default=True, description="Whether the store-wide holdout applies.")

    @model_validator(mode="after")
    def _graph(self) -> ScenarioDefinition:
        ids = self.step_ids()
        if len(set(ids)) != len(ids):
            raise ValueError(
                f"step ids must be unique: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}"
            )
        for index, step in enumerate(self.steps):
            for target in _targets(step):
                if target not in ids:
                    raise ValueError(f"step {ids[index]!r} goes to {target!r}, which is no step's id")
        loop = self._loop_without_wait()
        if loop:
            raise ValueError(f"steps {' → '.join(loop)} loop without a wait")
        return self

    def step_ids(self) -> list[str]:
        """Each step's id, defaulting to ``step-N`` by position (1-based)."""
        return [step.id or f"step-{n}" for n, step in enumerate(self.steps, start=1)]

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError if none)."""
        return self.steps[self.step_ids().index(step_id)]

    def following(self, step_id: str) -> str | None:
        """The step after ``step_id`` in order (its ``next`` if given); ``None`` at the end."""
        ids = self.step_ids()
        index = ids.index(step_id)
        step = self.steps[index]
        if step.next is not None:
            return step.next
        return ids[index + 1] if index + 1 < len(ids) else None

    def successors(self, step_id: str) -> list[str]:
        """Every step ``step_id`` may lead to."""
        step = self.step(step_id)
        after = self.following(step_id)
        found = [t for t in _targets(step) if t is not None]
        if isinstance(step, SplitStep):
            found = [a.next or after for a in step.split if (a.next or after) is not None]  # type: ignore[misc]
        elif not isinstance(step, ExitStep) and after is not None:
            found.append(after)
        return list(dict.fromkeys(found))

    def _loop_without_wait(self) -> list[str]:
        ids = self.step_ids()
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(node: str) -> list[str]:
            if isinstance(self.step(node), WaitStep):
                return []
            if state.get(node) == 1:
                return [*path[path.index(node) :], node]
            if state.get(node) == 2:
                return []
            state[node] = 1
            path.append(node)
            for succ in self.successors(node):
                found = visit(succ)
                if found:
                    return found
            path.pop()
            state[node] = 2
            return []

        for node in ids:
            found = visit(node)
            if found:
                return found
        return []


def _targets(step: Any) -> list[str]:
    found: list[str | None] = [step.next]
    if isinstance(step, BranchStep):
        found += [step.branch.then, step.branch.else_]
    elif isinstance(step, SplitStep):
        found += [a.next for a in step.split]
    elif isinstance(step, WaitStep):
        found += [step.wait.on_event, step.wait.on_timeout]
    return [t for t in found if t is not None]


_ADAPTER = TypeAdapter(ScenarioDefinition)


def parse_scenario(data: Any, source: str = "scenario") -> ScenarioDefinition:
    """Validate decoded YAML/JSON as a scenario; a ConfigError naming ``source`` and the place otherwise."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with name, trigger and steps")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc, (*TRIGGER_KINDS, *STEP_KINDS))}") from exc


def scenario_to_data(definition: ScenarioDefinition) -> dict[str, Any]:
    """The definition as plain data (for the JSON column and YAML), without unset optional keys."""
    data: dict[str, Any] = definition.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data
