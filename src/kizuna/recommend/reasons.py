"""Why an item was recommended: a small, structured reason that the CLI, API and channels put into words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt

#: Chosen products named as the drivers of one "taste" reason.
MAX_DRIVERS = 2

_TEXT = {
    "en": {
        "popular": "popular with customers",
        "popular_new": "popular with customers (new visitor)",
        "also_bought": "customers who bought {items} also bought this",
        "similar": "similar to {items}, which you bought",
        "taste": "matches what you usually buy, like {items}",
        "bought_with": "{confidence:.0%} of customers who bought {items} also bought this",
        "rule": "recommended with {items}, which you chose",
        "bought_before": "you bought this {times} times; time to stock up again?",
        "popular_in_category": "a best seller in {category}, a category you often choose",
        "evidence": "customers with {evidence} often choose {category} ({probability:.0%} likely)",
    },
    "ja": {
        "popular": "多くのお客様に人気の商品です",
        "popular_new": "多くのお客様に人気の商品です（はじめての方へ）",
        "also_bought": "{items}を購入したお客様はこちらも購入しています",
        "similar": "ご購入の{items}に似た商品です",
        "taste": "{items}などいつもの好みに合う商品です",
        "bought_with": "{items}を購入したお客様の{confidence:.0%}がこちらも購入しています",
        "rule": "ご購入の{items}とあわせておすすめの商品です",
        "bought_before": "これまでに{times}回ご購入の商品です。そろそろ買い足しはいかがですか",
        "popular_in_category": "よくお選びの「{category}」で人気の商品です",
        "evidence": "{evidence}のお客様がよく選ぶ「{category}」の商品です（購入確率{probability:.0%}）",
    },
}
# How one piece of evidence (variable, value) of an "evidence" reason reads.
_EVIDENCE = {
    "en": {
        "age": "age {value}",
        "gender": "gender {value}",
        "region": "region {value}",
        "recency": "last purchase {value} days ago",
        "frequency": "{value} purchases",
        "monetary": "spend {value}",
        "favourite": "favourite category {value}",
    },
    "ja": {
        "age": "{value}歳",
        "gender": "{value}",
        "region": "{value}在住",
        "recency": "最終購入{value}日前",
        "frequency": "購入{value}回",
        "monetary": "購入金額{value}",
        "favourite": "お気に入りが{value}",
    },
}
_VALUES = {"ja": {"female": "女性", "male": "男性", "unknown": "不明"}}


@dataclass(frozen=True)
class Reason:
    """A reason code, the products that drove it, and any detail the algorithm wants to pass on."""

    code: str
    item_ids: tuple[int, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, titles: Mapping[int, str] | None = None, lang: str = "en") -> str:
        """The reason in words (``en`` or ``ja``), naming the driving products by title when given."""
        texts = _TEXT.get(lang, _TEXT["en"])
        template = texts.get(self.code, self.code)
        sep = "、" if lang == "ja" else ", "
        names = sep.join((titles or {}).get(i, f"#{i}") for i in self.item_ids)
        detail = dict(self.detail)
        if "evidence" in detail:
            detail["evidence"] = _evidence_text(detail["evidence"], lang if lang in _TEXT else "en", sep)
        return template.format(items=names, **detail)


def _evidence_text(evidence: Any, lang: str, sep: str) -> str:
    """(variable, value) pairs in words: "age 30-39, favourite category Drama"."""
    if isinstance(evidence, str):
        return evidence
    words = []
    for name, value in evidence:
        shown = _VALUES.get(lang, {}).get(str(value), str(value))
        words.append(_EVIDENCE[lang].get(str(name), f"{name} {{value}}").format(value=shown))
    return sep.join(words)


def taste_reasons(
    contribution: npt.NDArray[np.floating[Any]],
    chosen: npt.NDArray[np.int64],
    product_ids: npt.NDArray[np.int64],
) -> list[Reason]:
    """One reason per recommended product (a column of ``contribution``, whose rows are the customer's
    ``chosen`` columns): "taste", naming the :data:`MAX_DRIVERS` chosen products that contributed most
    (positively) to its score, or "popular" when none did."""
    # One sort for every recommended product at once (this runs on the serving path).
    top = np.argsort(-contribution, axis=0, kind="stable")[:MAX_DRIVERS]
    positive = (np.take_along_axis(contribution, top, 0) > 0).T.tolist()
    ids = product_ids[chosen[top]].T.tolist()
    reasons = []
    for wanted, named in zip(positive, ids, strict=True):
        drivers = tuple(compress(named, wanted))
        reasons.append(Reason("taste", drivers) if drivers else Reason("popular"))
    return reasons
