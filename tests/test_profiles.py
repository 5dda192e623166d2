from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import record_consent
from kizuna.profiles import customer_360, find_customer, list_events, search_customers
from kizuna.store import Store
from kizuna.store.tables import Customer, Event, Identity, Order, OrderLine, Product

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _seed(store: Store) -> int:
    with store.session() as s:
        c = Customer(external_id="c1", name="山田 太郎", email="Taro@Example.jp", attributes={"rank": "gold"})
        other = Customer(external_id="c2")
        p = Product(sku="p1", title="緑茶")
        s.add_all([c, other, p])
        s.flush()
        for i in range(3):
            o = Order(
                external_id=f"o{i}",
                customer_id=c.id,
                ordered_at=T0 + timedelta(days=i),
                total=100.0 * (i + 1),
            )
            o.lines.append(OrderLine(line_no=1, product_id=p.id, quantity=i + 1, amount=100.0 * (i + 1)))
            s.add(o)
        s.add(Order(external_id="x", customer_id=other.id, ordered_at=T0, total=999.0))
        for i in range(5):
            s.add(
                Event(
                    message_id=f"m{i}",
                    type="track",
                    name="Product Viewed",
                    customer_id=c.id,
                    occurred_at=T0 + timedelta(hours=i),
                )
            )
        s.add(Identity(customer_id=c.id, kind="anonymous_id", value="anon-1"))
        record_consent(s, c.id, "email", "granted", at=T0)
        s.commit()
        return c.id


def test_360_gathers_orders_events_identities_and_consents(store: Store) -> None:
    _seed(store)
    with store.session() as s:
        p = customer_360(s, "c1", orders=2, events=3)
        assert p.order_count == 3 and p.revenue == 600.0
        assert p.first_order_at == T0 and p.last_order_at == T0 + timedelta(days=2)
        assert [o.external_id for o in p.recent_orders] == ["o2", "o1"]
        assert p.recent_orders[0].lines == [("p1", "緑茶", 3, 300.0)]
        assert [e.message_id for e in p.recent_events] == ["m4", "m3", "m2"]
        assert [i.value for i in p.identities] == ["anon-1"]
        assert p.consents["email"].status == "granted"
        assert p.attributes()["rank"] == "gold"


def test_find_by_email_case_insensitive_and_internal_id(store: Store) -> None:
    cid = _seed(store)
    with store.session() as s:
        assert find_customer(s, "taro@example.jp").id == cid
        assert find_customer(s, f"#{cid}").external_id == "c1"
        with pytest.raises(NotFoundError, match="external id"):
            find_customer(s, "nobody")


def test_search_customers_by_id_email_name_and_kana(store: Store) -> None:
    with store.session() as s:
        s.add_all(
            [
                Customer(external_id="A-1", email="Hana@Example.jp", name="Hana Sato", name_kana="サトウ"),
                Customer(external_id="B-2", email="jiro@example.com", name="Jiro"),
                Customer(external_id="C-3"),
            ]
        )
        s.commit()
        assert [c.external_id for c in search_customers(s, "example")[0]] == ["A-1", "B-2"]
        assert [c.external_id for c in search_customers(s, "SATO")[0]] == ["A-1"]
        assert [c.external_id for c in search_customers(s, "トウ")[0]] == ["A-1"]
        assert [c.external_id for c in search_customers(s, "c-3")[0]] == ["C-3"]
        page, total = search_customers(s, None, limit=2, offset=1)
        assert [c.external_id for c in page] == ["B-2", "C-3"] and total == 3


def test_list_events_filters_and_pages(store: Store) -> None:
    customer_id = _seed(store)
    with store.session() as s:
        s.add(Event(message_id="anon", type="page", anonymous_id="anon-1", occurred_at=T0))
        s.commit()
        newest = list_events(s, customer_id=customer_id, limit=2)
        assert [e.message_id for e in newest] == ["m4", "m3"]
        assert [e.message_id for e in list_events(s, customer_id=customer_id, before_id=newest[-1].id)] == [
            "m2",
            "m1",
            "m0",
        ]
        assert [e.message_id for e in list_events(s, anonymous_id="anon-1", type="page")] == ["anon"]
        since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
        window = list_events(s, name="Product Viewed", since=since, until=until)
        assert [e.message_id for e in window] == ["m2", "m1"]
