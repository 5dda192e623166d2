from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from contract import RecommenderContract

from kizuna.errors import ImportDataError, NotFoundError
from kizuna.ingest.writer import import_run
from kizuna.recommend.base import Recommender
from kizuna.recommend.data import TrainingData, load_training_data
from kizuna.recommend.rules import Rule, RuleBased, load_rules_yaml, rules_from_yaml, rules_to_yaml
from kizuna.recommend.rules_store import list_rules, remove_rule, save_rules
from kizuna.store.engine import Store


def _rule(name: str, trigger: str, target: str, priority: int = 0, **extra: object) -> Rule:
    kind = extra.pop("trigger_kind", "product")
    return Rule.model_validate(
        {"name": name, "trigger_kind": kind, "trigger_value": trigger, "target_sku": target}
        | {"priority": priority}
        | extra
    )


def _group_rules() -> list[Rule]:
    return [
        _rule(f"{a}-{b}", str(a), str(b), 1)
        for group in (500, 510)
        for a in range(group, group + 10)
        for b in range(group, group + 10)
        if a != b
    ]


class TestRuleBased(RecommenderContract):
    def make(self) -> Recommender:
        return RuleBased(rules=_group_rules())


YAML = """\
rules:
  - name: beans-to-filter
    when: {bought: BEANS}
    recommend: FILTER
    priority: 10
    valid_from: 2026-01-01
    valid_until: 2026-03-31
  - name: coffee-to-mug
    when: {category: "食品/コーヒー"}
    recommend: MUG
  - name: tea-viewers
    when: {viewed: TEA}
    recommend: MUG
    priority: -2
"""


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(YAML, encoding="utf-8")
    rules = load_rules_yaml(path)
    assert [r.name for r in rules] == ["beans-to-filter", "coffee-to-mug", "tea-viewers"]
    beans = rules[0]
    assert (beans.trigger_kind, beans.trigger_event, beans.trigger_value) == ("product", "bought", "BEANS")
    # Days are in the default time zone (Asia/Tokyo); the last day counts in full.
    assert beans.valid_from == datetime(2025, 12, 31, 15, tzinfo=UTC)
    assert beans.valid_until == datetime(2026, 3, 31, 15, tzinfo=UTC)
    assert rules[1].trigger_kind == "category" and rules[2].trigger_event == "viewed"
    text = rules_to_yaml(rules)
    assert "valid_until: 2026-03-31" in text and "食品/コーヒー" in text
    assert rules_from_yaml(text) == rules


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  - name: x\n    when: {bought: A}\n    recommend: B\n    priority: high\n",
            "rule 'x', field 'priority'",
        ),
        ("  - name: y\n    when: {bought: A, category: C}\n    recommend: B\n", "rule 'y', field 'when'"),
        ("  - name: z\n    when: {bought: A}\n", "rule 'z', field 'recommend'"),
        (
            "  - name: w\n    when: {bought: A}\n    recommend: B\n    valid_from: 2026-02-01\n"
            "    valid_until: 2026-01-01\n",
            "rule 'w', field 'valid_until': valid_until must be after",
        ),
        (
            "  - name: d\n    when: {bought: A}\n    recommend: B\n  - name: d\n    when: {bought: A}\n"
            "    recommend: C\n",
            "unique",
        ),
    ],
)
def test_bad_rules_name_the_rule_and_field(body: str, message: str) -> None:
    with pytest.raises(ImportDataError, match=message):
        rules_from_yaml("rules:\n" + body, "r.yaml")


