from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from contract import RecommenderContract

from kizuna.ingest.writer import import_run
from kizuna.recommend.base import Recommender
from kizuna.recommend.bayesnet import BayesianNetwork
from kizuna.recommend.bayesnet_features import (
    ItemCells,
    age_band,
    load_customer_attributes,
    load_item_attributes,
    quantile_labels,
    recency_labels,
)
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.engine import Store

# The contract's two taste groups are two categories, and the groups differ in gender too.
CHECKERBOARD_ITEMS: dict[int, dict[str, Any]] = {
    **{500 + i: {"category": "tea", "price": 1000 + 100 * i} for i in range(10)},
    **{510 + i: {"category": "coffee", "price": 1500 + 100 * i} for i in range(10)},
    999: {"category": "towel", "price": 2000},
}
CHECKERBOARD_CUSTOMERS = {
    1000 + u: {"gender": "female" if u < 10 else "male", "age": 30 + u} for u in range(20)
}

ITEMS = {
    **{100 + i: {"category": "A"} for i in range(5)},
    **{200 + i: {"category": "B"} for i in range(5)},
    **{300 + i: {"category": "C"} for i in range(5)},
}


class TestBayesianNetwork(RecommenderContract):
    def make(self) -> Recommender:
        return BayesianNetwork(customers=CHECKERBOARD_CUSTOMERS, items=CHECKERBOARD_ITEMS)


def age_drives_category_a(n: int = 600, seed: int = 0) -> tuple[TrainingData, dict[int, dict[str, Any]]]:
    """Customers in their twenties mostly choose category A; the colour attribute is noise."""
    rng = np.random.default_rng(seed)
    customers: dict[int, dict[str, Any]] = {}
    rows: list[tuple[int, int]] = []
    for c in range(1, n + 1):
        young = rng.random() < 0.5
        customers[c] = {"age": 25 if young else 45, "colour": str(rng.choice(["red", "blue"]))}
        chance = {"A": 0.8 if young else 0.1, "B": 0.3, "C": 0.3}
        for category, p in chance.items():
            if rng.random() < p:
                base = {"A": 100, "B": 200, "C": 300}[category]
                rows += [(c, base + int(i)) for i in rng.choice(5, size=2, replace=False)]
        if not any(r[0] == c for r in rows[-4:]):
            rows.append((c, 300 + int(rng.integers(5))))
    customers_, products = zip(*rows, strict=True)
    return TrainingData.from_ids(customers_, products), customers


@pytest.fixture(scope="module")
def by_age() -> tuple[BayesianNetwork, dict[int, dict[str, Any]]]:
    data, customers = age_drives_category_a()
    model = BayesianNetwork(customers=customers, items=ITEMS, customer_fields=("age", "colour"), behaviour=())
    return model.fit(data), customers


def test_the_structure_links_the_driving_attribute_to_the_target_and_leaves_noise_out(
    by_age: tuple[BayesianNetwork, dict[int, dict[str, Any]]],
) -> None:
    model, _ = by_age
    assert model.network is not None
    edges = {frozenset(e) for e in model.network.edges()}
    assert frozenset({"age", "bought"}) in edges
    assert frozenset({"category", "bought"}) in edges
    assert not any("colour" in e for e in edges)


def test_the_probability_rises_with_the_evidence_that_drives_it(
    by_age: tuple[BayesianNetwork, dict[int, dict[str, Any]]],
) -> None:
    model, _ = by_age
    a, b = model.cells.index(("A", "unknown")), model.cells.index(("B", "unknown"))
    young, old = model.predict([{"age": 24, "colour": "red"}, {"age": 47, "colour": "red"}])
    assert young[a] > old[a] + 0.4
    assert abs(young[b] - old[b]) < 0.1
    # Unknown evidence is summed out: the probability lies between the two.
    (unknown,) = model.predict([{"colour": "blue"}])
    assert old[a] < unknown[a] < young[a]


def test_the_reason_names_the_evidence_that_drove_it(
    by_age: tuple[BayesianNetwork, dict[int, dict[str, Any]]],
) -> None:
    model, customers = by_age
    young = next(c for c, attributes in customers.items() if attributes["age"] == 25)
    ids, _, reasons = model.recommend(young, n=1)
    assert 100 <= ids[0] < 105
    assert reasons[0].code == "evidence"
    assert reasons[0].detail["evidence"] == (("age", "20-29"),)
    assert reasons[0].detail["category"] == "A"
    assert reasons[0].describe().startswith("customers with age 20-29 often choose A (")
    assert reasons[0].describe(lang="ja").startswith("20-29歳のお客様がよく選ぶ「A」の商品です（購入確率")


