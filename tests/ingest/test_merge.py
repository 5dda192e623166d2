from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kizuna.errors import NotFoundError
from kizuna.ingest.merge import merge_customers
from kizuna.privacy.consent import record_consent
from kizuna.store import Store
from kizuna.store.references import customer_references
from kizuna.store.tables import (
    Campaign,
    CampaignMember,
    Consent,
    Coupon,
    CouponRedemption,
    Customer,
    Identity,
    Interaction,
    Product,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _two_profiles(store: Store) -> tuple[int, int, int]:
    """Keep (sparse) and Gone (fuller, older): both in one campaign, both with the same redemption."""
    with store.session() as s:
        keep = Customer(external_id="keep", email="k@example.jp", attributes={"rank": "gold", "src": "crm"},
                        created_at=T0)  # fmt: skip
        gone = Customer(
            external_id="gone",
            phone="090-1111-2222",
            birth_date=date(1985, 1, 2),
            attributes={"src": "web", "newsletter": True},
            created_at=T0 - timedelta(days=100),
        )
        product = Product(sku="p", title="P")
        campaign = Campaign(external_id="spring", name="Spring")
        s.add_all([keep, gone, product, campaign])
        s.flush()
        coupon = Coupon(code="SHARED", campaign_id=campaign.id)
        personal = Coupon(code="GONE-ONLY", customer_id=gone.id)
        s.add_all([coupon, personal])
        s.flush()
        s.add_all(
            [
                CampaignMember(campaign_id=campaign.id, customer_id=keep.id, arm="treatment"),
                CampaignMember(campaign_id=campaign.id, customer_id=gone.id, arm="control", is_control=True),
                CouponRedemption(coupon_id=coupon.id, customer_id=keep.id, redeemed_at=T0),
                CouponRedemption(coupon_id=coupon.id, customer_id=gone.id, redeemed_at=T0),
                CouponRedemption(coupon_id=personal.id, customer_id=gone.id, redeemed_at=T0),
                Interaction(dedup_key="g1", customer_id=gone.id, product_id=product.id),
                Identity(customer_id=gone.id, kind="line_id", value="U123"),
            ]
        )
        record_consent(s, gone.id, "ads", "granted", at=T0)
        s.commit()
        return keep.id, gone.id, campaign.id


def test_merge_moves_every_row_and_keeps_the_survivors_on_a_clash(store: Store) -> None:
    keep, gone, campaign = _two_profiles(store)
    with store.session() as s:
        loaded = s.get(Customer, keep)
        assert loaded is not None and loaded.phone is None
        audit = merge_customers(s, keep, gone, reason="manual")
        s.commit()
        assert loaded.phone == "090-1111-2222"  # objects in the session read the merged state
        assert loaded.birth_date == date(1985, 1, 2) and loaded.email == "k@example.jp"
        assert loaded.attributes == {"rank": "gold", "src": "crm", "newsletter": True}
        assert loaded.created_at == T0 - timedelta(days=100)
        assert s.get(Customer, gone) is None
        members = s.scalars(select(CampaignMember)).all()
        assert [(m.customer_id, m.arm) for m in members] == [(keep, "treatment")]
        assert s.scalar(select(func.count()).select_from(CouponRedemption)) == 2
        assert s.scalars(select(Coupon.customer_id).where(Coupon.code == "GONE-ONLY")).one() == keep
        identities = {
            (i.kind, i.value) for i in s.scalars(select(Identity).where(Identity.customer_id == keep))
        }
        assert identities == {("line_id", "U123"), ("user_id", "gone")}
        assert audit.moved["dropped"] == {
            "campaign_members": [{"campaign_id": campaign}],
            "coupon_redemptions": [{"coupon_id": 1, "redeemed_at": "2024-03-01T00:00:00+00:00"}],
        }
        assert audit.moved["rows"] == {
            "identities": 1,
            "interactions": 1,
            "consents": 1,
            "coupons": 1,
            "coupon_redemptions": 1,
        }
        assert audit.moved["filled"] == ["birth_date", "phone"]
        for ref in customer_references():
            left = s.scalar(select(func.count()).select_from(ref.table).where(ref.column == gone))
            assert left == 0, ref.name


def test_moved_consents_stay_append_only(store: Store) -> None:
    keep, gone, _ = _two_profiles(store)
    with store.session() as s:
        merge_customers(s, keep, gone, reason="manual")
        s.commit()
        moved = s.scalars(select(Consent)).one()
        assert (moved.customer_id, moved.purpose, moved.status, moved.recorded_at) == (
            keep,
            "ads",
            "granted",
            T0,
        )
        moved.status = "denied"
        with pytest.raises(ValueError, match="cannot be changed"):
            s.flush()


def test_merge_refuses_itself_and_unknown_customers(store: Store) -> None:
    keep, _, _ = _two_profiles(store)
    with store.session() as s:
        with pytest.raises(ValueError, match="into itself"):
            merge_customers(s, keep, keep, reason="x")
        with pytest.raises(NotFoundError, match="#404"):
            merge_customers(s, keep, 404, reason="x")
