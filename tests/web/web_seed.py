"""A small shop for web tests: products bought together, a visitor's device linked to a customer, a segment,
trained models and a slots file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import update

from kizuna.recommend.service import train
from kizuna.store import Store
from kizuna.store.automation import PENDING, Delivery, Scenario, Segment, SegmentMember
from kizuna.store.tables import Customer, Event, Identity, Order, OrderLine, Product
from kizuna.web.slots import SlotsFile, parse_slots

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

SLOTS: dict[str, Any] = {
    "product_url": "/shop/p/{sku}",
    "slots": {
        "for-you": {"kind": "recommendations", "algorithm": "cooccurrence", "n": 2, "context": "none"},
        "related": {"kind": "recommendations", "algorithm": "cooccurrence", "n": 3, "context": "product"},
        "hero": {
            "kind": "content",
            "segments": [{"segment": "vip", "content": {"title": {"ja": "VIP の方へ", "en": "For VIPs"}}}],
            "first_visit": {"title": {"ja": "はじめまして", "en": "Welcome"}, "link": "/shop"},
            "returning": {"title": {"ja": "おかえりなさい", "en": "Welcome back"}},
            "templates": {"spring": {"title": "春のおすすめ", "body": "新商品のご案内"}},
            "default": {"title": "いらっしゃいませ"},
        },
        "popup": {
            "kind": "popup",
            "trigger": "scroll",
            "scroll_percent": 30,
            "first_visit": {"title": "初回送料無料"},
        },
    },
}


def slots() -> SlotsFile:
    return parse_slots(SLOTS, "test slots")


def write_slots(path: Path) -> Path:
    path.write_text(yaml.safe_dump(SLOTS, allow_unicode=True), encoding="utf-8")
    return path


def shop(store: Store, models: Path) -> dict[str, int]:
    """Beans buyers also buy filters; tea is the best-seller; mugs are out of stock. ``me`` bought beans and
    browses on device ``dev-me``. Returns customer ids by external id."""
    when = NOW - timedelta(days=20)
    with store.session() as s, s.begin():
        catalogue = (("beans", "コーヒー豆"), ("filter", "フィルター"), ("tea", "緑茶"), ("mug", "マグ"))
        products = {
            sku: Product(sku=sku, title=title, price=1200.0, currency="JPY", image_url=f"/img/{sku}.jpg")
            for sku, title in catalogue
        }
        s.add_all(products.values())
        s.flush()
        baskets = {f"c{i}": ["beans", "filter", "mug"] for i in range(4)}
        baskets |= {f"t{i}": ["tea"] for i in range(8)}
        baskets["me"] = ["beans"]
        ids: dict[str, int] = {}
        for n, (external_id, skus) in enumerate(baskets.items()):
            customer = Customer(external_id=external_id)
            s.add(customer)
            s.flush()
            ids[external_id] = customer.id
            order = Order(external_id=f"o{n}", customer_id=customer.id, ordered_at=when)
            for line_no, sku in enumerate(skus, start=1):
                order.lines.append(OrderLine(line_no=line_no, product_id=products[sku].id))
            s.add(order)
        s.add(Identity(customer_id=ids["me"], kind="anonymous_id", value="dev-me", first_seen_at=when))
        s.execute(update(Product).where(Product.sku == "mug").values(in_stock=False))
    train(store, ["popularity", "cooccurrence"], out=models)
    return ids


def join_segment(store: Store, customer_id: int, name: str = "vip") -> None:
    with store.session() as s, s.begin():
        segment = Segment(name=name, definition={"measure": "frequency", "gte": 1})
        s.add(segment)
        s.flush()
        s.add(
            SegmentMember(segment_id=segment.id, customer_id=customer_id, entered_at=NOW - timedelta(days=1))
        )


def web_delivery(
    store: Store,
    customer_id: int,
    slot: str,
    template: str,
    *,
    at: datetime = NOW,
    key: str = "1:send:1:once:1",
) -> int:
    with store.session() as s, s.begin():
        scenario = Scenario(name="spring-news", definition={})
        s.add(scenario)
        s.flush()
        row = Delivery(
            key=key,
            scenario_id=scenario.id,
            step="send",
            customer_id=customer_id,
            channel="web",
            template=template,
            payload={"scenario": "spring-news", "slot": slot, "template": template},
            status=PENDING,
            attempts=0,
            created_at=at - timedelta(hours=1),
            due_at=at - timedelta(hours=1),
        )
        s.add(row)
        s.flush()
        return row.id


def page_view(
    store: Store, anonymous_id: str, at: datetime, *, name: str = "Page Viewed", **props: Any
) -> None:
    with store.session() as s, s.begin():
        s.add(
            Event(
                message_id=f"m-{anonymous_id}-{at.timestamp()}-{name}",
                type="track",
                name=name,
                anonymous_id=anonymous_id,
                occurred_at=at,
                received_at=at,
                properties=props,
                context={},
            )
        )
