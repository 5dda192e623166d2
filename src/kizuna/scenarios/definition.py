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

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from kizuna.errors import ConfigError
from kizuna.privacy.consent import Purpose
from kizuna.scenarios.durations import Duration, TimeOfDay
from kizuna.segments.conditions import Condition, Scalar, describe_errors

NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,99}$"
Channel = Literal["direct_mail", "email", "ads", "web", "webhook"]

#: The consent purpose each channel needs at the point of use (``None``: the operator's own systems).
CHANNEL_PURPOSE: dict[str, Purpose | None] = {
    "direct_mail": Purpose.DIRECT_MAIL,
    "email": Purpose.EMAIL,
    "ads": Purpose.ADS,
    "web": Purpose.PERSONALISATION,
    "webhook": None,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _one_key(kinds: tuple[str, ...]) -> Any:
    def kind_of(value: Any) -> str | None:
        if isinstance(value, dict):
            found = [key for key in kinds if key in value]
            return found[0] if len(found) == 1 else None
        return getattr(value, "kind", None)

    return kind_of


# --- triggers --------------------------------------------------------------------------------------------


class Unless(_Strict):
    """Enter only if this event does not follow the trigger within ``within``."""

    event: str = Field(min_length=1, max_length=200)
    within: Duration
    where: dict[str, Scalar] = Field(default_factory=dict)


class EventTrigger(_Strict):
    """A customer's event (``Product Viewed``, ``Order Completed`` ...), narrowed by properties (equality)."""

    kind: Literal["event"] = Field(default="event", exclude=True)
    event: str = Field(min_length=1, max_length=200)
    where: dict[str, Scalar] = Field(default_factory=dict)
    unless: Unless | None = None


class SegmentTrigger(_Strict):
    """Entering a segment (by name). ``existing`` (default): those already in it when the scenario starts
    enter too; ``existing: false``: only those who enter from then on."""

    kind: Literal["segment"] = Field(default="segment", exclude=True)
    segment: str = Field(min_length=1, max_length=100)
    existing: bool = True


DateSource = Literal["birthday", "first_order", "last_order", "expected_reorder"]


class DateSpec(_Strict):
    """A date per customer: the birthday (every year), the first or last order, or ``expected_reorder``
    (the last order plus the customer's own median gap between orders); ``offset_days`` before (negative)
    or after it, at ``at`` in the customer's timezone."""

    source: DateSource
    offset_days: int = Field(default=0, ge=-365, le=3_650)
    at: TimeOfDay = time(10, 0)


class DateTrigger(_Strict):
    """A date attribute comes round."""

    kind: Literal["date"] = Field(default="date", exclude=True)
    date: DateSpec


class ScheduleSpec(_Strict):
    """Every ``every`` (at least an hour), at ``at`` (the store's default timezone), everyone in ``segment``
    (or every customer)."""

    every: Duration
    at: TimeOfDay | None = None
    segment: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _not_too_often(self) -> ScheduleSpec:
        if self.every < timedelta(hours=1):
            raise ValueError("a schedule runs at most once an hour (every: 1h or more)")
        return self


class ScheduleTrigger(_Strict):
    """A schedule: a regular newsletter, a monthly sale."""

    kind: Literal["schedule"] = Field(default="schedule", exclude=True)
    schedule: ScheduleSpec


TRIGGER_KINDS = ("event", "segment", "date", "schedule")

Trigger = Annotated[
    Annotated[EventTrigger, Tag("event")]
    | Annotated[SegmentTrigger, Tag("segment")]
    | Annotated[DateTrigger, Tag("date")]
    | Annotated[ScheduleTrigger, Tag("schedule")],
    Discriminator(
        _one_key(TRIGGER_KINDS),
        custom_error_type="trigger_kind",
        custom_error_message="expected a trigger with exactly one of: " + ", ".join(TRIGGER_KINDS),
    ),
]

# --- steps -----------------------------------------------------------------------------------------------


class _Step(_Strict):
    id: str | None = Field(default=None, pattern=NAME_PATTERN)
    next: str | None = Field(default=None, pattern=NAME_PATTERN)


def _wait_shorthand(value: Any) -> Any:
    return value if isinstance(value, dict) else {"for": value}


class WaitSpec(_Strict):
    """Wait ``for`` a duration, ``until_time`` (a time of day in the customer's timezone), or ``until_event``
    (with ``timeout``; ``on_event`` / ``on_timeout`` name where to go next)."""

    for_: Duration | None = Field(default=None, alias="for")
    until_time: TimeOfDay | None = None
    until_event: str | None = Field(default=None, min_length=1, max_length=200)
    where: dict[str, Scalar] = Field(default_factory=dict)
    timeout: Duration | None = None
    on_event: str | None = Field(default=None, pattern=NAME_PATTERN)
    on_timeout: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _one_way(self) -> WaitSpec:
        ways = [w for w in (self.for_, self.until_time, self.until_event) if w is not None]
        if len(ways) != 1:
            raise ValueError("give exactly one of for (a duration), until_time (HH:MM) or until_event")
        if self.until_event is None and (self.timeout or self.on_event or self.on_timeout or self.where):
            raise ValueError("timeout, where, on_event and on_timeout belong to until_event")
        if self.until_event is not None and self.timeout is None:
            raise ValueError("until_event needs a timeout (e.g. timeout: 3d)")
        return self


class WaitStep(_Step):
    kind: Literal["wait"] = Field(default="wait", exclude=True)
    wait: Annotated[WaitSpec, BeforeValidator(_wait_shorthand)]


class BranchSpec(_Strict):
    """Go to ``then`` when the condition holds for the customer now, else to ``else`` (default: the next
    step)."""

    if_: Condition = Field(alias="if")
    then: str = Field(pattern=NAME_PATTERN)
    else_: str | None = Field(default=None, alias="else", pattern=NAME_PATTERN)


class BranchStep(_Step):
    kind: Literal["branch"] = Field(default="branch", exclude=True)
    branch: BranchSpec


class Arm(_Strict):
    """One arm of a random split: its name, relative weight and where it goes (default: the next step)."""

    arm: str = Field(min_length=1, max_length=64)
    weight: float = Field(gt=0)
    next: str | None = Field(default=None, pattern=NAME_PATTERN)


class SplitStep(_Step):
    """A random split for A/B tests, stable per customer; the arm is recorded on the run and its
    deliveries."""

    kind: Literal["split"] = Field(default="split", exclude=True)
    split: list[Arm] = Field(min_length=2)

    @model_validator(mode="after")
    def _distinct(self) -> SplitStep:
        names = [a.arm for a in self.split]
        if len(set(names)) != len(names):
            raise ValueError("split arms need distinct names")
        return self


class Recommend(_Strict):
    """Recommendations to put in the message: a trained algorithm, how many, and optionally products
    similar to the one in the trigger event."""

    algorithm: str = Field(default="blend", min_length=1, max_length=64)
    n: int = Field(default=3, ge=1, le=50)
    similar_to_trigger: bool = False


class SendSpec(_Strict):
    """Deliver through a channel: a template, recommendations, the run's coupon; ``audience`` for ads,
    ``slot`` for web content."""

    channel: Channel
    template: str | None = Field(default=None, min_length=1, max_length=200)
    recommend: Recommend | None = None
    audience: str | None = Field(default=None, min_length=1, max_length=100)
    slot: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _what(self) -> SendSpec:
        if self.channel == "ads" and self.audience is None:
            raise ValueError("the ads channel needs an audience name")
        if self.channel == "web" and self.slot is None:
            raise ValueError("the web channel needs a slot name")
        if self.channel in ("direct_mail", "email", "webhook") and self.template is None:
            raise ValueError(f"the {self.channel} channel needs a template")
        return self


class SendStep(_Step):
    kind: Literal["send"] = Field(default="send", exclude=True)
    send: SendSpec


class CouponSpec(_Strict):
    """Issue a unique coupon code for the customer (``PREFIX-XXXXXXXX``), valid for ``valid``; later sends in
    the run carry it."""

    prefix: str = Field(default="KZ", pattern=r"^[A-Z0-9]{1,12}$")
    description: str | None = Field(default=None, max_length=500)
    valid: Duration = timedelta(days=30)
    products: list[str] = Field(default_factory=list)


class CouponStep(_Step):
    kind: Literal["coupon"] = Field(default="coupon", exclude=True)
    coupon: CouponSpec


class SetAttributeSpec(_Strict):
    """Set a key of the customer's attributes."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    value: Scalar | None


class SetAttributeStep(_Step):
    kind: Literal["set_attribute"] = Field(default="set_attribute", exclude=True)
    set_attribute: SetAttributeSpec


class TagStep(_Step):
    """Add a tag to the customer's ``tags`` attribute (a list)."""

    kind: Literal["tag"] = Field(default="tag", exclude=True)
    tag: str = Field(min_length=1, max_length=100)


class ExitStep(_Step):
    """Leave the scenario, with a reason recorded on the run."""

    kind: Literal["exit"] = Field(default="exit", exclude=True)
    exit: str = Field(default="exit", min_length=1, max_length=64)


STEP_KINDS = ("wait", "branch", "split", "send", "coupon", "set_attribute", "tag", "exit")

Step = Annotated[
    Annotated[WaitStep, Tag("wait")]
    | Annotated[BranchStep, Tag("branch")]
    | Annotated[SplitStep, Tag("split")]
    | Annotated[SendStep, Tag("send")]
    | Annotated[CouponStep, Tag("coupon")]
    | Annotated[SetAttributeStep, Tag("set_attribute")]
    | Annotated[TagStep, Tag("tag")]
    | Annotated[ExitStep, Tag("exit")],
    Discriminator(
        _one_key(STEP_KINDS),
        custom_error_type="step_kind",
        custom_error_message="expected a step with exactly one of: " + ", ".join(STEP_KINDS),
    ),
]

# --- policies --------------------------------------------------------------------------------------------


class Goal(_Strict):
    """The customer leaves the scenario (reason ``goal``) as soon as this event arrives."""

    event: str = Field(min_length=1, max_length=200)
    where: dict[str, Scalar] = Field(default_factory=dict)


class ReentryAfter(_Strict):
    """Enter again only once ``after`` has passed since the last entry (and no run is in progress)."""

    after: Duration


Reentry = Literal["never", "after_exit"] | ReentryAfter


class FrequencyCap(_Strict):
    """At most ``max`` deliveries through ``channel`` per ``per``, counting every scenario's deliveries."""

    channel: Channel
    max: int = Field(ge=1, le=1_000)
    per: Duration


class QuietHours(_Strict):
    """No sends between ``start`` and ``end`` in the customer's timezone; a send falling inside waits for
    ``end``. ``start`` after ``end`` spans midnight."""

    start: TimeOfDay
    end: TimeOfDay


class ScenarioDefinition(_Strict):
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
