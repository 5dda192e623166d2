from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from contract import RecommenderContract, checkerboard
from scipy import sparse

from kizuna.ingest.writer import import_run
from kizuna.recommend import content
from kizuna.recommend.base import Recommender
from kizuna.recommend.content import ContentBased, _top_similar, load_item_texts, normalise, product_text
from kizuna.recommend.data import TrainingData
from kizuna.store.engine import Store

_TEA = ["深蒸し", "玉露", "ほうじ茶", "抹茶", "番茶", "玄米茶", "かぶせ茶", "新茶", "茎茶", "粉茶"]
_COFFEE = [
    "ブラジル",
    "コロンビア",
    "エチオピア",
    "グアテマラ",
    "ケニア",
    "マンデリン",
    "モカ",
    "キリマンジャロ",
    "ハワイコナ",
    "ブルーマウンテン",
]

# The contract's two taste groups read alike within a group: green teas (500–509) and coffees (510–519).
CHECKERBOARD_TEXTS = {
    **{500 + i: f"緑茶 煎茶 {name} 静岡産 お茶" for i, name in enumerate(_TEA)},
    **{510 + i: f"コーヒー 豆 {name} 焙煎 珈琲" for i, name in enumerate(_COFFEE)},
    999: "バスタオル 綿 100% 今治",
}


class TestContentBased(RecommenderContract):
    def make(self) -> Recommender:
        return ContentBased(texts=CHECKERBOARD_TEXTS, neighbours=20)


def test_normalise_folds_width_and_case() -> None:
    assert normalise("ＡＢＣ　ｄｅｆ  ｶﾀｶﾅ") == "abc def カタカナ"


def test_product_text_joins_fields_and_repeats_the_category() -> None:
    text = product_text(
        "Green Tea", "Fresh", "Drinks > Tea", "Kizuna", {"origin": "静岡", "nested": {"x": 1}}
    )
    assert text == "green tea fresh kizuna drinks tea drinks tea drinks tea origin 静岡"


def test_a_new_product_similar_to_purchases_ranks_first() -> None:
    texts = {
        1: "静岡 緑茶 煎茶 100g",
        2: "鹿児島 緑茶 深蒸し煎茶 100g",
        3: "Colombian coffee beans, medium roast",
        4: "Ethiopian coffee beans, light roast",
        5: "Kenyan coffee beans, dark roast",
        10: "宇治 緑茶 煎茶 200g",  # new: nobody has bought it
        11: "Cotton bath towel",  # new and unrelated
    }
    # Customer 7 drinks green tea; customers 8 and 9 drink coffee and make coffee popular.
    data = TrainingData.from_ids([7, 7, 8, 8, 9, 9], [1, 2, 3, 4, 3, 5], all_products=[10, 11])
    model = ContentBased(texts=texts).fit(data)
    ids, scores, reasons = model.recommend(7, n=3)
    assert ids[0] == 10
    assert scores[0] > scores[1]
    assert reasons[0].code == "similar" and reasons[0].item_ids in {(1,), (2,)}
    _, towel, _ = model.recommend(7, n=1, candidates=[11])
    assert list(towel) == [0.0]
    # The coffee drinker is offered the other coffee, not the new tea.
    ids, _, _ = model.recommend(8, n=1)
    assert list(ids) == [5]


def test_english_words_match_across_case_and_width() -> None:
    texts = {
        1: "ORGANIC Green Tea",
        2: "organic green tea leaves",
        3: "ｏｒｇａｎｉｃ ＧＲＥＥＮ ｔｅａ bags",
        4: "steel kitchen knife",
    }
    model = ContentBased(texts=texts).fit(TrainingData.from_ids([1, 1, 1, 1], [1, 2, 3, 4]))
    ids, scores, _ = model.similar_items(1, n=3)
    assert set(ids[:2]) == {2, 3}
    assert scores[2] < scores[1]


def test_the_category_path_makes_products_more_alike() -> None:
    texts = {
        1: product_text("Mug", category_path="Kitchen > Tableware"),
        2: product_text("Mug warmer", category_path="Electronics > Gadgets"),
        3: product_text("Plate", category_path="Kitchen > Tableware"),
    }
    model = ContentBased(texts=texts).fit(TrainingData.from_ids([1, 1, 1], [1, 2, 3]))
    ids, _, _ = model.similar_items(1, n=2)
    assert list(ids) == [3, 2]


def test_products_without_text_are_similar_to_nothing() -> None:
    model = ContentBased(texts={1: "緑茶", 2: "緑茶 煎茶"}).fit(
        TrainingData.from_ids([1, 1], [1, 2], all_products=[3])
    )
    ids, scores, _ = model.similar_items(3, n=2)
    np.testing.assert_array_equal(scores, [0.0, 0.0])
    assert model.similarity is not None and model.similarity[2].nnz == 0
    ids, scores, _ = model.similar_items(1, n=1)
    assert list(ids) == [2] and scores[0] > 0


def test_all_texts_empty_gives_an_empty_similarity() -> None:
    model = ContentBased(texts={}).fit(TrainingData.from_ids([1, 1], [1, 2]))
    assert model.similarity is not None and model.similarity.nnz == 0