def test_priority_orders_targets_and_reason_names_the_rule() -> None:
    data = TrainingData.from_ids([1, 2, 2], [10, 11, 12], all_products=[20, 21, 22])
    rules = [_rule("weak", "10", "20", 1), _rule("strong", "10", "21", 5), _rule("other", "11", "22", 9)]
    ids, scores, reasons = RuleBased(rules=rules).fit(data).recommend(1, n=3)
    assert list(ids[:2]) == [21, 20]
    assert scores[0] > scores[1] > scores[2]
    assert reasons[0].code == "rule" and reasons[0].item_ids == (10,)
    assert reasons[0].detail == {"rule": "strong"}
    # The same target from two triggers keeps the higher priority.
    both = [_rule("a", "10", "20", 1), _rule("b", "11", "20", 7), _rule("c", "10", "21", 3)]
    data = TrainingData.from_ids([1, 1], [10, 11], all_products=[20, 21])
    ids, _, reasons = RuleBased(rules=both).fit(data).recommend(1, n=2)
    assert list(ids) == [20, 21] and reasons[0].detail == {"rule": "b"} and reasons[0].item_ids == (11,)


def test_validity_dates_are_checked_at_as_of() -> None:
    data = TrainingData.from_ids([1, 2], [10, 11], all_products=[20])
    spring = _rule("spring", "10", "20", 1, valid_from="2026-03-01", valid_until="2026-03-31")
    off = _rule("off", "10", "11", 5, active=False)
    for as_of, hit in [("2026-02-28T23:59", False), ("2026-03-01T00:00", True), ("2026-03-31T23:59", True),
                       ("2026-04-01T00:00", False)]:  # fmt: skip
        model = RuleBased(rules=[spring, off], as_of=as_of).fit(data)
        ids, _, reasons = model.recommend(1, n=2)
        assert (reasons[0].code == "rule") is hit, as_of
        assert 11 in ids and all(r.detail.get("rule") != "off" for r in reasons)


def test_category_triggers_match_the_path_and_below_only() -> None:
    categories = {10: "食品/コーヒー", 11: "食品/コーヒー/豆", 12: "食品/コーヒー豆", 13: "飲料>お茶"}
    data = TrainingData.from_ids([1, 2, 3, 4], [10, 11, 12, 13], all_products=[20, 21])
    rules = [
        _rule("coffee", "食品/コーヒー", "20", 1, trigger_kind="category"),
        _rule("tea", "飲料", "21", 1, trigger_kind="category"),
    ]
    model = RuleBased(rules=rules, categories=categories).fit(data)
    for customer, code in [(1, "rule"), (2, "rule"), (3, "popular")]:
        _, _, reasons = model.recommend(customer, n=1, candidates=[20])
        assert reasons[0].code == code, customer
    ids, _, reasons = model.recommend(4, n=1)
    assert list(ids) == [21] and reasons[0].item_ids == (13,)


def _catalogue(store: Store) -> None:
    with import_run(store, "test") as (writer, _):
        writer.write_products(
            [
                {"sku": "BEANS", "title": "豆", "category_path": "食品/コーヒー/豆"},
                {"sku": "FILTER", "title": "フィルター", "category_path": "雑貨"},
                {"sku": "MUG", "title": "マグ", "category_path": "雑貨"},
                {"sku": "TEA", "title": "緑茶", "category_path": "飲料>お茶"},
            ]
        )


def test_store_crud_and_from_store(store: Store) -> None:
    _catalogue(store)
    rules = rules_from_yaml(YAML)
    assert save_rules(store, rules) == 3
    assert [r.name for r in list_rules(store)] == ["beans-to-filter", "coffee-to-mug", "tea-viewers"]
    assert list_rules(store) == sorted(rules, key=lambda r: -r.priority)
    # Saving a rule with a known name replaces it.
    save_rules(store, [rules[1].model_copy(update={"priority": 20, "active": False})])
    assert next((r.name, r.priority) for r in list_rules(store)) == ("coffee-to-mug", 20)
    assert [r.name for r in list_rules(store, active_only=True)] == ["beans-to-filter", "tea-viewers"]
    remove_rule(store, "tea-viewers")
    with pytest.raises(NotFoundError, match="tea-viewers"):
        remove_rule(store, "tea-viewers")
    model = RuleBased.from_store(store, as_of="2026-02-01T12:00:00+09:00")
    assert [r.name for r in model.rules] == ["beans-to-filter"]
    assert model.skus is not None and set(model.skus) == {"BEANS", "FILTER", "MUG", "TEA"}
    assert model.params() == {"as_of": "2026-02-01T12:00:00+09:00"}


