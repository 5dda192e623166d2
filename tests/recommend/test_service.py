from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from kizuna.privacy.consent import Purpose, Status, is_allowed, record_consent
from kizuna.recommend.service import recommend_for, train
from kizuna.store import Store
from kizuna.store.tables import Customer, Order, OrderLine, Product

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def _shop(store: Store) -> None:
    """Beans buyers also buy filters; tea is the best-seller; mugs are out of stock."""
    with store.session() as s:
        catalogue = (("beans", "コーヒー豆"), ("filter", "フィルター"), ("tea", "緑茶"), ("mug", "マグ"))
        products = {sku: Product(sku=sku, title=title) for sku, title in catalogue}
        s.add_all(products.values())
        s.flush()
        baskets = {f"c{i}": ["beans", "filter", "mug"] for i in range(4)}
        baskets |= {f"t{i}": ["tea"] for i in range(8)}
        baskets["me"] = ["beans"]
        for n, (external_id, skus) in enumerate(baskets.items()):
            customer = Customer(external_id=external_id)
            s.add(customer)
            s.flush()
            order = Order(external_id=f"o{n}", customer_id=customer.id, ordered_at=WHEN)
            for line_no, sku in enumerate(skus, start=1):
                order.lines.append(OrderLine(line_no=line_no, product_id=products[sku].id))
            s.add(order)
        s.execute(update(Product).where(Product.sku == "mug").values(in_stock=False))
        s.commit()


def test_personalised_unless_consent_is_withdrawn_and_never_out_of_stock(
    store: Store, tmp_path: Path
) -> None:
    _shop(store)
    train(store, ["popularity", "cooccurrence"], out=tmp_path)
    picks = recommend_for(store, "me", algorithm_name="cooccurrence", n=3, models=tmp_path)
    assert picks[0].sku == "filter"
    assert picks[0].reason.code == "also_bought"
    assert "mug" not in [p.sku for p in picks]

    with store.session() as s:
        me = s.scalars(select(Customer).where(Customer.external_id == "me")).one()
        assert is_allowed(s, me.id, Purpose.PERSONALISATION, default=True)
        record_consent(s, me.id, Purpose.PERSONALISATION, Status.WITHDRAWN, at=WHEN)
        s.commit()
        assert not is_allowed(s, me.id, Purpose.PERSONALISATION, default=True)
    picks = recommend_for(store, "me", algorithm_name="cooccurrence", n=3, models=tmp_path)
    assert picks[0].sku == "tea"
    assert {p.reason.code for p in picks} == {"popular"}
    assert "mug" not in [p.sku for p in picks]


def test_is_allowed_uses_the_default_until_a_decision(store: Store) -> None:
    with store.session() as s:
        c = Customer(external_id="x")
        s.add(c)
        s.flush()
        assert not is_allowed(s, c.id, Purpose.EMAIL, default=False)
        record_consent(s, c.id, Purpose.EMAIL, Status.GRANTED, at=WHEN)
        assert is_allowed(s, c.id, Purpose.EMAIL, default=False)


def test_bought_products_only_on_request_and_excluded_categories_never(store: Store, tmp_path: Path) -> None:
    _shop(store)
    with store.session() as s:
        s.execute(update(Product).where(Product.sku == "tea").values(category_path="Drinks/Tea"))
        s.execute(update(Product).where(Product.sku == "filter").values(category_path="Kitchen/Filters"))
        s.commit()
    train(store, ["repurchase", "popularity"], out=tmp_path)
    picks = recommend_for(store, "me", algorithm_name="repurchase", n=3, models=tmp_path)
    assert "beans" not in [p.sku for p in picks]
    picks = recommend_for(store, "me", algorithm_name="repurchase", n=3, models=tmp_path, include_bought=True)
    assert picks[0].sku == "beans" and picks[0].reason.code == "bought_before"
    assert "mug" not in [p.sku for p in picks]
    picks = recommend_for(store, "me", algorithm_name="repurchase", n=3, models=tmp_path,
                          exclude_categories=["Drinks"])  # fmt: skip
    assert [p.sku for p in picks] == ["filter"]
    # A category ends at a level (as in segments and rules): "Drink" excludes nothing here.
    picks = recommend_for(store, "me", algorithm_name="repurchase", n=3, models=tmp_path,
                          exclude_categories=["Drink"])  # fmt: skip
    assert "tea" in [p.sku for p in picks]
