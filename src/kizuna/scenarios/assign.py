"""Random assignment that is stable per customer: control groups, the store-wide holdout and A/B arms.

A customer's place is a hash of a salt and their id, not a coin tossed at run time, so a restart, a second
worker or a preview assigns them exactly as the live run does, and the assignment can be recomputed for
measurement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kizuna.config import get_settings


def stable_fraction(salt: str, customer_id: int) -> float:
    """A number in [0, 1) fixed by ``salt`` and ``customer_id``, uniform over customers."""
    digest = hashlib.blake2b(f"{salt}\x1f{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def in_control(scenario: str, customer_id: int, fraction: float) -> bool:
    """Whether the customer is in the scenario's control group (kept back, recorded, never contacted)."""
    return fraction > 0 and stable_fraction(f"control:{scenario}", customer_id) < fraction


def in_holdout(customer_id: int, fraction: float | None = None) -> bool:
    """Whether the customer is in the store-wide holdout, kept out of every scenario that honours it."""
    settings = get_settings()
    share = settings.holdout_fraction if fraction is None else fraction
    return share > 0 and stable_fraction(f"holdout:{settings.holdout_salt}", customer_id) < share


def choose_arm(scenario: str, step: str, customer_id: int, weights: Sequence[tuple[str, float]]) -> str:
    """The arm of a split for the customer, with probability proportional to its weight."""
    total = sum(weight for _, weight in weights)
    point = stable_fraction(f"split:{scenario}:{step}", customer_id) * total
    for name, weight in weights:
        point -= weight
        if point < 0:
            return name
    return weights[-1][0]