def test_fit_without_texts_says_how_to_get_them() -> None:
    with pytest.raises(ValueError, match="from_store"):
        ContentBased().fit(TrainingData.from_ids([1], [1]))


def test_neighbours_prune_the_saved_similarity(tmp_path: Path) -> None:
    texts = {p: f"緑茶 煎茶 {p}" for p in range(1, 11)}
    model = ContentBased(texts=texts, neighbours=3).fit(TrainingData.from_ids([1] * 10, list(range(1, 11))))
    assert model.similarity is not None
    assert np.diff(model.similarity.indptr).max() == 3
    loaded = Recommender.load(model.save(tmp_path / "content"))
    assert loaded.params() == {"neighbours": 3, "word_weight": 0.3, "min_similarity": 0.0}
    assert isinstance(loaded, ContentBased) and loaded.texts is None


def test_texts_come_from_the_store(store: Store) -> None:
    with import_run(store, "test") as (writer, _):
        writer.write_products(
            [
                {
                    "sku": "T1",
                    "title": "静岡 緑茶",
                    "description": "煎茶 100g",
                    "category_path": "飲料>お茶",
                    "brand": "絆園",
                    "attributes": {"産地": "静岡"},
                },
                {
                    "sku": "T2",
                    "title": "宇治 緑茶",
                    "description": None,
                    "category_path": "飲料>お茶",
                    "brand": None,
                    "attributes": {},
                },
                {
                    "sku": "C1",
                    "title": "Colombian Coffee",
                    "description": None,
                    "category_path": "Drinks/Coffee",
                    "brand": None,
                    "attributes": {},
                },
            ]
        )
        ids = writer.product_ids(["T1", "T2", "C1"])
    texts = load_item_texts(store, [ids["T1"], 424242, ids["C1"]])
    assert texts == ["静岡 緑茶 煎茶 100g 絆園 飲料 お茶 飲料 お茶 飲料 お茶 産地 静岡", "",
                     "colombian coffee drinks coffee drinks coffee drinks coffee"]  # fmt: skip
    model = ContentBased.from_store(store, neighbours=5)
    assert model.neighbours == 5
    data = TrainingData.from_ids([1], [ids["T1"]], all_products=list(ids.values()))
    ids_out, _, reasons = model.fit(data).recommend(1, n=1)
    assert list(ids_out) == [ids["T2"]]
    assert reasons[0].item_ids == (ids["T1"],)


def test_refit_on_other_choices_keeps_the_text_similarities() -> None:
    data = checkerboard()
    model = ContentBased(texts=CHECKERBOARD_TEXTS, neighbours=20).fit(data)
    # Fewer choices, same catalogue: the similarities are carried over, the choices are the new ones.
    fewer = data.with_interactions(data.interactions.subset(np.arange(0, len(data.interactions), 2)))
    refitted = model.refit(fewer)
    assert isinstance(refitted, ContentBased)
    assert refitted.similarity is model.similarity
    fresh = ContentBased(texts=CHECKERBOARD_TEXTS, neighbours=20).fit(fewer)
    for customer in (1000, 1013):
        a, b = refitted.recommend(customer, n=5), fresh.recommend(customer, n=5)
        assert list(a.ids) == list(b.ids)
        np.testing.assert_allclose(a.scores, b.scores)
    # Another catalogue, or other settings: computed afresh.
    wider = TrainingData.from_ids(
        data.customer_ids[data.interactions.user],
        data.product_ids[data.interactions.item],
        all_products=[999, 777],
    )
    assert model.refit(wider).similarity is not model.similarity
    assert model.refit(fewer, neighbours=5).similarity is not model.similarity


@pytest.mark.parametrize(("k", "floor"), [(3, 0.0), (5, 0.2), (40, 0.0)])
def test_neighbours_are_the_best_other_products_as_a_full_product_finds_them(k: int, floor: float) -> None:
    rng = np.random.default_rng(k)
    features = sparse.random(30, 12, density=0.3, random_state=rng, format="csr")
    full = (features @ features.T).toarray()
    np.fill_diagonal(full, -np.inf)
    found = _top_similar(features, k, floor).toarray()
    for row in range(30):
        wanted = [c for c in np.argsort(-full[row], kind="stable")[:k] if full[row, c] > floor]
        assert set(np.flatnonzero(found[row])) == set(wanted)
        np.testing.assert_allclose(found[row, wanted], full[row, wanted])


def test_terms_most_products_share_are_left_out_of_a_large_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every text says "grocery"; half say "tea", half "coffee". Only the shared word is too common to count.
    docs = [f"grocery {'tea' if i % 2 else 'coffee'}" for i in range(40)]
    model = ContentBased(texts={}, word_weight=1.0)
    words = model._features(docs)
    assert words.shape[1] == 3  # a small catalogue keeps every term
    monkeypatch.setattr(content, "PRUNE_ABOVE", 39)
    monkeypatch.setattr(content, "COMMON_TERMS", 0.6)
    pruned = model._features(docs).toarray()
    assert pruned.shape[1] == 2
    # Tea and coffee products are no longer alike at all; tea products still match each other.
    assert pruned[0] @ pruned[1] == 0.0 and pruned[1] @ pruned[3] == pytest.approx(1.0)