def test_it_works_on_behaviour_alone() -> None:
    # Customers 1–30 keep to category A, 31–60 to B; nothing is known about them but what they chose.
    customers, products = [], []
    for c in range(1, 61):
        base = 100 if c <= 30 else 200
        for i in range(5):
            if (c + i) % 5:
                customers.append(c)
                products.append(base + i)
        if c % 3 == 0:
            customers.append(c)
            products.append(300 + c % 5)
    data = TrainingData.from_ids(customers, products, all_products=list(ITEMS))
    model = BayesianNetwork(items=ITEMS).fit(data)
    assert "favourite" in model.evidence_names
    assert not {"age", "gender", "region"} & set(model.evidence_names)
    ids, _, reasons = model.recommend(2, n=1)
    assert 100 <= ids[0] < 105
    assert reasons[0].code == "evidence"
    assert ("favourite", "A") in reasons[0].detail["evidence"]
    assert "お気に入りがA" in reasons[0].describe(lang="ja")
    ids, _, _ = model.recommend(40, n=1)
    assert 200 <= ids[0] < 205


def test_save_and_load_restore_the_same_network_and_answers(tmp_path: Path) -> None:
    data, customers = age_drives_category_a(n=300, seed=3)
    items = {p: {"category": [v["category"], "all"], "price": float(p)} for p, v in ITEMS.items()}
    model = BayesianNetwork(customers=customers, items=items, customer_fields=("age", "colour")).fit(data)
    loaded = Recommender.load(model.save(tmp_path / "bn"))
    assert isinstance(loaded, BayesianNetwork) and loaded.customers is None
    assert loaded.network is not None and model.network is not None
    assert loaded.network.edges() == model.network.edges()
    assert loaded.cells == model.cells
    for customer in (1, 2, 3, 50, 4242):
        a, b = model.recommend(customer, n=8), loaded.recommend(customer, n=8)
        assert list(a.ids) == list(b.ids)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert a.reasons == b.reasons
    np.testing.assert_array_equal(model.predict([{"age": 25}]), loaded.predict([{"age": 25}]))


def test_items_in_several_categories_score_by_their_best_cell() -> None:
    items = {1: {"category": ["A", "B"]}, 2: {"category": "A"}, 3: {"category": "B"}, 4: {"category": "C"}}
    data = TrainingData.from_ids([1, 1, 2, 2, 3, 3], [2, 1, 2, 4, 3, 4])
    model = BayesianNetwork(items=items, behaviour=()).fit(data)
    assert model.slots is not None and model.slots.shape == (4, 2)
    probability = model.probabilities(np.zeros((1, 0), dtype=np.int64))[0]
    scores = model._score(np.array([0]))[0]
    a, b = model.cells.index(("A", "unknown")), model.cells.index(("B", "unknown"))
    # Product 1 was chosen by one of the two customers who chose in A, and one of the two who chose in B.
    assert scores[0] == pytest.approx(0.5 * max(probability[a], probability[b]))


def test_bad_parameters_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="clash"):
        BayesianNetwork(customer_fields=("age", "category"))
    with pytest.raises(ValueError, match="unknown behaviour"):
        BayesianNetwork(behaviour=("loyalty",))
    with pytest.raises(RuntimeError, match="not fitted"):
        BayesianNetwork().predict([{}])


def test_negatives_are_sampled_above_max_rows() -> None:
    data, customers = age_drives_category_a(n=400, seed=1)
    model = BayesianNetwork(
        customers=customers, items=ITEMS, customer_fields=("age",), behaviour=(), max_rows=500
    )
    model.fit(data)
    users, cells, bought = model._training_rows(np.arange(data.n_users), _bought(model, data))
    assert len(users) == 500 and len(set(zip(users.tolist(), cells.tolist(), strict=True))) == 500
    assert bought.sum() == 250
    a = model.cells.index(("A", "unknown"))
    young, old = model.predict([{"age": 25}, {"age": 45}])
    assert young[a] > old[a]


def _bought(model: BayesianNetwork, data: TrainingData) -> Any:
    cells = ItemCells.build(data.product_ids, ITEMS, 3)
    assert model.seen is not None
    return (model.seen @ cells.membership).tocsr()


