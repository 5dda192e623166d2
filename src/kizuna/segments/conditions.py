"""Segment conditions: declarative data (YAML or JSON), validated by pydantic, never evaluated as code.

A condition is a mapping whose one distinguishing key says what it tests::

    all:
      - attribute: prefecture              # a customer column, or a key of the attributes JSON
        in: [東京都, 神奈川県]
      - measure: days_since_last_order     # computed from orders
        gte: 90
      - bought: {category: 食品/コーヒー, within_days: 180}
      - viewed_not_bought: {product: SKU-1, within_days: 7}
      - event: Product Viewed              # events counted in a window
        within_days: 7
        count: {gte: 3}
      - not: {consent: email}
      - value: ltv                         # stored by `kizuna value compute`
        gte: 50000
      - segment: vip                       # another segment's current members

Comparisons (``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``, ``not_in``, ``contains``, ``exists``)
may be combined: ``{gte: 2, lt: 5}`` is a range. :func:`parse_condition` turns the data into these models and
raises :class:`~kizuna.errors.ConfigError` naming the place in the document and what was expected.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date
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


def _iso_dates(value: Any) -> Any:
    # YAML reads an unquoted 2024-03-01 as a date; conditions compare dates as ISO text.
    return value.isoformat() if isinstance(value, date) else value


#: A value in a condition (or a scenario's ``where``): text, number or truth value; dates become ISO text.
Scalar = Annotated[str | int | float | bool, BeforeValidator(_iso_dates)]

#: Measures computed per customer from their orders. ``recency`` is an alias of ``days_since_last_order``;
#: ``frequency``, ``monetary`` and ``orders`` count within ``within_days`` when it is given, else all time.
Measure = Literal[
    "recency",
    "days_since_last_order",
    "days_since_first_order",
    "frequency",
    "orders",
    "monetary",
    "average_order_value",
]

_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in_", "not_in", "contains", "exists")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Comparison(_Strict):
    """One or more tests of a value; all that are given must hold."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    contains: str | None = None
    exists: bool | None = None

    def operators(self) -> dict[str, Any]:
        """The tests given, by operator name (``in`` without its underscore)."""
        found = {name.rstrip("_"): getattr(self, name) for name in _OPERATORS}
        return {name: value for name, value in found.items() if value is not None}

    def _require_operator(self, what: str) -> None:
        if not self.operators():
            raise ValueError(
                f"{what} needs a comparison: eq, ne, gt, gte, lt, lte, in, not_in, contains or exists"
            )


class AttributeCondition(Comparison):
    """A customer attribute: a column (``prefecture``, ``gender``, ``birth_date`` ...) or a key of the
    ``attributes`` JSON (``rank``, or ``attributes.rank`` to be explicit)."""

    # Letters of any script: files from Japanese systems have keys such as 会員ランク.
    attribute: str = Field(min_length=1, max_length=100, pattern=r"^[^\W\d][\w.\-]*$")

    @model_validator(mode="after")
    def _has_test(self) -> AttributeCondition:
        self._require_operator(f"attribute {self.attribute!r}")
        return self


class MeasureCondition(Comparison):
    """A measure computed from the customer's orders, optionally within the last ``within_days`` days.

    Customers with no order have no recency: ``days_since_last_order`` tests are false for them unless
    ``exists: false`` is asked; their ``frequency``, ``orders`` and ``monetary`` are 0.
    """

    measure: Measure
    within_days: int | None = Field(default=None, ge=1, le=36_500)

    @model_validator(mode="after")
    def _has_test(self) -> MeasureCondition:
        self._require_operator(f"measure {self.measure!r}")
        return self


#: Stored customer values (``customer_values``, written by ``kizuna value compute``) a condition may test.
ValueName = Literal[
    "ltv",
    "p_alive",
    "expected_purchases",
    "expected_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
]


class ValueCondition(Comparison):
    """A customer's stored value: predicted lifetime value (``ltv``), probability of being active
    (``p_alive``), expected purchases and spend, RFM scores (1-5) or RFM segment (``champions`` ...).

    Customers without a computed value match nothing but ``exists: false``.
    """

    value: ValueName

    @model_validator(mode="after")
    def _has_test(self) -> ValueCondition:
        self._require_operator(f"value {self.value!r}")
        return self


class ProductTarget(_Strict):
    """A product (by SKU) or a category (by path prefix, ``食品`` matches ``食品/コーヒー``), in a window."""

    product: str | None = Field(default=None, min_length=1, max_length=128)
    category: str | None = Field(default=None, min_length=1, max_length=500)
    within_days: int | None = Field(default=None, ge=1, le=36_500)

    @model_validator(mode="after")
    def _one_target(self) -> ProductTarget:
        if (self.product is None) == (self.category is None):
            raise ValueError("give exactly one of product (a SKU) or category (a path)")
        return self


class BoughtCondition(_Strict):
    """The customer ordered the product, or anything in the category (within the window if given)."""

    bought: ProductTarget


class ViewedNotBoughtCondition(_Strict):
    """The customer viewed the product or category within the window and has not ordered it since."""

    viewed_not_bought: ProductTarget

    @model_validator(mode="after")
    def _has_window(self) -> ViewedNotBoughtCondition:
        if self.viewed_not_bought.within_days is None:
            raise ValueError("viewed_not_bought needs within_days")
        return self


