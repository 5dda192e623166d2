"""A customer with a row in every table that points at customers, shared by the export and erasure tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from kizuna.ingest.identity import merge_customers
from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.automation import Delivery, Response, Scenario, ScenarioRun, Segment, SegmentMember
from kizuna.store.references import customer_references
from kizuna.store.tables import (
    Base,
    Campaign,
    CampaignMember,
    Coupon,
    CouponProduct,
    CouponRedemption,
    Customer,
    Event,
    Identity,
    Interaction,
    Order,
    OrderLine,
    Product,
)
from kizuna.store.values import CustomerValue
from kizuna.store.visitors import VisitorConsent

T0 = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """Ids of what :func:`seed` made."""

    alice: int
    bob: int
    campaign: int
    coupon: int


def seed(store: Store) -> Seeded:
    """Alice has a row in every customer table (and a merged old profile); Bob has a little of his own."""
    with store.session() as s:
        alice = Customer(
            external_id="alice",
            name="佐藤 花子",
            name_kana="サトウ ハナコ",
            email="hanako@example.jp",
            phone="090-1234-5678",
            postal_code="150-0001",
            country="JP",
            prefecture="東京都",
            city="渋谷区",
            address_line1="神宮前1-2-3",
            birth_date=date(1990, 4, 1),
            gender="female",
            timezone="Asia/Tokyo",
            attributes={"rank": "gold"},
        )
        old = Customer(external_id="alice-old", email="hanako@example.jp", attributes={"newsletter": True})
        bob = Customer(external_id="bob", email="bob@example.jp")
        beans, tea = Product(sku="beans", title="コーヒー豆"), Product(sku="tea", title="緑茶")
        campaign = Campaign(external_id="spring", name="春のDM")
        s.add_all([alice, old, bob, beans, tea, campaign])
        s.flush()
        order = Order(external_id="o-1", customer_id=alice.id, ordered_at=T0, total=2560.0, subtotal=2560.0)
        order.attributes = {"ship_to": "佐藤 花子 渋谷区"}
        order.lines.append(
            OrderLine(line_no=1, product_id=beans.id, quantity=2, unit_price=1280, amount=2560)
        )
        old_order = Order(
            external_id="o-0", customer_id=old.id, ordered_at=T0 - timedelta(days=30), total=980.0
        )
        old_order.lines.append(
            OrderLine(line_no=1, product_id=tea.id, quantity=1, unit_price=980, amount=980)
        )
        s.add_all(
            [order, old_order, Order(external_id="o-b", customer_id=bob.id, ordered_at=T0, total=500.0)]
        )
        s.add_all(
            [
                Identity(customer_id=alice.id, kind="anonymous_id", value="dev-a1"),
                Identity(customer_id=old.id, kind="anonymous_id", value="dev-a2"),
                Event(
                    message_id="e-page",
                    type="page",
                    customer_id=alice.id,
                    anonymous_id="dev-a1",
                    occurred_at=T0,
                    properties={
                        "url": "https://shop.example.jp/p/beans?email=hanako@example.jp",
                        "title": "豆",
                    },
                    context={"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
                ),
                Event(
                    message_id="e-identify",
                    type="identify",
                    customer_id=alice.id,
                    anonymous_id="dev-a1",
                    occurred_at=T0,
                    properties={"email": "hanako@example.jp"},
                    context={"ip": "203.0.113.7"},
                ),
                Event(
                    message_id="e-track",
                    type="track",
                    name="Product Viewed",
                    customer_id=old.id,
                    occurred_at=T0,
                    properties={"sku": "tea", "price": 980},
                ),
                Event(message_id="e-anon", type="page", anonymous_id="dev-a1", occurred_at=T0),
                VisitorConsent(anonymous_id="dev-a1", purpose="ads", status="granted", recorded_at=T0),
                VisitorConsent(anonymous_id="dev-bob", purpose="ads", status="granted", recorded_at=T0),
                Event(message_id="e-bob", type="page", customer_id=bob.id, occurred_at=T0),
                Interaction(dedup_key="i-a", customer_id=alice.id, product_id=beans.id, kind="purchase"),
                Interaction(dedup_key="i-b", customer_id=bob.id, product_id=tea.id, kind="view"),
                CampaignMember(campaign_id=campaign.id, customer_id=alice.id, arm="dm", responded=True),
                CampaignMember(campaign_id=campaign.id, customer_id=old.id, arm="control", is_control=True),
            ]
        )
        coupon = Coupon(code="C-7F3K", customer_id=alice.id, campaign_id=campaign.id)
        s.add(coupon)
        s.flush()
        s.add(CouponProduct(coupon_id=coupon.id, product_id=beans.id))
        s.add(CouponRedemption(coupon_id=coupon.id, customer_id=alice.id, order_id=order.id, redeemed_at=T0))
        record_consent(s, alice.id, "email", "granted", source="signup", policy_version="v1", at=T0)
        record_consent(
            s, old.id, "email", "withdrawn", source="mail", policy_version="v1", at=T0 - timedelta(1)
        )
        record_consent(s, alice.id, "personalisation", "denied", source="web", at=T0)
        segment = Segment(name="coffee-lovers", definition={"bought": {"category": "食品/コーヒー"}})
        scenario = Scenario(name="welcome", definition={}, campaign_id=campaign.id)
        s.add_all([segment, scenario])
        s.flush()
        for who in (alice, old):  # both stay, and both ran the scenario once: merging keeps one run
            s.add(SegmentMember(segment_id=segment.id, customer_id=who.id, entered_at=T0))
            s.add(
                ScenarioRun(
                    scenario_id=scenario.id,
                    customer_id=who.id,
                    occurrence="once",
                    status="done",
                    entered_at=T0,
                    updated_at=T0,
                )
            )
        sent = Delivery(
            key=f"{scenario.id}:dm:{alice.id}:once:1",
            scenario_id=scenario.id,
            customer_id=alice.id,
            channel="direct_mail",
            template="welcome",
            payload={"coupon": "C-7F3K"},
            created_at=T0,
            due_at=T0,
        )
        s.add(sent)
        s.flush()
        s.add(
            Response(
                delivery_id=sent.id,
                customer_id=alice.id,
                scenario_id=scenario.id,
                kind="scan",
                occurred_at=T0,
                details={"user_agent": "Safari"},
            )
        )
        for who in (alice, old):  # both were valued: merging keeps the survivor's row
            s.add(
                CustomerValue(
                    customer_id=who.id,
                    r_score=5,
                    f_score=4,
                    m_score=3,
                    rfm_segment="champions",
                    p_alive=0.9,
                    expected_purchases=2.5,
                    expected_value=3_000.0,
                    ltv=7_500.0,
                    horizon_days=365,
                    model_version="test",
                    computed_at=T0,
                )
            )
        s.flush()
        merge_customers(s, alice.id, old.id, reason="email")
        s.commit()
        return Seeded(alice.id, bob.id, campaign.id, coupon.id)


#: What identifies Alice, in any table: none of it may be left after her erasure.
ALICE_PII = (
    "alice",
    "hanako",
    "佐藤",
    "サトウ",
    "090-1234",
    "150-0001",
    "神宮前",
    "渋谷区",
    "1990-04-01",
    "203.0.113.7",
    "Mozilla",
    "dev-a1",
    "dev-a2",
    "ship_to",
)


def everything_stored(store: Store) -> str:
    """Every row of every table as text, to search for what must not be there."""
    with store.session() as s:
        return "\n".join(
            f"{table.name}: " + " | ".join(str(value) for value in row)
            for table in Base.metadata.sorted_tables
            for row in s.execute(select(table))
        )


def rows_per_table(store: Store, customer_id: int) -> dict[str, int]:
    """Rows pointing at ``customer_id`` in each table that points at customers."""
    with store.session() as s:
        return {
            ref.name: s.scalar(select(func.count()).select_from(ref.table).where(ref.column == customer_id))
            or 0
            for ref in customer_references()
        }
