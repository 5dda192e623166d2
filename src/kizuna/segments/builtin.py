"""Built-in segments a retailer wants on day one, as plain condition data with an English and a Japanese
description. ``kizuna segments add --builtin NAME`` stores one; ``kizuna segments builtins`` lists them.

They use only the condition language, so each can be copied, changed and added as a segment of one's own
(``kizuna segments show NAME`` prints it as YAML).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kizuna.errors import ConfigError
from kizuna.segments.conditions import parse_condition
from kizuna.segments.registry import SegmentDefinition

#: Spend over 365 days (in the store's currency, yen for the demo store) from which a customer is a VIP.
VIP_SPEND = 50_000


@dataclass(frozen=True)
class Builtin:
    """A built-in segment: its name, what it means (English and Japanese) and its condition."""

    name: str
    en: str
    ja: str
    condition: dict[str, Any]

    @property
    def description(self) -> str:
        """Both descriptions, as stored with the segment."""
        return f"{self.en} / {self.ja}"

    def definition(self, name: str | None = None, description: str | None = None) -> SegmentDefinition:
        """The segment to store, under ``name`` (default: the built-in's own name)."""
        condition = parse_condition(self.condition, f"built-in segment {self.name!r}")
        return SegmentDefinition(name or self.name, condition, description or self.description)


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin(
            "trial-only",
            "Bought trial items and nothing else yet: the first full-size purchase is the next step.",
            "お試し商品だけを購入した顧客（本商品への引き上げ対象）",
            {"trial_only": True},
        ),
        Builtin(
            "lapsed",
            "No order in the last 90 days, after at least one before.",
            "90日以上購入のない休眠顧客（過去に購入あり）",
            {"measure": "days_since_last_order", "gte": 90},
        ),
        Builtin(
            "active-subscribers",
            "A subscription product ordered within the last 45 days (one monthly cycle with grace).",
            "定期購入が継続中の顧客（45日以内に定期商品の注文あり）",
            {"active_subscription": True, "within_days": 45},
        ),
        Builtin(
            "new-customers",
            "First order within the last 30 days.",
            "初回購入から30日以内の新規顧客",
            {"measure": "days_since_first_order", "lt": 30},
        ),
        Builtin(
            "vip",
            f"Spent {VIP_SPEND:,} or more in the last 365 days.",
            f"過去365日の購入金額が{VIP_SPEND:,}円以上の優良顧客",
            {"measure": "monetary", "within_days": 365, "gte": VIP_SPEND},
        ),
        Builtin(
            "cart-abandoners",
            "Added a product to the cart in the last 3 days and placed no order in those days.",
            "3日以内にカートに商品を入れたが購入していない顧客（カゴ落ち）",
            {
                "all": [
                    {"event": "Product Added", "within_days": 3},
                    {"not": {"measure": "orders", "within_days": 3, "gte": 1}},
                ]
            },
        ),
        Builtin(
            "email-reachable",
            "May be sent marketing e-mail now (consent for e-mail in force).",
            "メール配信の同意がある顧客",
            {"consent": "email"},
        ),
        Builtin(
            "dm-reachable",
            "May be sent printed direct mail now (consent for direct mail in force).",
            "ダイレクトメール（紙DM）送付の同意がある顧客",
            {"consent": "direct_mail"},
        ),
    )
}


def builtin(name: str) -> Builtin:
    """The built-in segment called ``name``.

    Raises:
        ConfigError: there is none; the message lists the built-ins.
    """
    found = BUILTINS.get(name)
    if found is None:
        raise ConfigError(f"no built-in segment {name!r}: use one of {', '.join(BUILTINS)}")
    return found
