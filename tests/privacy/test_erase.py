from __future__ import annotations

import pytest
from privacy_seed import ALICE_PII, everything_stored, rows_per_table, seed
from sqlalchemy import func, select

from kizuna.errors import NotFoundError
from kizuna.privacy.consent import Purpose, may
from kizuna.privacy.erase import CLEARED_COLUMNS, delete_customer, delete_customer_in_store
from kizuna.privacy.export import export_customer_in_store, subject_hash
from kizuna.store import Store
from kizuna.store.access import IdentityMerge, PrivacyRequest
from kizuna.store.tables import (
    Consent,
    Coupon,
    CouponProduct,
    Customer,
    Event,
    Identity,
    Interaction,
    Order,
    OrderLine,
    Product,
)
from kizuna.store.visitors import VisitorConsent


def _revenue(store: Store) -> tuple[float, int]:
    with store.session() as s:
        total = s.scalar(select(func.sum(Order.total))) or 0.0
        lines = s.scalar(select(func.count()).select_from(OrderLine)) or 0
        return float(total), lines


def _leaks(store: Store) -> list[str]:
    text = everything_stored(store)
    return [pii for pii in ALICE_PII if pii in text]


def test_delete_leaves_no_row_about_the_customer_and_no_personal_data(store: Store) -> None:
    ids = seed(store)
    record = delete_customer_in_store(store, ids.alice, requested_by="dpo")

    assert set(rows_per_table(store, ids.alice).values()) == {0}
    assert _leaks(store) == []
    with store.session() as s:
        assert s.get(Customer, ids.alice) is None
        assert s.scalar(select(func.count()).select_from(Event).where(Event.anonymous_id == "dev-a1")) == 0
        # Her browser's decisions from before she was known go with her; another visitor's stay.
        assert s.scalars(select(VisitorConsent.anonymous_id)).all() == ["dev-bob"]
        assert s.scalars(select(Order.external_id)).all() == ["o-b"]
        assert s.scalar(select(func.count()).select_from(OrderLine)) == 0
        assert s.scalar(select(func.count()).select_from(Coupon)) == 0
        assert s.scalar(select(func.count()).select_from(CouponProduct)) == 0
        assert s.scalar(select(func.count()).select_from(Product)) == 2
        # Bob is untouched.
        assert s.scalar(select(func.count()).select_from(Event).where(Event.customer_id == ids.bob)) == 1
        assert s.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.customer_id == ids.bob)
        )
        [merge] = s.scalars(select(IdentityMerge)).all()
        assert merge.merged_external_id == "sha256:" + subject_hash("alice-old")
        stored = s.get(PrivacyRequest, record.id)
        assert stored is not None and stored.kind == "deletion"
    assert record.subject_hash == subject_hash("alice")
    assert record.requested_by == "dpo" and record.status == "done"
    assert record.details["mode"] == "delete"
    assert record.details["deleted"] == {
        "campaign_members": 1,
        "consents": 3,
        "coupon_products": 1,
        "coupon_redemptions": 1,
        "coupons": 1,
        "customer_values": 1,  # the merged profile's row was dropped by the merge
        "customers": 1,
        "deliveries": 1,
        "events": 4,
        "visitor_consents": 1,
        "identities": 3,
        "interactions": 1,
        "order_lines": 2,
        "orders": 2,
        "responses": 1,
        "scenario_runs": 1,  # the merged profile's run of the same occurrence was folded into hers
        "segment_members": 2,  # both profiles' stays
    }


def test_anonymise_keeps_revenue_but_not_the_person(store: Store) -> None:
    ids = seed(store)
    export_customer_in_store(store, ids.alice)
    revenue_before, lines_before = _revenue(store)
    record = delete_customer_in_store(store, ids.alice, mode="anonymise")

    assert _revenue(store) == (revenue_before, lines_before)
    assert _leaks(store) == []
    with store.session() as s:
        alice = s.get(Customer, ids.alice)
        assert alice is not None
        assert alice.external_id.startswith("deleted-") and len(alice.external_id) > 20
        assert all(getattr(alice, column) is None for column in CLEARED_COLUMNS)
        assert alice.attributes == {}
        assert s.scalar(select(func.count()).select_from(Identity)) == 0
        orders = s.scalars(select(Order).where(Order.customer_id == ids.alice)).all()
        assert {o.external_id for o in orders} == {"o-1", "o-0"} and all(o.attributes == {} for o in orders)
        events = {e.message_id: e for e in s.scalars(select(Event).where(Event.customer_id == ids.alice))}
        assert set(events) == {"e-page", "e-identify", "e-track"}
        assert all(e.anonymous_id is None and e.context == {} for e in events.values())
        assert events["e-identify"].properties == {}
        assert events["e-page"].properties == {"url": "https://shop.example.jp/p/beans", "title": "豆"}
        assert events["e-track"].properties == {"sku": "tea", "price": 980}
        assert s.scalar(select(func.count()).select_from(Event).where(Event.message_id == "e-anon")) == 0
        assert not any(may(s, ids.alice, purpose) for purpose in Purpose)
        history = s.scalars(select(Consent).where(Consent.customer_id == ids.alice)).all()
        assert len(history) == 3 + len(Purpose)
    assert rows_per_table(store, ids.alice)["identities"] == 0
    assert record.details["mode"] == "anonymise" and record.customer_id is None
    assert record.details["anonymised"]["orders"] == 2
    assert rows_per_table(store, ids.alice)["responses"] == 1  # how she answered stays with the campaign
    # What she is worth is a profile of her: it goes with the person.
    assert record.details["deleted"] == {
        "customer_values": 1,
        "events": 1,
        "identities": 3,
        "segment_members": 2,
        "visitor_consents": 1,
    }
    assert record.details["withdrawn"] == [p.value for p in Purpose]
    with store.session() as s:
        [merge] = s.scalars(select(IdentityMerge)).all()
        assert merge.merged_external_id == "erased"
        # Nothing in the audit trail leads from the pseudonymous profile back to the person's id.
        linked = s.scalars(select(PrivacyRequest.subject_hash).where(PrivacyRequest.customer_id == ids.alice))
        assert linked.all() == []


def test_erasure_is_one_transaction_of_the_callers(store: Store) -> None:
    ids = seed(store)
    with store.session() as s:
        delete_customer(s, ids.alice)
        s.rollback()
    assert rows_per_table(store, ids.alice)["orders"] == 2
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_unknown_customer_or_mode_is_refused(store: Store) -> None:
    ids = seed(store)
    with store.session() as s:
        with pytest.raises(NotFoundError, match="#999"):
            delete_customer(s, 999)
        with pytest.raises(ValueError, match="anonymise"):
            delete_customer(s, ids.alice, mode="forget")  # type: ignore[arg-type]
