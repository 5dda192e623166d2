"""The Segment spec's messages as pydantic models: identify, track, page, screen, group, alias, and a batch.

Field names are Segment's (``userId``, ``anonymousId``, ``messageId``, ``sentAt`` ...); other top-level fields
that Segment's libraries add (``integrations``, ``_metadata``, ``writeKey`` ...) are accepted and ignored, and
``context``, ``properties`` and ``traits`` take any keys. The e-commerce spec events (Product Viewed, Product
Added, Cart Viewed, Checkout Started, Order Completed ...) have their properties checked as well, so a price
that is not a number is refused with the field named rather than stored and misread later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError


def aware(value: datetime) -> datetime:
    """``value`` with UTC as its zone when it has none, as Segment reads such times.

    Not a validator: a Python validator on every timestamp costs more than the rest of a message's parsing.
    """
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Timestamp = datetime
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Money = Annotated[float, Field(allow_inf_nan=False)]


class _Spec(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", coerce_numbers_to_str=True)


class Message(_Spec):
    """Fields every message shares. One of ``userId`` and ``anonymousId`` is required."""

    type: str
    user_id: Key | None = Field(default=None, alias="userId")
    anonymous_id: Key | None = Field(default=None, alias="anonymousId")
    message_id: Key | None = Field(default=None, alias="messageId")
    timestamp: Timestamp | None = None
    sent_at: Timestamp | None = Field(default=None, alias="sentAt")
    context: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> Message:
        if self.user_id is None and self.anonymous_id is None and self.type != "alias":
            raise PydanticCustomError(
                "missing_id", "userId or anonymousId: give at least one (Segment's libraries always send one)"
            )
        return self

    @property
    def event_name(self) -> str | None:
        """The name stored with the event: the track event, or the page or screen name."""
        return None

    @property
    def payload(self) -> dict[str, Any]:
        """What is stored as the event's properties."""
        return {}


class Identify(Message):
    """Who the user is, and what they told about themselves (``traits``)."""

    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        return self.traits


class ProductFields(_Spec):
    """A product as the e-commerce spec describes it; ``sku`` or ``product_id`` names it in kizuna."""

    product_id: Key | None = None
    sku: Key | None = None
    name: Annotated[str, StringConstraints(max_length=500)] | None = None
    price: Money | None = None
    quantity: Annotated[int, Field(ge=0)] = 1
    category: Annotated[str, StringConstraints(max_length=500)] | None = None
    brand: Annotated[str, StringConstraints(max_length=200)] | None = None
    image_url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None

    @property
    def key(self) -> str | None:
        """The product's SKU in kizuna: ``sku`` when sent, else ``product_id``."""
        return self.sku or self.product_id


class CartFields(_Spec):
    """Cart Viewed, Checkout Started and the like: a list of products."""

    products: list[ProductFields] = Field(default_factory=list)
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None


class OrderFields(CartFields):
    """Order Completed: an order with its products."""

    order_id: Key
    total: Money | None = None
    revenue: Money | None = None
    subtotal: Money | None = None
    shipping: Money = 0.0
    tax: Money = 0.0
    discount: Money = 0.0
    coupon: Annotated[str, StringConstraints(max_length=64)] | None = None


class OrderChangeFields(_Spec):
    """Order Cancelled and Order Refunded: the order, and for a refund the amount (the whole order when not
    given)."""

    order_id: Key
    total: Money | None = None


_COMMERCE = "_kizuna_commerce"

#: E-commerce spec event name → the model its properties must fit.
COMMERCE: dict[str, type[_Spec]] = {
    "Product Viewed": ProductFields,
    "Product Clicked": ProductFields,
    "Product Added": ProductFields,
    "Product Removed": ProductFields,
    "Product Added to Wishlist": ProductFields,
    "Cart Viewed": CartFields,
    "Checkout Started": CartFields,
    "Order Completed": OrderFields,
    "Order Cancelled": OrderChangeFields,
    "Order Refunded": OrderChangeFields,
}


class Track(Message):
    """Something the user did: ``event`` names it, ``properties`` describe it."""

    type: Literal["track"] = "track"
    event: Name
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _commerce_fields(self) -> Track:
        spec = COMMERCE.get(self.event)
        if spec is None:
            return self
        try:
            checked = spec.model_validate(self.properties)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in ("properties", *first["loc"]))
            raise PydanticCustomError(
                "commerce_property",
                "{where}: {problem} (the e-commerce spec's {event} event)",
                {"where": where, "problem": first["msg"], "event": self.event},
            ) from None
        if isinstance(checked, ProductFields):
            if checked.key is None:
                raise PydanticCustomError(
                    "commerce_property",
                    "properties.sku or properties.product_id: give one to name the product",
                )
        elif isinstance(checked, CartFields):
            for i, product in enumerate(checked.products):
                if product.key is None:
                    raise PydanticCustomError(
                        "commerce_property",
                        "properties.products.{i}: give a sku or product_id to name the product",
                        {"i": i},
                    )
        # Kept beside the fields, not as one: a client cannot send it, and it is neither dumped nor compared.
        # (A pydantic private attribute would do the same at several times the cost per event.)
        self.__dict__[_COMMERCE] = checked
        return self

    @property
    def commerce(self) -> _Spec | None:
        """The checked e-commerce properties, for the spec's events; None for any other event."""
        found: _Spec | None = self.__dict__.get(_COMMERCE)
        return found

    @property
    def event_name(self) -> str | None:
        return self.event

    @property
    def payload(self) -> dict[str, Any]:
        return self.properties


class Page(Message):
    """A page view on a website."""

    type: Literal["page"] = "page"
    name: Name | None = None
    category: Name | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def event_name(self) -> str | None:
        return self.name

    @property
    def payload(self) -> dict[str, Any]:
        if self.category is None:
            return self.properties
        return {"category": self.category, **self.properties}


class Screen(Page):
    """A screen view in a mobile app."""

    type: Literal["screen"] = "screen"  # type: ignore[assignment]


class Group(Message):
    """The user belongs to a group (a company, a household, a team)."""

    type: Literal["group"] = "group"
    group_id: Key = Field(alias="groupId")
    traits: dict[str, Any] = Field(default_factory=dict)

    @property
    def event_name(self) -> str | None:
        return self.group_id

    @property
    def payload(self) -> dict[str, Any]:
        return {"groupId": self.group_id, "traits": self.traits}


class Alias(Message):
    """``previousId`` (an anonymous id or an old user id) is the same person as ``userId``."""

    type: Literal["alias"] = "alias"
    previous_id: Key = Field(alias="previousId")
    user_id: Key = Field(alias="userId")

    @property
    def payload(self) -> dict[str, Any]:
        return {"previousId": self.previous_id}


AnyMessage = Annotated[Identify | Track | Page | Screen | Group | Alias, Field(discriminator="type")]


class Batch(_Spec):
    """``/v1/batch``: messages with a shared ``context`` and ``sentAt``."""

    batch: list[AnyMessage]
    sent_at: Timestamp | None = Field(default=None, alias="sentAt")
    context: dict[str, Any] = Field(default_factory=dict)


#: The model of each single-message endpoint, by message type.
MODELS: dict[str, type[Message]] = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}

batch_adapter: TypeAdapter[Batch] = TypeAdapter(Batch)