# -- features --------------------------------------------------------------------------------------
def test_ages_are_banded_by_decade() -> None:
    assert [age_band(a) for a in (7, 19, 20, 34, 59, 60, 88)] == ["-19", "-19", "20-29", "30-39", "50-59",
                                                                   "60+", "60+"]  # fmt: skip
    assert age_band(None) == age_band("x") == age_band(float("nan")) == age_band(True) == "unknown"


def test_quantile_bands_are_named_by_the_values_they_hold() -> None:
    labels = quantile_labels(np.array([1, 1, 2, 3, 5, 8, 13, 21, 34.0]), 3)
    assert labels == ["1-2", "1-2", "1-2", "3-8", "3-8", "3-8", "13+", "13+", "13+"]
    assert quantile_labels(np.array([4.0, 4.0]), 3) == ["4", "4"]


def test_recency_bands_count_days_back_from_the_newest_interaction() -> None:
    day = 86_400.0
    last = np.array([100 * day, 95 * day, 10 * day, np.nan])
    assert recency_labels(last, 100 * day) == ["0-30", "0-30", "31-90", "unknown"]
    assert recency_labels(np.array([0.0]), 400 * day) == ["366+"]


def test_item_cells_band_prices_within_each_category() -> None:
    items = {
        1: {"category": "tea", "price": 500},
        2: {"category": "tea", "price": 1000},
        3: {"category": "tea", "price": 3000},
        4: {"category": ["tea", "gift"], "price": 9000},
        5: {"category": None},
    }
    cells = ItemCells.build(np.array([1, 2, 3, 4, 5, 6]), items, 3)
    named = [[cells.cells[k] for k in row if k >= 0] for row in cells.slots.tolist()]
    assert named == [
        [("tea", "low")],
        [("tea", "low")],
        [("tea", "mid")],
        [("tea", "high"), ("gift", "any")],
        [("-", "unknown")],
        [("-", "unknown")],
    ]
    assert cells.membership.shape == (6, len(cells.cells)) and cells.membership.nnz == 7


def test_attributes_come_from_the_store(store: Store) -> None:
    with import_run(store, "test") as (writer, _):
        writer.write_customers(
            [
                {"external_id": "a", "birth_date": date(1990, 1, 1), "gender": "female",
                 "prefecture": "東京都", "attributes": {"occupation": "writer"}},
                {"external_id": "b", "country": "US", "postal_code": "94110", "attributes": {"age": 41}},
                {"external_id": "c"},
            ]
        )  # fmt: skip
        writer.write_products(
            [
                {"sku": "T1", "title": "tea", "category_path": "Drinks > Tea > Green", "price": 980},
                {
                    "sku": "M1",
                    "title": "movie",
                    "category_path": None,
                    "attributes": {"genres": ["Drama", "War"]},
                },
            ]
        )
        cid = writer.customer_ids(["a", "b", "c"])
        pid = writer.product_ids(["T1", "M1"])
    people = load_customer_attributes(store, ["age", "gender", "region", "occupation"])
    assert people[cid["a"]]["gender"] == "female" and people[cid["a"]]["region"] == "東京都"
    assert people[cid["a"]]["occupation"] == "writer" and people[cid["a"]]["age"] >= 34
    assert people[cid["b"]] == {"age": 41, "gender": None, "region": "US-9", "occupation": None}
    assert people[cid["c"]] == {"age": None, "gender": None, "region": None, "occupation": None}
    assert load_item_attributes(store, "category_path", 2) == {
        pid["T1"]: {"category": "Drinks/Tea", "price": 980},
        pid["M1"]: {"category": None, "price": None},
    }
    assert load_item_attributes(store, "genres", 2)[pid["M1"]]["category"] == ["Drama", "War"]
    model = BayesianNetwork.from_store(store, customer_fields=["gender"], category_depth=1)
    assert model.items is not None and model.items[pid["T1"]]["category"] == "Drinks"
    assert model.customers is not None and model.customers[cid["a"]] == {"gender": "female"}
    data = TrainingData.from_ids([cid["a"], cid["b"]], [pid["T1"], pid["M1"]])
    ids, _, reasons = model.fit(data).recommend(cid["a"], n=1)
    assert list(ids) == [pid["M1"]] and isinstance(reasons[0], Reason)
