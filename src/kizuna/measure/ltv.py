"""Customer lifetime value: the BG/NBD model of repeat purchasing and the Gamma-Gamma model of spend.

Both are fitted by maximum likelihood with :func:`scipy.optimize.minimize` on the logarithms of their
parameters, from the published closed forms:

- BG/NBD: Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting your customers" the easy way: an
  alternative to the Pareto/NBD model, Marketing Science 24(2), 275-284 (likelihood, eq. 6; expected
  purchases in a future period, eq. 10; probability of being alive, from eq. 13 of the accompanying note).
- Gamma-Gamma: Fader, P. S. and Hardie, B. G. S. (2013), The Gamma-Gamma model of monetary value (note);
  conditional expected average spend, eq. 5.

A customer is summarised as ``x`` repeat purchases (purchase days after the first), ``t_x`` the time of the
last purchase and ``T`` the time since the first, both measured from the first purchase in the model's time
unit (weeks in kizuna), and ``m_x`` the mean value of the repeat purchases. Everything is vectorised over
customers with NumPy, and identical histories are grouped before fitting. On a large store the
derivative-free search (Nelder-Mead, thousands of likelihood evaluations) runs on a seeded sample of
:data:`START_SAMPLE` customers, and only its few dozen gradient steps (L-BFGS-B) from there read every
history: the same optimum, reached in seconds rather than many minutes at a million customers.

Why not a library: ``lifetimes`` is archived and breaks with current NumPy and pandas; ``btyd`` (its
successor) requires ``pymc<5`` and ``aesara``, which are no longer maintained and do not support NumPy 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters: purchase rate Gamma(r, α), dropout probability Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def p_alive(self, x: Array, t_x: Array, T: Array) -> Array:
        """Probability that each customer is still active at ``T``."""
        x, t_x, T = _arrays(x, t_x, T)
        return np.asarray(1.0 / (1.0 + self._dropout_odds(x, t_x, T)), dtype=np.float64)

    def _dropout_odds(self, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return np.where(x > 0, np.exp(log_odds), 0.0)

    def expected_purchases(self, t: float, x: Array, t_x: Array, T: Array) -> Array:
        """Expected purchases of each customer in the next ``t`` time units, given their history."""
        x, t_x, T = _arrays(x, t_x, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = (alpha + T) / (alpha + T + t)
        hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        head = (a + b + x - 1) / (a - 1)
        value = head * (1 - ratio ** (r + x) * hyper) / (1 + self._dropout_odds(x, t_x, T))
        return np.asarray(np.maximum(value, 0.0), dtype=np.float64)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters: spend per transaction Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float

    def expected_spend(self, x: Array, m_x: Array) -> Array:
        """Expected value of each customer's future transactions; the population mean for ``x == 0``."""
        x, m_x = _arrays(x, m_x)
        p, q, g = self.p, self.q, self.gamma
        population = p * g / (q - 1) if q > 1 else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            conditional = p * (g + x * m_x) / (p * x + q - 1)
        return np.asarray(np.where(x > 0, conditional, population), dtype=np.float64)


