"""Uplift statistics against published values and formulas derived by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kizuna.measure.stats import Summary, mean_uplift, proportion_uplift, verdict, wilson_interval


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score).
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((6, 7, 2, 7), 0.0582, 0.8062),
        ((5, 56, 0, 29), -0.0381, 0.1926),
        ((0, 10, 0, 20), -0.1611, 0.2775),
        ((10, 10, 0, 20), 0.6791, 1.0000),
    ],
)
def test_newcombe_hybrid_interval_matches_the_published_table(
    counts: tuple[int, int, int, int], low: float, high: float
) -> None:
    u = proportion_uplift(*counts, metric="conversion_rate")
    assert (round(u.low, 4), round(u.high, 4)) == (low, high)
    assert u.difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])


def test_wilson_interval_by_the_formula() -> None:
    # 81 of 263 (Wilson's formula with z = 1.959964): the textbook example's 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        wilson_interval(5, 3)


def test_p_value_is_the_pooled_z_test() -> None:
    u = proportion_uplift(56, 70, 48, 80, metric="response_rate")
    pooled = 104 / 150
    z = (56 / 70 - 48 / 80) / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert u.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))


def test_welch_interval_and_p_value_agree_with_the_raw_data() -> None:
    rng = np.random.default_rng(7)
    treated = rng.gamma(2.0, 3.0, 400) * (rng.random(400) < 0.3)
    control = rng.gamma(2.0, 2.0, 250) * (rng.random(250) < 0.2)
    u = mean_uplift(_summary(treated), _summary(control), metric="revenue_per_customer")
    reference = stats.ttest_ind(treated, control, equal_var=False)
    assert u.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    a, b = treated.var(ddof=1) / treated.size, control.var(ddof=1) / control.size
    df = (a + b) ** 2 / (a**2 / (treated.size - 1) + b**2 / (control.size - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(a + b)
    d = treated.mean() - control.mean()
    assert (u.low, u.high) == pytest.approx((d - half, d + half))
    assert u.relative == pytest.approx(d / control.mean())


def test_welch_needs_two_customers_a_group() -> None:
    with pytest.raises(ValueError, match="two customers or more"):
        mean_uplift(Summary(1, 5.0, 25.0), Summary(10, 5.0, 25.0), metric="revenue_per_customer")


def test_verdict_in_english_and_japanese() -> None:
    assert verdict(0.01, 0.05) == "significant at 95 %: the interval lies above 0"
    assert verdict(-0.05, -0.01) == "significant at 95 %: the interval lies below 0"
    assert verdict(-0.01, 0.05) == "not significant: the interval includes 0"
    assert verdict(-0.01, 0.05, lang="ja") == "有意ではない: 区間が 0 を含む"
    assert verdict(0.01, 0.05, 0.9, lang="ja") == "90 % 水準で有意（プラスの効果）"
    u = proportion_uplift(9, 10, 3, 10, metric="response_rate")
    assert u.significant and u.verdict().startswith("significant")


def _summary(values: np.ndarray) -> Summary:
    return Summary(int(values.size), float(values.sum()), float((values**2).sum()))
