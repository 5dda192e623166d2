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
