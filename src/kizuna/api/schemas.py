"""What the API answers with, one schema family per entity (``CustomerPublic``, ``CustomersPublic`` ...)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from kizuna.ingest.segment import Key, Timestamp
from kizuna.privacy.consent import Purpose, Status


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerPublic(_Public):
    """A customer's columns and JSON attributes."""

    id: int
    external_id: str
    name: str | None = None
    name_kana: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_code: str | None = None
    country: str | None = None
    prefecture: str | None = None
    city: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class CustomersPublic(BaseModel):
    """A page of customers, and how many match in all."""

    data: list[CustomerPublic]
    count: int


class IdentityPublic(_Public):
    """A key that points at the customer (a cookie id, an earlier user id ...)."""

    kind: str
    value: str
    first_seen_at: datetime
    last_seen_at: datetime


class EventPublic(_Public):
    """One stored event."""

    id: int
    message_id: str
    type: str
    name: str | None
    customer_id: int | None
    anonymous_id: str | None
    occurred_at: datetime
    received_at: datetime
    properties: dict[str, Any]
    context: dict[str, Any]


class EventsPublic(BaseModel):
    """A page of events, newest first; ``next_before`` asks for the page after it."""

    data: list[EventPublic]
    count: int
    next_before: int | None


class OrderLinePublic(BaseModel):
    """One product in an order."""

    sku: str
    title: str
    quantity: int
    amount: float


class OrderPublic(BaseModel):
    """An order with its lines."""

    external_id: str
    ordered_at: datetime
    channel: str | None
    total: float
    currency: str | None
    coupon_code: str | None
    lines: list[OrderLinePublic]


class ConsentPublic(BaseModel):
    """The decision in force for one purpose."""

    status: str
    source: str | None
    policy_version: str | None
    recorded_at: datetime


class CampaignPublic(BaseModel):
    """A campaign the customer took part in."""

    name: str
    arm: str | None
    responded: bool | None


class Customer360Public(BaseModel):
    """Everything at a glance: attributes, identities, orders, recent events, consents, campaigns."""

    customer: CustomerPublic
    identities: list[IdentityPublic]
    order_count: int
    revenue: float
    first_order_at: datetime | None
    last_order_at: datetime | None
    recent_orders: list[OrderPublic]
    recent_events: list[EventPublic]
    consents: dict[str, ConsentPublic]
    campaigns: list[CampaignPublic]


class DeletionPublic(BaseModel):
    """The record of a deletion: what was removed or anonymised, as counts per table."""

    request_id: int
    customer_id: int | None
    mode: str
    deleted: dict[str, int]
    anonymised: dict[str, int]
    completed_at: datetime | None


class ConsentRequest(BaseModel):
    """``/v1/consent``: a visitor's choices per purpose, from the snippet or the site's consent banner."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    user_id: Key | None = Field(default=None, alias="userId")
    anonymous_id: Key | None = Field(default=None, alias="anonymousId")
    purposes: dict[Purpose, Status | bool] = Field(min_length=1)
    policy_version: str | None = Field(default=None, alias="policyVersion", max_length=32)
    source: str = Field(default="snippet", max_length=64)
    timestamp: Timestamp | None = None

    @model_validator(mode="after")
    def _someone(self) -> ConsentRequest:
        if self.user_id is None and self.anonymous_id is None:
            raise PydanticCustomError("missing_id", "userId or anonymousId: give at least one")
        return self


class ConsentAnswer(BaseModel):
    """What ``/v1/consent`` did: decisions are recorded for known customers only; an anonymous visitor's
    choice stays in their browser until they identify."""

    success: Literal[True] = True
    known: bool
    recorded: int
