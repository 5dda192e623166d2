"""Scenario triggers — when a customer enters: an event, entering a segment, a date, a schedule — and the
parts every piece of a scenario definition shares."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from kizuna.privacy.consent import Purpose
from kizuna.scenarios.durations import Duration, TimeOfDay
from kizuna.segments.conditions import Scalar

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


class Strict(BaseModel):
    """Base of every part of a definition: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def one_key(kinds: tuple[str, ...]) -> Any:
    """A discriminator picking the union member by which one of ``kinds`` a mapping holds."""

    def kind_of(value: Any) -> str | None:
        if isinstance(value, dict):
            found = [key for key in kinds if key in value]
            return found[0] if len(found) == 1 else None
        return getattr(value, "kind", None)

    return kind_of


def trigger_product_key(properties: dict[str, Any]) -> str | None:
    """The SKU an event's properties name, read as the tracking API reads products: ``sku`` when sent, else
    ``product_id`` (``similar_to_trigger`` recommends from it)."""
    key = properties.get("sku") or properties.get("product_id")
    return None if key is None else str(key)


class Unless(Strict):
    """Enter only if this event does not follow the trigger within ``within``."""

    event: str = Field(min_length=1, max_length=200)
    within: Duration
    where: dict[str, Scalar] = Field(default_factory=dict)


class EventTrigger(Strict):
    """A customer's event (``Product Viewed``, ``Order Completed`` ...), narrowed by properties (equality)."""

    kind: Literal["event"] = Field(default="event", exclude=True)
    event: str = Field(min_length=1, max_length=200)
    where: dict[str, Scalar] = Field(default_factory=dict)
    unless: Unless | None = None


class SegmentTrigger(Strict):
    """Entering a segment (by name). ``existing`` (default): those already in it when the scenario starts
    enter too; ``existing: false``: only those who enter from then on."""

    kind: Literal["segment"] = Field(default="segment", exclude=True)
    segment: str = Field(min_length=1, max_length=100)
    existing: bool = True


DateSource = Literal["birthday", "first_order", "last_order", "expected_reorder"]


class DateSpec(Strict):
    """A date per customer: the birthday (every year), the first or last order, or ``expected_reorder``
    (the last order plus the customer's own median gap between orders); ``offset_days`` before (negative)
    or after it, at ``at`` in the customer's timezone."""

    source: DateSource
    offset_days: int = Field(default=0, ge=-365, le=3_650)
    at: TimeOfDay = time(10, 0)


class DateTrigger(Strict):
    """A date attribute comes round."""

    kind: Literal["date"] = Field(default="date", exclude=True)
    date: DateSpec


class ScheduleSpec(Strict):
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


class ScheduleTrigger(Strict):
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
        one_key(TRIGGER_KINDS),
        custom_error_type="trigger_kind",
        custom_error_message="expected a trigger with exactly one of: " + ", ".join(TRIGGER_KINDS),
    ),
]
