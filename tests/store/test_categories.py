"""Category prefixes: Python and SQL agree, on both stores."""

from __future__ import annotations

from sqlalchemy import select

from kizuna.store import Store
from kizuna.store.categories import category_prefix_of, in_category, under_category
from kizuna.store.tables import Product

PATHS = [
    "食品",
    "食品/コーヒー",
    "食品/コーヒー/豆",
    "食品 > 茶",
    "食品  /菓子",
    "食品雑貨",
    "食品_x",
    "Food/Coffee",
    "food/coffee",
    None,
]
PREFIXES = ["食品", "食品/", "食品/コーヒー", "食品/コーヒー豆", "食品_", "Food", "food", "/"]


def test_in_category() -> None:
    assert in_category("食品/コーヒー/豆", "食品/コーヒー")
    assert in_category("食品 > 茶", "食品")
    assert not in_category("食品雑貨", "食品")
    assert not in_category("食品/コーヒー豆", "食品/コーヒー")
    assert not in_category("food/coffee", "Food")
    assert not in_category(None, "食品") and not in_category("食品", "/")
    assert category_prefix_of("食品/ > ") == "食品"


def test_sql_agrees_with_python(store: Store) -> None:
    with store.session() as session:
        for k, path in enumerate(PATHS):
            session.add(Product(sku=f"P{k}", title="x", category_path=path))
        session.commit()
        for prefix in PREFIXES:
            found = set(
                session.scalars(select(Product.sku).where(under_category(Product.category_path, prefix)))
            )
            expected = {f"P{k}" for k, path in enumerate(PATHS) if in_category(path, prefix)}
            assert found == expected, prefix
