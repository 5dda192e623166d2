from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from kizuna.recommend.data import TrainingData, load_training_data
from kizuna.store import Store
from kizuna.store.tables import Customer, Interaction, Order, OrderLine, Product


def test_from_ids_builds_index_space_and_sums_duplicates() -> None:
    data = TrainingData.from_ids([7, 7, 3], [20, 20, 10], weights=[1.0, 2.0, 5.0], all_products=[30])
    assert list(data.customer_ids) == [3, 7] and list(data.product_ids) == [10, 20, 30]
    matrix = data.matrix().toarray()
    np.testing.assert_allclose(matrix, [[5.0, 0.0, 0.0], [0.0, 3.0, 0.0]])


def test_load_reads_purchases_interactions_and_whole_catalogue(store: Store) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    with store.session() as s:
        c1, c2 = Customer(external_id="c1"), Customer(external_id="c2")
        p1, p2, p3 = Product(sku="a", title="A"), Product(sku="b", title="B"), Product(sku="new", title="N")
        s.add_all([c1, c2, p1, p2, p3])
        s.flush()
        order = Order(external_id="o1", customer_id=c1.id, ordered_at=when)
        order.lines.append(OrderLine(line_no=1, product_id=p1.id))
        s.add(order)
        s.add(Interaction(dedup_key="k", customer_id=c2.id, product_id=p2.id, kind="view", weight=1.0,
                          occurred_at=when))  # fmt: skip
        s.commit()
        ids = (c1.id, c2.id, p1.id, p2.id, p3.id)
    data = load_training_data(store)
    c1_id, c2_id, p1_id, p2_id, p3_id = ids
    assert set(data.customer_ids) == {c1_id, c2_id}
    assert set(data.product_ids) == {p1_id, p2_id, p3_id}
    dense = data.matrix().toarray()
    row = {int(c): r for r, c in enumerate(data.customer_ids)}
    col = {int(p): i for i, p in enumerate(data.product_ids)}
    assert dense[row[c1_id], col[p1_id]] == 1.0
    assert dense[row[c2_id], col[p2_id]] == 0.3  # a view counts less than a purchase
    assert data.interactions.time[0] == when.timestamp()


def test_load_reads_interactions_in_stored_order_on_every_store(store: Store) -> None:
    # Written with ids out of order, and the first one updated afterwards (PostgreSQL then keeps it last on
    # disk): they still come back by id, so a seeded split of them is the same on SQLite and PostgreSQL.
    when = datetime(2024, 1, 1, tzinfo=UTC)
    with store.session() as s:
        customer, product = Customer(external_id="c"), Product(sku="p", title="P")
        s.add_all([customer, product])
        s.flush()
        for row_id, weight in ((30, 3.0), (10, 1.0), (20, 2.0)):
            key = f"k{row_id}"
            s.add(Interaction(id=row_id, dedup_key=key, customer_id=customer.id, product_id=product.id,
                              kind="rating", weight=weight, occurred_at=when))  # fmt: skip
        s.commit()
        first = s.get(Interaction, 10)
        assert first is not None
        first.weight = 1.5
        s.commit()
    assert load_training_data(store).interactions.weight.tolist() == [1.5, 2.0, 3.0]
