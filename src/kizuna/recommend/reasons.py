"""Why an item was recommended: a small, structured reason that the CLI, API and channels put into words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TEXT = {
    "en": {
        "popular": "popular with customers",
        "popular_new": "popular with customers (new visitor)",
        "also_bought": "customers who bought {items} also bought this",
        "similar": "similar to {items}, which you bought",
        "taste": "matches what you usually buy, like {items}",
        "bought_with": "{confidence:.0%} of customers who bought {items} also bought this",
        "rule": "recommended with {items}, which you chose",
    },
    "ja": {
        "popular": "多くのお客様に人気の商品です",
        "popular_new": "多くのお客様に人気の商品です（はじめての方へ）",
        "also_bought": "{items}を購入したお客様はこちらも購入しています",
        "similar": "ご購入の{items}に似た商品です",
        "taste": "{items}などいつもの好みに合う商品です",
        "bought_with": "{items}を購入したお客様の{confidence:.0%}がこちらも購入しています",
        "rule": "ご購入の{items}とあわせておすすめの商品です",
    },
}


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
        return template.format(items=names, **self.detail)
