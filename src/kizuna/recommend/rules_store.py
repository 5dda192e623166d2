"""Merchandising rules in the store: saved after checking what they name, listed, removed.

Rules are checked before anything is written: every SKU must be in the catalogue and every category must
hold a product, so a rule that could never fire is refused with the rule and field named.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kizuna.errors import ImportDataError, NotFoundError
from kizuna.recommend.rules import Rule
from kizuna.store.categories import spelled_like, under_category
from kizuna.store.engine import Store
from kizuna.store.tables import MerchRule, Product


def _to_rule(row: MerchRule) -> Rule:
    return Rule(
        name=row.name,
        trigger_kind=row.trigger_kind,
        trigger_value=row.trigger_value,
        trigger_event=row.trigger_event,
        target_sku=row.target_sku,
        priority=row.priority,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        active=row.active,
    )


def check_rules(store: Store, rules: Sequence[Rule], path: Path | str | None = None) -> None:
    """Raise :class:`ImportDataError` naming the rule and field of the first SKU not in the catalogue, or
    of the first category no product is in (a rule that could never fire), with the category meant when
    only upper and lower case differ."""
    wanted = {r.target_sku for r in rules} | {r.trigger_value for r in rules if r.trigger_kind == "product"}
    with store.session() as session:
        known = set(session.scalars(select(Product.sku).where(Product.sku.in_(wanted))))
        empty = [r for r in rules if r.trigger_kind == "category" and not _holds_products(session, r)]
        paths = session.scalars(select(Product.category_path).distinct()).all() if empty else []
    for r in rules:
        for field, sku in (("when", r.trigger_value), ("recommend", r.target_sku)):
            if (field == "recommend" or r.trigger_kind == "product") and sku not in known:
                raise ImportDataError(path, f"rule '{r.name}', field '{field}': unknown SKU", got=sku)
    for r in empty:
        hint = spelled_like((p for p in paths if p), r.trigger_value)
        expected = (
            f"'{hint}' (categories match upper and lower case exactly)"
            if hint
            else "a category some product is in"
        )
        raise ImportDataError(
            path, f"rule '{r.name}', field 'when': no product is in this category", expected=expected,
            got=r.trigger_value,
        )  # fmt: skip


def _holds_products(session: Session, rule: Rule) -> bool:
    query = select(Product.id).where(under_category(Product.category_path, rule.trigger_value)).limit(1)
    return session.scalars(query).first() is not None


def save_rules(store: Store, rules: Sequence[Rule], *, path: Path | str | None = None) -> int:
    """Add or replace (by name) ``rules`` in one transaction after checking their SKUs; returns how many."""
    check_rules(store, rules, path)
    with store.session() as session, session.begin():
        existing = {
            row.name: row
            for row in session.scalars(select(MerchRule).where(MerchRule.name.in_([r.name for r in rules])))
        }
        for r in rules:
            row = existing.get(r.name) or MerchRule(name=r.name)
            for key, value in r.model_dump(exclude={"name"}).items():
                setattr(row, key, value)
            session.add(row)
    return len(rules)


def list_rules(store: Store, *, active_only: bool = False) -> list[Rule]:
    """Rules in the store, highest priority first, then by name."""
    query = select(MerchRule).order_by(MerchRule.priority.desc(), MerchRule.name)
    if active_only:
        query = query.where(MerchRule.active.is_(True))
    with store.session() as session:
        return [_to_rule(row) for row in session.scalars(query)]


def remove_rule(store: Store, name: str) -> None:
    """Delete the rule called ``name``.

    Raises:
        NotFoundError: no rule has that name.
    """
    with store.session() as session, session.begin():
        if session.execute(delete(MerchRule).where(MerchRule.name == name)).rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"no rule named '{name}'; see `kizuna rules list`")
