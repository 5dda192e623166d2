from __future__ import annotations

from collections import Counter

import pytest

from kizuna.config import get_settings
from kizuna.scenarios.assign import choose_arm, in_control, in_holdout, stable_fraction


def test_the_fraction_is_stable_and_differs_by_salt() -> None:
    assert stable_fraction("a", 7) == stable_fraction("a", 7)
    assert stable_fraction("a", 7) != stable_fraction("b", 7)
    assert all(0 <= stable_fraction("a", i) < 1 for i in range(1_000))


def test_the_control_group_has_the_asked_share_and_differs_between_scenarios() -> None:
    first = {i for i in range(20_000) if in_control("welcome", i, 0.1)}
    second = {i for i in range(20_000) if in_control("sale", i, 0.1)}
    assert 1_800 < len(first) < 2_200
    assert len(first & second) < 400  # independent draws overlap by about 1 %
    assert not any(in_control("welcome", i, 0.0) for i in range(1_000))


def test_the_holdout_follows_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(in_holdout(i) for i in range(1_000))
    monkeypatch.setenv("KIZUNA_HOLDOUT_FRACTION", "0.05")
    get_settings.cache_clear()
    held = {i for i in range(20_000) if in_holdout(i)}
    assert 800 < len(held) < 1_200
    monkeypatch.setenv("KIZUNA_HOLDOUT_SALT", "2027")
    get_settings.cache_clear()
    redrawn = {i for i in range(20_000) if in_holdout(i)}
    assert 800 < len(redrawn) < 1_200 and redrawn != held


def test_arms_follow_their_weights() -> None:
    counts = Counter(choose_arm("s", "split-1", i, [("A", 3.0), ("B", 1.0)]) for i in range(20_000))
    assert 14_400 < counts["A"] < 15_600
    assert counts["A"] + counts["B"] == 20_000
    assert choose_arm("s", "split-1", 42, [("A", 1.0), ("B", 1.0)]) == choose_arm(
        "s", "split-1", 42, [("A", 1.0), ("B", 1.0)]
    )
