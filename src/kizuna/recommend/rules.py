"""Merchandising rules: "customers who chose A, or anything in category X, are shown B".

Rules are kept in the ``merch_rules`` table and exchanged as YAML::

    rules:
      - name: beans-to-filter
        when: {bought: SKU-A}          # or {category: "食品/コーヒー"}, or {viewed: SKU-A}
        recommend: SKU-B
        priority: 10
        valid_from: 2026-01-01         # dates are days in the default time zone; until is inclusive
        valid_until: 2026-03-31

:class:`RuleBased` turns the rules valid at ``as_of`` into a sparse trigger-item × target-item matrix. A
customer's score for a target is the highest priority among rules whose trigger they chose, plus a small
popularity tie-breaker (below one, so it never overturns a priority); products no rule targets score only
the tie-breaker, so they follow the rule hits in popularity order. Training data carries no interaction kind,
so ``bought`` and ``any`` triggers match every interaction, and ``viewed`` triggers are treated as ``any``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from scipy import sparse
from sqlalchemy import select

from kizuna.errors import ImportDataError
from kizuna.moments import aware, default_zone, parse_moment
from kizuna.recommend.base import FloatArray, IntArray, Recommender
from kizuna.recommend.data import TrainingData
from kizuna.recommend.reasons import Reason
from kizuna.store.categories import in_category
from kizuna.store.engine import Store
from kizuna.store.tables import Product
from kizuna.store.types import utcnow

TriggerKind = Literal["product", "category"]
TriggerEvent = Literal["bought", "viewed", "any"]
#: Weight of popularity in a score; below one so it only breaks ties between equal priorities.
TIE_BREAK = 0.5


class Rule(BaseModel):
    """One merchandising rule. Dates given without a time are whole days in the default time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    trigger_kind: TriggerKind
    trigger_value: str
    trigger_event: TriggerEvent = "any"
    target_sku: str
    priority: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool = True

    @field_validator("name", "trigger_value", "target_sku")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _moment(cls, value: Any, info: ValidationInfo) -> Any:
        # A bare day starts the validity at its midnight, or ends it at the next midnight (inclusive day).
        if isinstance(value, str) and len(value.strip()) == 10:
            value = date.fromisoformat(value.strip())
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value + timedelta(days=1) if info.field_name == "valid_until" else value
            return datetime.combine(day, time(), default_zone())
        return value

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return aware(value) if value is not None else None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def valid_at(self, moment: datetime) -> bool:
        """Whether the rule is active and ``moment`` lies in ``[valid_from, valid_until)``."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= moment)
            and (self.valid_until is None or moment < self.valid_until)
        )

    def to_yaml_dict(self) -> dict[str, Any]:
        """The rule in the YAML layout (``when`` / ``recommend``), days written back as dates."""
        key = "category" if self.trigger_kind == "category" else self.trigger_event
        out: dict[str, Any] = {"name": self.name, "when": {key: self.trigger_value}}
        out |= {"recommend": self.target_sku, "priority": self.priority}
        for field, moment in (("valid_from", self.valid_from), ("valid_until", self.valid_until)):
            if moment is None:
                continue
            local = moment.astimezone(default_zone())
            if local.time() == time():
                out[field] = local.date() - timedelta(days=1 if field == "valid_until" else 0)
            else:
                out[field] = local.isoformat()
        if not self.active:
            out["active"] = False
        return out


#: Rule fields by their name in the YAML layout, for error messages.
_YAML_FIELD = {"trigger_value": "when", "target_sku": "recommend"}


class _YamlRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    when: dict[Literal["bought", "viewed", "any", "category"], str]
    recommend: str
    priority: int = 0
    valid_from: date | datetime | None = None
    valid_until: date | datetime | None = None
    active: bool = True

    @field_validator("when")
    @classmethod
    def _one_trigger(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) != 1:
            raise ValueError("give exactly one of bought, viewed, any or category")
        return value

    def rule(self) -> Rule:
        ((key, trigger),) = self.when.items()
        return Rule(
            name=self.name,
            trigger_kind="category" if key == "category" else "product",
            trigger_value=trigger,
            trigger_event="any" if key == "category" else key,
            target_sku=self.recommend,
            priority=self.priority,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            active=self.active,
        )


# -- YAML -----------------------------------------------------------------------------------------
def rule_from_dict(item: Any, path: Path | str | None = None, *, number: int = 1) -> Rule:
    """One rule from its YAML mapping (``name``, ``when``, ``recommend``, ``priority``, validity dates).

    Raises:
        ImportDataError: the rule is invalid; the message names the rule and the field.
    """
    name = item.get("name", f"#{number}") if isinstance(item, dict) else f"#{number}"
    try:
        return _YamlRule.model_validate(item).rule()
    except ValidationError as exc:
        err = exc.errors()[0]
        parts = [_YAML_FIELD.get(str(p), str(p)) for p in err["loc"] if p != "[key]"]
        # The only check across fields is the order of the validity dates.
        field = ".".join(parts) or "valid_until"
        problem = f"rule '{name}', field '{field}': {err['msg'].removeprefix('Value error, ')}"
        raise ImportDataError(path, problem, got=err.get("input") if parts else None) from exc


def rules_from_yaml(text: str, path: Path | str | None = None) -> list[Rule]:
    """Parse rules from YAML text.

    Raises:
        ImportDataError: the YAML is malformed, or a rule is invalid (the message names rule and field).
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportDataError(path, f"not valid YAML ({exc})", line=mark.line + 1 if mark else None) from exc
    items = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ImportDataError(path, "no rule list", expected="a top-level 'rules:' list", got=doc)
    rules = [rule_from_dict(item, path, number=k) for k, item in enumerate(items, start=1)]
    names = [r.name for r in rules]
    if dup := sorted({n for n in names if names.count(n) > 1}):
        raise ImportDataError(path, f"rule names must be unique: '{dup[0]}' is given twice")
    return rules


