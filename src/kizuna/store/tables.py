"""The store's tables, as SQLAlchemy 2 declarative models.

The schema is owned by the Alembic migrations in ``kizuna/store/migrations``; these models must match them
(``tests/store/test_migrations.py`` checks that they do). Everything queried often has a real column and an
index; what varies by business goes in the ``attributes`` JSON column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from kizuna.store.orders import normalise_status
from kizuna.store.types import BigId, JSONDict, Money, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Mapped[Any]:
    return mapped_column(BigId, ForeignKey(target, ondelete=ondelete), nullable=nullable)


class Customer(Base):
    """One person the business knows: attributes, address and contact details."""

    __tablename__ = "customers"
    # Customers are found by email whatever its case (profiles.find_customer): lower(email) has its own index.
    __table_args__ = (Index("ix_customers_email_lower", func.lower(literal_column("email"))),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    name_kana: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    prefecture: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(128))
    address_line1: Mapped[str | None] = mapped_column(String(256))
    address_line2: Mapped[str | None] = mapped_column(String(256))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[Identity]] = relationship(back_populates="customer")


class Identity(Base):
    """A key that points at a customer: an anonymous cookie id, a login id, a LINE id, an email ..."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int | None] = _fk("customers.id", nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer | None] = relationship(back_populates="identities")


Index("ix_identities_customer_id", Identity.customer_id)


