from __future__ import annotations

from kizuna.store.references import customer_references


def test_every_customer_foreign_key_is_found_with_its_unique_keys() -> None:
    refs = {ref.name: ref for ref in customer_references()}
    assert {
        "identities",
        "orders",
        "events",
        "interactions",
        "consents",
        "campaign_members",
        "coupons",
        "coupon_redemptions",
    } <= set(refs)
    assert refs["campaign_members"].unique_keys == (("campaign_id", "customer_id"),)
    assert refs["coupon_redemptions"].unique_keys == (("coupon_id", "customer_id", "redeemed_at"),)
    assert refs["identities"].unique_keys == ()
    assert all(ref.column.name == "customer_id" for ref in refs.values())


def test_a_customer_id_without_a_foreign_key_counts_when_marked() -> None:
    refs = {ref.name: ref for ref in customer_references()}
    members = refs["segment_members"]  # written in bulk by rebuilds, so no foreign key
    assert not members.column.foreign_keys
    assert refs["scenario_runs"].unique_keys == (("scenario_id", "customer_id", "occurrence"),)
