"""Serving keeps loaded artefacts in memory by path, and picks up a retrained model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kizuna.errors import NotFoundError
from kizuna.recommend import service
from kizuna.recommend.base import Recommender
from kizuna.recommend.service import loaded_model, preload, recommend_for, train
from kizuna.store import Store
from kizuna.store.tables import Customer, Order, OrderLine, Product

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def _orders(store: Store, sku: str, buyers: int, start: int) -> None:
    with store.session() as s, s.begin():
        product = s.scalars(select(Product).where(Product.sku == sku)).one_or_none()
        if product is None:
            product = Product(sku=sku, title=sku.title())
            s.add(product)
            s.flush()
        for n in range(start, start + buyers):
            customer = Customer(external_id=f"buyer-{n}")
            s.add(customer)
            s.flush()
            order = Order(external_id=f"order-{n}", customer_id=customer.id, ordered_at=WHEN)
            order.lines.append(OrderLine(line_no=1, product_id=product.id))
            s.add(order)


def test_a_model_is_read_once_while_its_file_is_unchanged(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orders(store, "tea", 5, 0)
    _orders(store, "beans", 2, 100)
    with store.session() as s, s.begin():
        s.add(Customer(external_id="me"))
    train(store, ["popularity"], out=tmp_path)
    reads: list[Path] = []
    real_load = Recommender.load

    def counting_load(path: Path | str) -> Recommender:
        reads.append(Path(path))
        return real_load(path)

    monkeypatch.setattr(service.Recommender, "load", staticmethod(counting_load))
    first = recommend_for(store, "me", algorithm_name="popularity", n=2, models=tmp_path)
    second = recommend_for(store, "me", algorithm_name="popularity", n=2, models=tmp_path)
    assert [p.sku for p in first] == [p.sku for p in second] == ["tea", "beans"]
    assert reads == [tmp_path / "popularity.npz"]
    assert loaded_model(tmp_path / "popularity.npz") is loaded_model(tmp_path / "popularity.npz")


def test_a_retrained_model_is_picked_up(store: Store, tmp_path: Path) -> None:
    _orders(store, "tea", 3, 0)
    _orders(store, "beans", 1, 100)
    with store.session() as s, s.begin():
        s.add(Customer(external_id="me"))
    train(store, ["popularity"], out=tmp_path)
    before = recommend_for(store, "me", algorithm_name="popularity", n=2, models=tmp_path)
    assert before[0].sku == "tea"
    old = loaded_model(tmp_path / "popularity.npz")

    _orders(store, "beans", 6, 200)  # beans become the best-seller, and a new customer makes the file larger
    train(store, ["popularity"], out=tmp_path)
    after = recommend_for(store, "me", algorithm_name="popularity", n=2, models=tmp_path)
    assert after[0].sku == "beans"
    assert loaded_model(tmp_path / "popularity.npz") is not old


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="kizuna train"):
        loaded_model(tmp_path / "nothing.npz")


def test_preload_fills_the_cache_with_the_models_found(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orders(store, "tea", 3, 0)
    train(store, ["popularity"], out=tmp_path)
    (tmp_path / "default.npz").write_bytes(b"not a model")  # damaged: left for the request to report
    assert preload(tmp_path, ["default", "popularity", "nothing"]) == ["popularity"]

    def no_reading(path: Path | str) -> Recommender:
        raise AssertionError(f"read {path} again")

    monkeypatch.setattr(service.Recommender, "load", staticmethod(no_reading))
    assert loaded_model(tmp_path / "popularity.npz").name == "popularity"
