"""Uplift statistics: a treatment group against a control group, with a confidence interval and a verdict.

Two kinds of outcome:

- **Rates** (visited, responded, converted): the difference of two proportions with the Newcombe hybrid
  score interval ("method 10" of Newcombe, R. G. (1998), *Interval estimation for the difference between
  independent proportions: comparison of eleven methods*, Statistics in Medicine 17, 873-890), built from
  the two groups' Wilson score intervals. Unlike the Wald interval it keeps its coverage for small groups
  and rates near 0 or 1. The p-value is that of the pooled two-proportion z-test (two-sided).
- **Amounts per customer** (revenue): the difference of two means with Welch's t interval (unequal
  variances, Welch-Satterthwaite degrees of freedom) and Welch's two-sided t-test; groups are given as
  count, sum and sum of squares, so millions of customers are summed in SQL and never loaded.

The verdict rule: an uplift is *significant* when its interval at the chosen confidence (95 % unless told)
excludes 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats as _scipy

Lang = Literal["en", "ja"]
Metric = Literal["response_rate", "conversion_rate", "revenue_per_customer"]


@dataclass(frozen=True)
class Summary:
    """A group's outcome as sums: customers, their total and the total of squares (for a variance)."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        """The mean per customer (0 for an empty group)."""
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 in the denominator); 0 for fewer than two customers."""
        if self.n < 2:
            return 0.0
        return max(self.squares - self.total * self.total / self.n, 0.0) / (self.n - 1)


@dataclass(frozen=True)
class Uplift:
    """One outcome of a treatment against the control: the two values, their difference and its interval."""

    metric: str
    treatment: float
    control: float
    difference: float
    low: float
    high: float
    p_value: float
    confidence: float
    method: str

    @property
    def relative(self) -> float | None:
        """The difference as a share of the control's value (None when the control's is 0)."""
        return self.difference / self.control if self.control else None

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return self.low > 0 or self.high < 0

    def verdict(self, lang: Lang = "en") -> str:
        """The verdict in plain words, English or Japanese."""
        return verdict(self.low, self.high, self.confidence, lang)


def verdict(low: float, high: float, confidence: float = 0.95, lang: Lang = "en") -> str:
    """``significant at 95 %`` (and which way) when ``[low, high]`` excludes 0, else ``not significant``."""
    level = f"{confidence * 100:g} %"
    if low > 0 or high < 0:
        if lang == "ja":
            side = "プラス" if low > 0 else "マイナス"
            return f"{level} 水準で有意（{side}の効果）"
        side = "above" if low > 0 else "below"
        return f"significant at {level}: the interval lies {side} 0"
    if lang == "ja":
        return "有意ではない: 区間が 0 を含む"
    return "not significant: the interval includes 0"


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    return float(_scipy.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson 1927); (0, 1) for an empty group."""
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    low = 0.0 if successes == 0 else max((centre - spread) / scale, 0.0)
    high = 1.0 if successes == n else min((centre + spread) / scale, 1.0)
    return min(low, p), max(high, p)


def proportion_uplift(
    treated: int, n_treated: int, controls: int, n_control: int, *, metric: str, confidence: float = 0.95
) -> Uplift:
    """Difference of the treatment's and control's proportions (``treated/n_treated - controls/n_control``)
    with Newcombe's hybrid score interval and the pooled z-test's two-sided p-value."""
    p1 = treated / n_treated if n_treated else 0.0
    p0 = controls / n_control if n_control else 0.0
    l1, u1 = wilson_interval(treated, n_treated, confidence)
    l0, u0 = wilson_interval(controls, n_control, confidence)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    p_value = 1.0
    if n_treated and n_control:
        pooled = (treated + controls) / (n_treated + n_control)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_treated + 1 / n_control))
        if se > 0:
            p_value = float(2 * _scipy.norm.sf(abs(d) / se))
    return Uplift(metric, p1, p0, d, low, high, p_value, confidence, "Newcombe hybrid score")


def mean_uplift(treatment: Summary, control: Summary, *, metric: str, confidence: float = 0.95) -> Uplift:
    """Difference of the two groups' means with Welch's t interval and two-sided p-value.

    Raises:
        ValueError: a group has fewer than two customers (no variance to estimate).
    """
    if treatment.n < 2 or control.n < 2:
        raise ValueError(
            f"{metric}: each group needs two customers or more, got {treatment.n} and {control.n}"
        )
    _z(confidence)
    d = treatment.mean - control.mean
    a, b = treatment.variance / treatment.n, control.variance / control.n
    se = math.sqrt(a + b)
    if se == 0:
        return Uplift(metric, treatment.mean, control.mean, d, d, d, 0.0 if d else 1.0, confidence, "Welch t")
    df = (a + b) ** 2 / (a * a / (treatment.n - 1) + b * b / (control.n - 1))
    t = float(_scipy.t.ppf(0.5 + confidence / 2, df))
    p_value = float(2 * _scipy.t.sf(abs(d) / se, df))
    return Uplift(
        metric, treatment.mean, control.mean, d, d - t * se, d + t * se, p_value, confidence, "Welch t"
    )


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"a proportion needs 0 <= successes <= n, got {successes} of {n}")
