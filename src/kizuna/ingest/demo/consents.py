"""Consent histories for one block: a decision per purpose at sign-up, and some changes of mind later.

Most customers allow tracking and personalisation; fewer allow email, direct mail and ads. Some who agreed
withdraw later, and a few who declined opt in later, through the preference centre: each change is a second
history row, as :mod:`kizuna.privacy.consent` expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.privacy.consent import Purpose, Status

#: (purpose, chance of granting at sign-up, chance of withdrawing later, chance of opting in later).
PURPOSES: tuple[tuple[Purpose, float, float, float], ...] = (
    (Purpose.TRACKING, 0.93, 0.03, 0.05),
    (Purpose.PERSONALISATION, 0.88, 0.03, 0.05),
    (Purpose.EMAIL, 0.72, 0.06, 0.05),
    (Purpose.DIRECT_MAIL, 0.57, 0.05, 0.04),
    (Purpose.ADS, 0.42, 0.08, 0.04),
)
STATUSES = (Status.GRANTED.value, Status.DENIED.value, Status.WITHDRAWN.value)
SOURCES = ("signup_form", "preference_center")
POLICY_VERSION = "2024-04"


@dataclass
class ConsentBatch:
    """A block's consent rows (``cust`` indexes the block), and when each customer may be tracked.

    Tracking is allowed from ``tracking_from`` until (not including) ``tracking_until``, in epoch seconds.
    """

    cust: np.ndarray
    purpose: np.ndarray
    status: np.ndarray
    source: np.ndarray
    at: np.ndarray
    tracking_from: np.ndarray
    tracking_until: np.ndarray


def draw_consents(rng: np.random.Generator, signup: np.ndarray, end: int) -> ConsentBatch:
    """Draw consent histories for customers who signed up at ``signup`` (epoch seconds) up to ``end``."""
    n = len(signup)
    parts: list[tuple[np.ndarray, ...]] = []
    never = np.iinfo(np.int64).max
    tracking_from = np.zeros(n, dtype=np.int64)
    tracking_until = np.full(n, never, dtype=np.int64)
    everyone = np.arange(n)
    for index, (_purpose, grant, withdraw, opt_in) in enumerate(PURPOSES):
        granted = rng.random(n) < grant
        change = rng.random(n) < np.where(granted, withdraw, opt_in)
        later = signup + (rng.random(n) * (end - signup)).astype(np.int64)
        later = np.maximum(later, signup + 1)
        change &= later <= end
        parts.append(
            (everyone, np.full(n, index), np.where(granted, 0, 1), np.zeros(n, dtype=np.int64), signup)
        )
        moved = np.flatnonzero(change)
        parts.append(
            (
                moved,
                np.full(len(moved), index),
                np.where(granted[moved], 2, 0),
                np.ones(len(moved), dtype=np.int64),
                later[moved],
            )
        )
        if index == 0:
            # Events are only recorded while tracking is allowed.
            tracking_from = np.where(granted, 0, np.where(change, later, never))
            tracking_until = np.where(granted & change, later, never)
    cust, purpose, status, source, at = (np.concatenate(col) for col in zip(*parts, strict=True))
    order = np.lexsort((at, cust))
    return ConsentBatch(
        cust=cust[order],
        purpose=purpose[order],
        status=status[order],
        source=source[order],
        at=at[order],
        tracking_from=tracking_from,
        tracking_until=tracking_until,
    )