def test_unknown_skus_are_refused(store: Store) -> None:
    _catalogue(store)
    with pytest.raises(ImportDataError, match="rule 'x', field 'recommend': unknown SKU, got 'NOPE'"):
        save_rules(store, [_rule("x", "BEANS", "NOPE")])
    with pytest.raises(ImportDataError, match="rule 'y', field 'when': unknown SKU, got 'GONE'"):
        save_rules(store, [_rule("y", "GONE", "MUG")])
    # Category triggers name no SKU; nothing was written by the refused calls.
    save_rules(store, [_rule("z", "食品", "MUG", trigger_kind="category")])
    assert [r.name for r in list_rules(store)] == ["z"]


def test_a_category_no_product_is_in_is_refused(store: Store) -> None:
    _catalogue(store)
    # 食品雑貨 is not 食品 (a category ends at a level); nothing is in it, so the rule could never fire.
    with pytest.raises(ImportDataError, match="rule 'w', field 'when': no product is in this category"):
        save_rules(store, [_rule("w", "食品雑貨", "MUG", trigger_kind="category")])
    save_rules(store, [_rule("v", "飲料", "MUG", trigger_kind="category")])
    assert [r.name for r in list_rules(store)] == ["v"]


def test_a_category_in_the_wrong_case_names_the_one_meant(store: Store) -> None:
    with import_run(store, "test") as (writer, _):
        writer.write_products([{"sku": "A", "title": "Fargo", "category_path": "Movies/Drama/Crime"},
                               {"sku": "B", "title": "Heat", "category_path": "Movies/Action"}])  # fmt: skip
    with pytest.raises(ImportDataError, match=r"expected 'Movies/Drama' \(categories match upper and lower"):
        save_rules(store, [_rule("d", "movies/drama", "B", trigger_kind="category")])
    assert list_rules(store) == []


def test_fitted_from_the_store_recommends_by_sku_and_category(store: Store) -> None:
    _catalogue(store)
    with import_run(store, "test") as (writer, _):
        writer.write_customers([{"external_id": "c1"}, {"external_id": "c2"}])
        when = datetime(2026, 1, 10, tzinfo=UTC)
        orders = [
            {"external_id": f"o{k}", "customer_external_id": f"c{k}", "ordered_at": when} for k in (1, 2)
        ]
        lines = [
            {"order_external_id": "o1", "line_no": 1, "sku": "BEANS", "quantity": 1},
            {"order_external_id": "o2", "line_no": 1, "sku": "TEA", "quantity": 1},
        ]
        writer.write_orders(orders, lines)
    save_rules(
        store,
        [
            _rule("beans-filter", "BEANS", "FILTER", 5),
            _rule("coffee-mug", "食品/コーヒー", "MUG", 9, trigger_kind="category"),
            _rule("tea-mug", "TEA", "MUG", 1, trigger_event="viewed"),
        ],
    )
    model = RuleBased.from_store(store).fit(load_training_data(store))
    assert model.product_ids is not None
    sku_of = {pid: sku for sku, pid in (model.skus or {}).items()}
    c1, c2 = (model.customer_ids if model.customer_ids is not None else [])[:2]
    ids, _, reasons = model.recommend(int(c1), n=2)
    assert [sku_of[int(i)] for i in ids] == ["MUG", "FILTER"]
    assert [r.detail["rule"] for r in reasons] == ["coffee-mug", "beans-filter"]
    # A "viewed" trigger is honoured from any interaction (training data carries no kind).
    ids, _, reasons = model.recommend(int(c2), n=1)
    assert sku_of[int(ids[0])] == "MUG" and reasons[0].detail == {"rule": "tea-mug"}
