"""Scenario steps: wait, branch, split, send, coupon, set_attribute, tag and exit."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from kizuna.scenarios.durations import Duration, TimeOfDay
from kizuna.scenarios.triggers import NAME_PATTERN, Channel, Strict, one_key
from kizuna.segments.conditions import Condition, Scalar


class _Step(Strict):
    id: str | None = Field(default=None, pattern=NAME_PATTERN)
    next: str | None = Field(default=None, pattern=NAME_PATTERN)


def _wait_shorthand(value: Any) -> Any:
    return value if isinstance(value, dict) else {"for": value}


class WaitSpec(Strict):
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


class BranchSpec(Strict):
    """Go to ``then`` when the condition holds for the customer now, else to ``else`` (default: the next
    step)."""

    if_: Condition = Field(alias="if")
    then: str = Field(pattern=NAME_PATTERN)
    else_: str | None = Field(default=None, alias="else", pattern=NAME_PATTERN)


class BranchStep(_Step):
    kind: Literal["branch"] = Field(default="branch", exclude=True)
    branch: BranchSpec


class Arm(Strict):
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


class Recommend(Strict):
    """Recommendations to put in the message: a trained algorithm, how many, and optionally products
    similar to the one in the trigger event."""

    algorithm: str = Field(default="blend", min_length=1, max_length=64)
    n: int = Field(default=3, ge=1, le=50)
    similar_to_trigger: bool = False


class SendSpec(Strict):
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


class CouponSpec(Strict):
    """Issue a unique coupon code for the customer (``PREFIX-XXXXXXXX``), valid for ``valid``; later sends in
    the run carry it."""

    prefix: str = Field(default="KZ", pattern=r"^[A-Z0-9]{1,12}$")
    description: str | None = Field(default=None, max_length=500)
    valid: Duration = timedelta(days=30)
    products: list[str] = Field(default_factory=list)


class CouponStep(_Step):
    kind: Literal["coupon"] = Field(default="coupon", exclude=True)
    coupon: CouponSpec


class SetAttributeSpec(Strict):
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
        one_key(STEP_KINDS),
        custom_error_type="step_kind",
        custom_error_message="expected a step with exactly one of: " + ", ".join(STEP_KINDS),
    ),
]