def _arrays(*values: Array) -> tuple[Array, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _grouped(*columns: Array) -> tuple[tuple[Array, ...], Array]:
    """Unique rows of the columns and how often each occurs (identical histories count once, weighted)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(unique[:, k] for k in range(unique.shape[1])), counts.astype(np.float64)


#: Customers the derivative-free start of a fit reads at most (a seeded sample of them beyond that).
START_SAMPLE = 50_000


def _sample(columns: tuple[Array, ...]) -> tuple[Array, ...]:
    """At most :data:`START_SAMPLE` of the customers (rows of ``columns``), drawn with a fixed seed."""
    n = len(columns[0])
    if n <= START_SAMPLE:
        return columns
    chosen = np.sort(np.random.default_rng(20_050_101).choice(n, START_SAMPLE, replace=False))
    return tuple(c[chosen] for c in columns)


def _fit(loss: Any, start_loss: Any, start: Array) -> Array:
    """Nelder-Mead on ``start_loss`` (the sample), then L-BFGS-B on ``loss`` (everyone) from its end."""
    rough = optimize.minimize(start_loss, start, method="Nelder-Mead", options=_OPTIONS)
    return np.asarray(optimize.minimize(loss, rough.x, method="L-BFGS-B").x, dtype=np.float64)


def bgnbd_log_likelihood(
    params: Array,
    x: Array,
    t_x: Array,
    T: Array,
    weights: Array | None = None,
) -> float:
    """Total BG/NBD log-likelihood of ``(r, α, a, b)`` (FHL 2005, eq. 6)."""
    r, alpha, a, b = params
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    each = ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)
    return float(np.sum(each if weights is None else each * weights))


def fit_bgnbd(x: Array, t_x: Array, T: Array, *, penalty: float = 0.0) -> BGNBD:
    """Fit BG/NBD to customers' ``(x, t_x, T)`` by maximum likelihood.

    ``penalty`` adds an L2 penalty on the parameters (0: none, as in the paper).

    Raises:
        ValueError: no customers, or histories that are impossible (``t_x > T``, negative values).
    """
    x, t_x, T = _arrays(x, t_x, T)
    if x.size == 0:
        raise ValueError("BG/NBD needs at least one customer with a purchase")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9):
        raise ValueError("each customer needs x >= 0 and 0 <= t_x <= T")

    def loss_of(x: Array, t_x: Array, T: Array) -> Any:
        (ux, ut, uT), w = _grouped(x, t_x, T)

        def loss(log_params: Array) -> float:
            params = np.exp(log_params)
            value = -bgnbd_log_likelihood(params, ux, ut, uT, w) / float(w.sum())
            return value + penalty * float(np.sum(params**2))

        return loss

    found = np.exp(_fit(loss_of(x, t_x, T), loss_of(*_sample((x, t_x, T))), np.zeros(4)))
    r, alpha, a, b = (float(v) for v in found)
    return BGNBD(r, alpha, a, b, bgnbd_log_likelihood(found, x, t_x, T))


def gamma_gamma_log_likelihood(params: Array, x: Array, m_x: Array, weights: Array | None = None) -> float:
    """Total Gamma-Gamma log-likelihood of ``(p, q, γ)`` over customers with ``x >= 1`` (FH 2013)."""
    p, q, g = params
    each = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(g)
        + (p * x - 1) * np.log(m_x)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m_x + g)
    )
    return float(np.sum(each if weights is None else each * weights))


def fit_gamma_gamma(x: Array, m_x: Array) -> GammaGamma:
    """Fit Gamma-Gamma to the customers with repeat purchases (``x >= 1``) and positive mean spend.

    Raises:
        ValueError: fewer than two such customers.
    """
    x, m_x = _arrays(x, m_x)
    keep = (x >= 1) & (m_x > 0)
    if int(keep.sum()) < 2:
        raise ValueError("Gamma-Gamma needs two customers or more with a repeat purchase of positive value")
    x, m_x = x[keep], m_x[keep]
    start = np.log([1.0, 1.0, max(float(np.median(m_x)), 1e-6)])

    def loss_of(x: Array, m_x: Array) -> Any:
        (ux, um), w = _grouped(x, m_x)

        def loss(log_params: Array) -> float:
            return -gamma_gamma_log_likelihood(np.exp(log_params), ux, um, w) / float(w.sum())

        return loss

    found = np.exp(_fit(loss_of(x, m_x), loss_of(*_sample((x, m_x))), start))
    p, q, g = (float(v) for v in found)
    return GammaGamma(p, q, g, gamma_gamma_log_likelihood(found, x, m_x))


_OPTIONS = {"maxiter": 4_000, "xatol": 1e-8, "fatol": 1e-12}


def lifetime_value(
    model: BGNBD,
    spend: Array,
    x: Array,
    t_x: Array,
    T: Array,
    *,
    horizon: float,
    step: float,
    discount_per_step: float = 0.0,
) -> Array:
    """Discounted value of each customer's purchases over ``horizon`` time units: the purchases expected in
    each period of ``step`` units times the expected spend, divided by ``(1 + discount_per_step) ** k``
    for the ``k``-th period."""
    total = np.zeros_like(np.asarray(x, dtype=np.float64))
    before = np.zeros_like(total)
    k, end = 0, 0.0
    while end < horizon - 1e-9:
        k += 1
        end = min(k * step, horizon)
        now = model.expected_purchases(end, x, t_x, T)
        total += (now - before) / (1 + discount_per_step) ** k
        before = now
    return np.asarray(total * np.asarray(spend, dtype=np.float64), dtype=np.float64)