class Product(Base):
    """An item in the catalogue, including trial items and subscription plans."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    category_path: Mapped[str | None] = mapped_column(String(500), index=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    is_trial: Mapped[bool] = mapped_column(Boolean, default=False)
    is_subscription: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Order(Base):
    """A purchase: who, when, through which channel, for how much, with which coupon."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = _fk("customers.id")
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="completed")
    currency: Mapped[str | None] = mapped_column(String(3))
    subtotal: Mapped[float] = mapped_column(Money, default=0.0)
    discount: Mapped[float] = mapped_column(Money, default=0.0)
    shipping: Mapped[float] = mapped_column(Money, default=0.0)
    tax: Mapped[float] = mapped_column(Money, default=0.0)
    total: Mapped[float] = mapped_column(Money, default=0.0)
    coupon_code: Mapped[str | None] = mapped_column(String(64), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.line_no")

    @validates("status")
    def _lower_case(self, _key: str, status: str | None) -> str:
        # Stored as every reader of purchases compares it (kizuna.store.orders); bulk writers normalise too.
        return normalise_status(status)


Index("ix_orders_customer_id_ordered_at", Order.customer_id, Order.ordered_at)
Index("ix_orders_ordered_at", Order.ordered_at)


class OrderLine(Base):
    """One product in an order."""

    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = _fk("orders.id")
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = _fk("products.id", ondelete="RESTRICT")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[float] = mapped_column(Money, default=0.0)
    discount: Mapped[float] = mapped_column(Money, default=0.0)
    amount: Mapped[float] = mapped_column(Money, default=0.0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


Index("ix_order_lines_product_id", OrderLine.product_id)


class Event(Base):
    """Something a customer or anonymous visitor did (Segment spec: track, page, identify ...)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = _fk("customers.id", nullable=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)


Index("ix_events_customer_id_occurred_at", Event.customer_id, Event.occurred_at)
Index("ix_events_anonymous_id_occurred_at", Event.anonymous_id, Event.occurred_at)
Index("ix_events_name_occurred_at", Event.name, Event.occurred_at)


class Interaction(Base):
    """A (customer, product, weight, time) signal for recommenders: a rating, view, cart add, purchase."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = _fk("customers.id")
    product_id: Mapped[int] = _fk("products.id")
    kind: Mapped[str] = mapped_column(String(16), default="interaction")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_interactions_customer_id", Interaction.customer_id)
Index("ix_interactions_product_id", Interaction.product_id)


class Consent(Base):
    """One consent decision: append-only history, the latest row per purpose is in force."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = _fk("customers.id")
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index(
    "ix_consents_customer_id_purpose_recorded_at",
    Consent.customer_id,
    Consent.purpose,
    Consent.recorded_at,
)


@event.listens_for(Consent, "before_update")
def _consents_are_append_only(_mapper: Any, _connection: Any, target: Consent) -> None:
    # A consent decision is evidence: a change of mind is a new record, never an edit of an old one.
    raise ValueError(f"consent record {target.id} cannot be changed: record a new decision instead")


class Campaign(Base):
    """A marketing campaign or experiment, imported or run by kizuna."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)


class CampaignMember(Base):
    """A customer's place in a campaign: which arm (or control) and how they responded."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = _fk("campaigns.id")
    customer_id: Mapped[int] = _fk("customers.id")
    arm: Mapped[str | None] = mapped_column(String(64))
    is_control: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded: Mapped[bool | None] = mapped_column(Boolean)
    converted: Mapped[bool | None] = mapped_column(Boolean)
    revenue: Mapped[float | None] = mapped_column(Money)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)


Index("ix_campaign_members_customer_id", CampaignMember.customer_id)


class Coupon(Base):
    """A coupon code: shared by a campaign, or unique to one customer."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int | None] = _fk("campaigns.id", nullable=True, ondelete="SET NULL")
    customer_id: Mapped[int | None] = _fk("customers.id", nullable=True)
    description: Mapped[str | None] = mapped_column(String(500))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponProduct(Base):
    """A product a coupon applies to."""

    __tablename__ = "coupon_products"

    coupon_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )


class CouponRedemption(Base):
    """A coupon used by a customer (optionally on a known order)."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (UniqueConstraint("coupon_id", "customer_id", "redeemed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coupon_id: Mapped[int] = _fk("coupons.id")
    customer_id: Mapped[int] = _fk("customers.id")
    order_id: Mapped[int | None] = _fk("orders.id", nullable=True, ondelete="SET NULL")
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_coupon_redemptions_customer_id", CouponRedemption.customer_id)


class ImportRun(Base):
    """A record of each import: what was read, when, and what it added."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(1000))
    sha256: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


#: Tables in dependency order (parents first), for counting, clearing and export.
TABLES_IN_ORDER = [
    Customer,
    Identity,
    Product,
    Order,
    OrderLine,
    Event,
    Interaction,
    Consent,
    Campaign,
    CampaignMember,
    Coupon,
    CouponProduct,
    CouponRedemption,
    ImportRun,
]


class MerchRule(Base):
    """A merchandising rule: customers who chose a product (or anything in a category) are shown a target."""

    __tablename__ = "merch_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    trigger_kind: Mapped[str] = mapped_column(String(16))
    trigger_value: Mapped[str] = mapped_column(String(500))
    trigger_event: Mapped[str] = mapped_column(String(16), default="any")
    target_sku: Mapped[str] = mapped_column(String(128))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


TABLES_IN_ORDER.append(MerchRule)

# The access and audit tables share Base; importing them here puts them in every metadata user's view.
from kizuna.store.access import ApiKey, IdentityMerge, PrivacyRequest  # noqa: E402

TABLES_IN_ORDER.extend([ApiKey, IdentityMerge, PrivacyRequest])

from kizuna.store.automation import (  # noqa: E402
    Delivery,
    EngineCursor,
    Response,
    Scenario,
    ScenarioRun,
    Segment,
    SegmentMember,
)

TABLES_IN_ORDER.extend([Segment, SegmentMember, Scenario, ScenarioRun, Delivery, EngineCursor])
TABLES_IN_ORDER.append(Response)

from kizuna.store.visitors import VisitorConsent  # noqa: E402

TABLES_IN_ORDER.append(VisitorConsent)

from kizuna.store.values import CustomerValue  # noqa: E402

TABLES_IN_ORDER.append(CustomerValue)

from kizuna.store.direct_mail import DmBatch  # noqa: E402

TABLES_IN_ORDER.append(DmBatch)

from kizuna.store.dashboard import DashboardUser  # noqa: E402

TABLES_IN_ORDER.append(DashboardUser)
