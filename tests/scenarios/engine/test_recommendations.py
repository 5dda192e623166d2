"""Recommendations in a send's payload: from a trained model when there is one, the request alone without."""

from __future__ import annotations

from engine_seed import T0, customers, deliveries, event, scenario

from kizuna.privacy.consent import record_consent
from kizuna.recommend.service import train
from kizuna.scenarios.engine import run_once
from kizuna.store import Store
from kizuna.store.tables import Interaction, Product

FLOW = {
    "name": "recs",
    "trigger": {"event": "Go"},
    "steps": [
        {"send": {"channel": "email", "template": "recs", "recommend": {"algorithm": "popularity", "n": 2}}}
    ],
}


def _catalogue(store: Store, buyers: list[int]) -> list[int]:
    """Three products; product 0 bought by everyone, 1 by two, 2 by nobody; their ids."""
    with store.session() as session, session.begin():
        products = [Product(sku=f"P{i}", title=f"Product {i}", in_stock=True) for i in range(3)]
        session.add_all(products)
        session.flush()
        ids = [p.id for p in products]
        pairs = [(c, ids[0]) for c in buyers] + [(c, ids[1]) for c in buyers[:2]]
        session.add_all(
            Interaction(dedup_key=f"{c}-{p}", customer_id=c, product_id=p, kind="purchase", weight=1.0)
            for c, p in pairs
        )
        return ids


def test_without_a_trained_model_the_request_is_recorded_with_no_items(store: Store) -> None:
    scenario(store, FLOW)
    [a] = customers(store)
    event(store, a, "Go", T0)
    run_once(store, now=T0)
    assert deliveries(store)[0].payload["recommend"] == {"algorithm": "popularity", "n": 2, "items": []}


def test_a_trained_model_fills_the_items_leaving_out_what_the_customer_has(store: Store) -> None:
    buyers = customers(store, 3)
    [newcomer] = customers(store)
    ids = _catalogue(store, buyers)
    train(store, ["popularity"])
    scenario(store, FLOW)
    with store.session() as session, session.begin():
        record_consent(session, newcomer, "personalisation", "granted", at=T0)
    for cid in (buyers[0], newcomer):
        event(store, cid, "Go", T0)
    run_once(store, now=T0)
    items = {
        d.customer_id: [i["product_id"] for i in d.payload["recommend"]["items"]] for d in deliveries(store)
    }
    assert items[newcomer] == [ids[0], ids[1]]  # the most popular first
    assert ids[0] not in items[buyers[0]] and ids[1] not in items[buyers[0]]


def test_items_carry_what_a_piece_shows_as_the_catalogue_had_it(store: Store) -> None:
    buyers = customers(store, 3)
    [newcomer] = customers(store)
    ids = _catalogue(store, buyers)
    with store.session() as session, session.begin():
        product = session.get(Product, ids[0])
        assert product is not None
        product.price, product.currency, product.image_url = 1980, "JPY", "https://shop.example/p0.jpg"
    train(store, ["popularity"])
    scenario(store, FLOW)
    event(store, newcomer, "Go", T0)
    run_once(store, now=T0)
    [first, second] = deliveries(store)[0].payload["recommend"]["items"]
    assert first["sku"] == "P0" and first["title"] == "Product 0"
    assert (first["price"], first["currency"], first["image_url"]) == (
        1980.0,
        "JPY",
        "https://shop.example/p0.jpg",
    )
    assert second["price"] is None and second["title"] == "Product 1"
    assert first["reason_text"]["en"] and first["reason_text"]["ja"]
    assert first["reason_text"]["en"] != first["reason_text"]["ja"]


def _similar_to_trigger(store: Store) -> tuple[list[int], int]:
    """The catalogue, a trained popularity model, a scenario recommending products like the viewed one, and a
    viewer who allows personalisation: the product ids and the viewer."""
    buyers = customers(store, 3)
    ids = _catalogue(store, buyers)
    train(store, ["popularity"])
    similar = {**FLOW, "trigger": {"event": "Product Viewed"}}
    like = {"algorithm": "popularity", "n": 1, "similar_to_trigger": True}
    similar["steps"] = [{"send": {"channel": "email", "template": "like", "recommend": like}}]
    scenario(store, similar)
    [viewer] = customers(store)
    with store.session() as session, session.begin():
        record_consent(session, viewer, "personalisation", "granted", at=T0)
    return ids, viewer


def test_similar_to_trigger_recommends_products_like_the_one_in_the_event(store: Store) -> None:
    ids, viewer = _similar_to_trigger(store)
    event(store, viewer, "Product Viewed", T0, {"product_id": "P1"})
    run_once(store, now=T0)
    [delivery] = deliveries(store)
    assert [i["product_id"] for i in delivery.payload["recommend"]["items"]] == [ids[0]]
    assert delivery.payload["recommend"]["items"][0]["reason"] == "similar"


def test_the_trigger_product_is_named_by_sku_before_product_id_as_tracking_reads_it(store: Store) -> None:
    ids, viewer = _similar_to_trigger(store)
    # The shop's own database id in product_id, the SKU kizuna knows in sku (Segment's e-commerce spec).
    event(store, viewer, "Product Viewed", T0, {"product_id": "507f1f77bcf86cd799439011", "sku": "P0"})
    run_once(store, now=T0)
    [delivery] = deliveries(store)
    items = delivery.payload["recommend"]["items"]
    assert [i["product_id"] for i in items] == [ids[1]] and items[0]["reason"] == "similar"