class EventCondition(_Strict):
    """How many events of a name (``Product Viewed``, ``Cart Viewed`` ...) the customer sent in a window;
    ``where`` narrows them by properties (equality). Without ``count`` it means at least one."""

    event: str = Field(min_length=1, max_length=200)
    within_days: int | None = Field(default=None, ge=1, le=36_500)
    where: dict[str, Scalar] = Field(default_factory=dict)
    count: Comparison = Field(default_factory=lambda: Comparison(gte=1))


class SubscriptionCondition(_Strict):
    """Whether the customer has an active subscription: an order of a subscription product within
    ``within_days`` (default 45, one monthly cycle with grace)."""

    active_subscription: bool = True
    within_days: int = Field(default=45, ge=1, le=3_650)


class TrialOnlyCondition(_Strict):
    """Whether every product the customer has ordered is a trial item (at least one order)."""

    trial_only: bool = True


class ConsentCondition(_Strict):
    """Whether the customer may be approached for a purpose now (the decision in force, or the default)."""

    consent: Purpose


class SegmentCondition(_Strict):
    """Membership of another segment, by name (its current members)."""

    segment: str = Field(min_length=1, max_length=100)


class AllCondition(_Strict):
    """Every condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyCondition(_Strict):
    """At least one condition holds."""

    any: list[Condition] = Field(min_length=1)


class NotCondition(_Strict):
    """The condition does not hold."""

    not_: Condition = Field(alias="not")


#: Each condition's distinguishing key, in the order they are tried.
KINDS: dict[str, type[_Strict]] = {
    "all": AllCondition,
    "any": AnyCondition,
    "not": NotCondition,
    "segment": SegmentCondition,
    "attribute": AttributeCondition,
    "measure": MeasureCondition,
    "value": ValueCondition,
    "bought": BoughtCondition,
    "viewed_not_bought": ViewedNotBoughtCondition,
    "event": EventCondition,
    "active_subscription": SubscriptionCondition,
    "trial_only": TrialOnlyCondition,
    "consent": ConsentCondition,
}


def _kind_of(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [key for key in KINDS if key in value]
        return found[0] if len(found) == 1 else None
    for key, model in KINDS.items():
        if isinstance(value, model):
            return key
    return None


Condition = Annotated[
    Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NotCondition, Tag("not")]
    | Annotated[SegmentCondition, Tag("segment")]
    | Annotated[AttributeCondition, Tag("attribute")]
    | Annotated[MeasureCondition, Tag("measure")]
    | Annotated[ValueCondition, Tag("value")]
    | Annotated[BoughtCondition, Tag("bought")]
    | Annotated[ViewedNotBoughtCondition, Tag("viewed_not_bought")]
    | Annotated[EventCondition, Tag("event")]
    | Annotated[SubscriptionCondition, Tag("active_subscription")]
    | Annotated[TrialOnlyCondition, Tag("trial_only")]
    | Annotated[ConsentCondition, Tag("consent")],
    Discriminator(
        _kind_of,
        custom_error_type="condition_kind",
        custom_error_message="expected a mapping with exactly one of: " + ", ".join(KINDS),
    ),
]

AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()

#: Fields whose value is a tagged union, so a kind name follows them in pydantic's error locations.
_UNION_FIELDS = ("not", "not_", "if", "if_", "trigger")

_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition)


def describe_errors(exc: ValidationError, tags: Collection[str] = ()) -> str:
    """pydantic's errors as ``place: message`` lines, the place written as in the document (``all.1.gte``).

    ``tags`` are the kind names of other tagged unions in the document (scenario steps and triggers).
    """
    known = set(KINDS) | set(tags)
    lines = []
    for error in exc.errors():
        place = ".".join(str(part) for part in _without_tags(error["loc"], known))
        lines.append(f"{place or '(top)'}: {error['msg']}")
    return "; ".join(lines)


def _without_tags(loc: tuple[int | str, ...], known: set[str]) -> list[int | str]:
    # pydantic puts the chosen kind before each union member's fields: at the top, after a list index and
    # after a field holding a union. The document has no such level, so it is left out of the place named.
    out: list[int | str] = []
    expect_tag = True
    for part in loc:
        if expect_tag and isinstance(part, str) and part in known:
            expect_tag = False
            continue
        out.append(part)
        expect_tag = isinstance(part, int) or part in _UNION_FIELDS
    return out


def parse_condition(data: Any, source: str = "condition") -> Condition:
    """Validate decoded YAML/JSON as a condition; a ConfigError naming ``source`` and the place otherwise."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc)}") from exc


def condition_to_data(condition: Condition) -> dict[str, Any]:
    """The condition as plain data (for JSON columns and YAML), with only the keys that were given."""
    data: dict[str, Any] = _ADAPTER.dump_python(condition, by_alias=True, exclude_none=True, mode="json")
    return data


def walk(condition: Condition) -> Iterator[Condition]:
    """The condition and every condition inside it, depth first."""
    yield condition
    if isinstance(condition, AllCondition):
        for inner in condition.all:
            yield from walk(inner)
    elif isinstance(condition, AnyCondition):
        for inner in condition.any:
            yield from walk(inner)
    elif isinstance(condition, NotCondition):
        yield from walk(condition.not_)


def segment_references(condition: Condition) -> set[str]:
    """The names of the segments the condition refers to (directly; callers follow them for cycles)."""
    return {c.segment for c in walk(condition) if isinstance(c, SegmentCondition)}
