from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kizuna.ingest.identity import alias, identify, resolve
from kizuna.privacy.consent import consent_state, record_consent
from kizuna.store import Store
from kizuna.store.access import IdentityMerge
from kizuna.store.tables import Customer, Event, Identity, Order

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _visit(store: Store, anonymous_id: str, n: int, *, start: int = 0) -> None:
    with store.session() as s:
        for i in range(start, start + n):
            s.add(
                Event(
                    message_id=f"{anonymous_id}-{i}",
                    type="page",
                    anonymous_id=anonymous_id,
                    occurred_at=T0 + timedelta(minutes=i),
                )
            )
        s.commit()


def _count(store: Store, model: type, *where: object) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_anonymous_visitor_becomes_known_on_identify(store: Store) -> None:
    _visit(store, "anon-1", 3)
    with store.session() as s:
        assert identify(s, user_id=None, anonymous_id="anon-1") is None  # nobody to answer for yet
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(Identity)) == 0
        cid = identify(
            s, user_id="u-1", anonymous_id="anon-1", traits={"email": "a@example.jp", "plan": "pro"}, at=T0
        )
        s.commit()
        assert cid is not None
        customer = s.get(Customer, cid)
        assert customer is not None
        assert (customer.external_id, customer.email, customer.attributes) == (
            "u-1",
            "a@example.jp",
            {"plan": "pro"},
        )
        assert resolve(s, user_id=None, anonymous_id="anon-1") == cid
        assert resolve(s, user_id="u-1", anonymous_id=None) == cid
        assert identify(s, user_id=None, anonymous_id="anon-1", traits={"name": "Aki"}) == cid
        assert customer.name == "Aki"
    assert _count(store, Event, Event.customer_id == cid) == 3


def test_several_devices_per_customer(store: Store) -> None:
    _visit(store, "phone", 2)
    _visit(store, "laptop", 4)
    with store.session() as s:
        first = identify(s, user_id="u-1", anonymous_id="phone", at=T0)
        second = identify(s, user_id="u-1", anonymous_id="laptop", at=T0 + timedelta(days=1))
        s.commit()
        assert first == second
        devices = s.scalars(
            select(Identity.value).where(Identity.customer_id == first).order_by(Identity.value)
        )
        assert devices.all() == ["laptop", "phone"]
    assert _count(store, Event, Event.customer_id == first) == 6
    _visit(store, "phone", 1, start=10)  # a later anonymous hit is re-pointed on the next identify
    with store.session() as s:
        identify(s, user_id="u-1", anonymous_id="phone")
        s.commit()
    assert _count(store, Event, Event.customer_id.is_(None)) == 0


def test_a_shared_device_follows_the_latest_login(store: Store) -> None:
    _visit(store, "family-pc", 2)
    with store.session() as s:
        mum = identify(s, user_id="mum", anonymous_id="family-pc", at=T0)
        son = identify(s, user_id="son", anonymous_id="family-pc", at=T0 + timedelta(hours=1))
        s.commit()
        assert mum != son
        assert resolve(s, user_id=None, anonymous_id="family-pc") == son
        assert resolve(s, user_id="mum", anonymous_id="family-pc") == mum
        assert resolve(s, user_id="stranger", anonymous_id="family-pc") is None
    assert _count(store, Event, Event.customer_id == mum) == 2  # what was attributed stays


def test_same_email_merges_profiles_keeping_every_event_order_and_consent(store: Store) -> None:
    with store.session() as s:
        shop = Customer(external_id="crm-7", email="Hanako@Example.jp", name="佐藤 花子")
        s.add(shop)
        s.flush()
        s.add(Order(external_id="o-1", customer_id=shop.id, ordered_at=T0, total=1000.0))
        record_consent(s, shop.id, "email", "granted", source="store", at=T0)
        s.commit()
        shop_id = shop.id
    _visit(store, "anon-9", 2)
    with store.session() as s:
        web = identify(s, user_id="web-1", anonymous_id="anon-9", at=T0)
        assert web is not None and web != shop_id
        record_consent(s, web, "email", "withdrawn", source="web", at=T0 + timedelta(days=1))
        s.add(Order(external_id="o-2", customer_id=web, ordered_at=T0, total=500.0))
        s.commit()
        merged = identify(
            s,
            user_id="web-1",
            anonymous_id="anon-9",
            traits={"email": "hanako@example.jp", "phone": "090-0000-0000"},
        )
        s.commit()
        assert merged == shop_id
        survivor = s.get(Customer, shop_id)
        assert survivor is not None and survivor.phone == "090-0000-0000" and survivor.name == "佐藤 花子"
        assert s.get(Customer, web) is None
        assert resolve(s, user_id="web-1", anonymous_id=None) == shop_id
        assert resolve(s, user_id=None, anonymous_id="anon-9") == shop_id
        assert consent_state(s, shop_id)["email"].status == "withdrawn"
        [audit] = s.scalars(select(IdentityMerge)).all()
        assert (audit.survivor_id, audit.merged_customer_id, audit.merged_external_id) == (
            shop_id,
            web,
            "web-1",
        )
        assert audit.reason == "email"
        assert audit.moved["rows"] == {"identities": 1, "orders": 1, "events": 2, "consents": 1}
    assert _count(store, Order, Order.customer_id == shop_id) == 2
    assert _count(store, Event, Event.customer_id == shop_id) == 2
    assert _count(store, Customer) == 1


def test_alias_joins_a_device_or_an_old_id_to_the_user(store: Store) -> None:
    _visit(store, "anon-x", 2)
    with store.session() as s:
        cid = alias(s, previous_id="anon-x", user_id="new-user", at=T0)
        assert resolve(s, user_id="new-user", anonymous_id=None) == cid
        assert resolve(s, user_id=None, anonymous_id="anon-x") == cid
        assert (
            resolve(s, user_id="anon-x", anonymous_id=None) == cid
        )  # an unseen previous id may be either kind
        old = identify(s, user_id="legacy-42", anonymous_id=None)
        assert old is not None
        assert alias(s, previous_id="legacy-42", user_id="new-user") == cid  # both known: merged into user_id
        assert s.get(Customer, old) is None
        assert resolve(s, user_id="legacy-42", anonymous_id=None) == cid
        other = identify(s, user_id="member-1", anonymous_id="anon-y")
        assert alias(s, previous_id="member-1", user_id="member-1-renamed") == other  # unknown user_id: joins
        assert resolve(s, user_id="member-1-renamed", anonymous_id=None) == other
        s.commit()
    assert _count(store, Event, Event.customer_id == cid) == 2
    assert _count(store, IdentityMerge, IdentityMerge.reason == "alias") == 1


def test_ids_are_required_and_checked(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(ValueError, match="user_id, an anonymous_id"):
            identify(s, user_id=None, anonymous_id="")
        with pytest.raises(ValueError, match="user_id, an anonymous_id"):
            resolve(s, user_id=None, anonymous_id=None)
        with pytest.raises(ValueError, match="previous_id and a user_id"):
            alias(s, previous_id="", user_id="u")
        with pytest.raises(ValueError, match="longer than 128"):
            identify(s, user_id="x" * 129, anonymous_id=None)