def load_rules_yaml(path: Path | str) -> list[Rule]:
    """Read rules from a YAML file (see the module docstring for the layout)."""
    return rules_from_yaml(Path(path).read_text(encoding="utf-8"), path)


def rules_to_yaml(rules: Iterable[Rule]) -> str:
    """The rules as YAML that :func:`rules_from_yaml` reads back to the same rules."""
    doc = {"rules": [r.to_yaml_dict() for r in rules]}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# -- the recommender ------------------------------------------------------------------------------
class RuleBased(Recommender):
    """Recommends what merchandising rules say, strongest priority first.

    Args:
        rules: the rules (``from_store`` reads the active ones from the store).
        categories: product id → category path, for category triggers.
        skus: SKU → product id; without it a SKU is read as the product id itself.
        as_of: ISO time at which validity dates are checked while fitting (default: now).
    """

    name = "rules"

    def __init__(
        self,
        rules: Sequence[Rule] | None = None,
        categories: Mapping[int, str] | None = None,
        skus: Mapping[str, int] | None = None,
        as_of: str | None = None,
    ) -> None:
        super().__init__()
        self.rules = list(rules or [])
        self.categories = dict(categories or {})
        self.skus = dict(skus) if skus is not None else None
        self.as_of = as_of
        self.strength: sparse.csr_matrix | None = None
        self.rule_at: IntArray = np.array([], dtype=np.int64)
        self.rule_names: np.ndarray[Any, np.dtype[np.str_]] = np.array([], dtype=str)

    @classmethod
    def from_store(cls, store: Store, **params: Any) -> Self:
        """A model with the store's active rules and its catalogue (SKUs and category paths)."""
        with store.session() as session:
            catalogue = session.execute(select(Product.id, Product.sku, Product.category_path)).all()
        from kizuna.recommend.rules_store import list_rules

        params.setdefault("rules", list_rules(store, active_only=True))
        params.setdefault("skus", {sku: pid for pid, sku, _ in catalogue})
        params.setdefault("categories", {pid: path for pid, _, path in catalogue if path})
        return cls(**params)

    def params(self) -> dict[str, Any]:
        # Rules and catalogue live in the artefact's arrays, so only JSON-able settings are kept here.
        return {"as_of": self.as_of}

    def _product_id(self, sku: str) -> int | None:
        if self.skus is not None:
            return self.skus.get(sku)
        return int(sku) if sku.lstrip("-").isdigit() else None

    def _trigger_columns(self, rule: Rule) -> list[int]:
        if rule.trigger_kind == "product":
            pid = self._product_id(rule.trigger_value)
            col = self._column_of.get(pid) if pid is not None else None
            return [] if col is None else [col]
        return [
            self._column_of[pid]
            for pid, path in self.categories.items()
            if pid in self._column_of and in_category(path, rule.trigger_value)
        ]

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        moment = parse_moment(self.as_of) if self.as_of else utcnow()
        valid = [r for r in self.rules if r.valid_at(moment)]
        lowest = min((r.priority for r in valid), default=0)
        best: dict[tuple[int, int], tuple[int, int]] = {}  # (trigger, target) → (priority, rule)
        for k, rule in enumerate(valid):
            pid = self._product_id(rule.target_sku)
            target = self._column_of.get(pid) if pid is not None else None
            if target is None:
                continue
            for trigger in self._trigger_columns(rule):
                if trigger != target and best.get((trigger, target), (lowest - 1, 0))[0] < rule.priority:
                    best[(trigger, target)] = (rule.priority, k)
        n = data.n_items
        keys = sorted(best)
        rows = np.array([t for t, _ in keys], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        cols = np.array([c for _, c in keys], dtype=np.int32)
        # Shifted so the weakest valid rule still scores 1 and a missing cell (0) means "no rule".
        strength = np.array([best[k][0] - lowest + 1 for k in keys], dtype=np.float64)
        self.strength = sparse.csr_matrix((strength, cols, indptr), shape=(n, n))
        # Built from sorted keys, so entry k of ``rule_at`` belongs to entry k of ``strength.data``.
        self.rule_at = np.array([best[k][1] for k in keys], dtype=np.int64)
        self.rule_names = np.array([r.name for r in valid], dtype=str)

    def _hits(self, users: IntArray, triggers: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Every rule cell that (user, chosen trigger) pairs reach: (user, trigger, entry in ``strength``)."""
        assert self.strength is not None
        counts = np.diff(self.strength.indptr)[triggers]
        shift = self.strength.indptr[triggers] - np.cumsum(counts) + counts
        entries = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(shift, counts)
        return np.repeat(users, counts), np.repeat(triggers, counts), entries

    def _tie_break(self) -> FloatArray:
        popularity = self._fitted()[2]
        return np.asarray(TIE_BREAK * popularity / (popularity.max(initial=0.0) + 1.0), dtype=np.float64)

    def _score(self, rows: IntArray) -> FloatArray:
        assert self.seen is not None and self.strength is not None
        chosen = self.seen[rows].tocoo()
        users, _, entries = self._hits(chosen.row.astype(np.int64), chosen.col.astype(np.int64))
        best = np.zeros((len(rows), self.strength.shape[1]), dtype=np.float64)
        np.maximum.at(best, (users, self.strength.indices[entries]), self.strength.data[entries])
        return best + self._tie_break()

    def _fallback_scores(self) -> FloatArray:
        return self._tie_break()

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.seen is not None and self.strength is not None and self.product_ids is not None
        chosen = self.seen.indices[self.seen.indptr[row] : self.seen.indptr[row + 1]].astype(np.int64)
        _, triggers, entries = self._hits(np.zeros(len(chosen), dtype=np.int64), chosen)
        slot = np.full(self.strength.shape[1], -1, dtype=np.int64)
        slot[items] = np.arange(len(items))
        at = slot[self.strength.indices[entries]]
        keep = at >= 0
        at, triggers, entries = at[keep], triggers[keep], entries[keep]
        # Per recommended item, the strongest rule; among equals the trigger with the lowest column.
        order = np.lexsort((triggers, -self.strength.data[entries], at))
        reasons = [Reason("popular") for _ in items]
        strongest = order[np.r_[True, at[order][1:] != at[order][:-1]]] if len(order) else order
        for k in strongest:
            name = str(self.rule_names[self.rule_at[entries[k]]])
            reasons[at[k]] = Reason("rule", (int(self.product_ids[triggers[k]]),), {"rule": name})
        return reasons

    def _item_similarity(self, col: int) -> FloatArray:
        assert self.strength is not None
        # What the product's rules point at first, then customers' overlap (cosine, below one).
        cosine = super()._item_similarity(col)
        return np.asarray(self.strength[col].toarray().ravel() + TIE_BREAK * cosine, dtype=np.float64)

    def _state(self) -> dict[str, Any]:
        return {"strength": self.strength, "rule_at": self.rule_at, "rule_names": self.rule_names}

    def _restore(self, state: dict[str, Any]) -> None:
        self.strength = state["strength"]
        self.rule_at = state["rule_at"]
        self.rule_names = state["rule_names"]
