"""BG/NBD and Gamma-Gamma: parameters recovered from simulated customers, and the CDNOW benchmark."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kizuna.measure import ltv
from kizuna.measure.ltv import BGNBD, fit_bgnbd, fit_gamma_gamma, lifetime_value

CDNOW_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, seed: int = 3
) -> tuple[np.ndarray, ...]:
    """Customers drawn from the BG/NBD story: purchase at rate λ, drop out after each repeat purchase with
    probability p (never right after the first)."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1 / alpha, n)
    drops = rng.beta(a, b, n)
    ages = rng.uniform(20, 52, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while rates[i] > 0:
            t += rng.exponential(1 / rates[i])
            if t > ages[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < drops[i]:
                break
    return x, t_x, ages


def test_bgnbd_recovers_the_parameters_it_was_simulated_from() -> None:
    x, t_x, T = simulate_bgnbd(20_000, r=0.25, alpha=4.0, a=0.8, b=2.5)
    fitted = fit_bgnbd(x, t_x, T)
    assert fitted.r == pytest.approx(0.25, rel=0.15)
    assert fitted.alpha == pytest.approx(4.0, rel=0.2)
    assert fitted.a == pytest.approx(0.8, rel=0.25)
    assert fitted.b == pytest.approx(2.5, rel=0.3)


def test_gamma_gamma_recovers_the_parameters_it_was_simulated_from() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(4.0, 1 / 15.0, n)
    m_x = np.array([rng.gamma(6.0, 1 / v, int(k)).mean() for v, k in zip(nu, x, strict=True)])
    fitted = fit_gamma_gamma(x, m_x)
    assert (fitted.p, fitted.q, fitted.gamma) == pytest.approx((6.0, 4.0, 15.0), rel=0.15)
    # Few purchases lean on the population mean; many on the customer's own.
    spend = fitted.expected_spend(np.array([1.0, 50.0, 0.0]), np.array([200.0, 200.0, 0.0]))
    population = fitted.p * fitted.gamma / (fitted.q - 1)
    assert population < spend[0] < spend[1] < 200.0 + 1e-9 and spend[2] == pytest.approx(population)


def test_predictions_follow_the_closed_forms() -> None:
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0)
    x, t_x, T = np.array([0.0, 2.0, 2.0]), np.array([0.0, 30.0, 5.0]), np.array([38.0, 38.0, 38.0])
    alive = model.p_alive(x, t_x, T)
    assert alive[0] == 1.0  # no repeat purchase: never seen to drop out
    assert alive[1] > alive[2]  # the same purchases, the later last one is likelier alive
    expected = model.expected_purchases(39.0, x, t_x, T)
    assert expected[1] > expected[2] > 0
    # The unconditional expectation of a new customer over t, FHL eq. 9, at T = 0 with no purchase.
    t = 39.0
    r, al, a, b = 0.243, 4.414, 0.793, 2.426
    from scipy.special import hyp2f1

    unconditional = (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * hyp2f1(r, b, a + b - 1, t / (al + t)))
    assert model.expected_purchases(t, np.zeros(1), np.zeros(1), np.zeros(1))[0] == pytest.approx(
        unconditional
    )
    undiscounted = lifetime_value(model, np.full(3, 10.0), x, t_x, T, horizon=52.0, step=4.0)
    assert undiscounted == pytest.approx(10 * model.expected_purchases(52.0, x, t_x, T))
    discounted = lifetime_value(
        model, np.full(3, 10.0), x, t_x, T, horizon=52.0, step=4.0, discount_per_step=0.01
    )
    assert np.all(discounted < undiscounted)


def test_bad_histories_are_refused() -> None:
    with pytest.raises(ValueError, match="t_x <= T"):
        fit_bgnbd(np.array([1.0]), np.array([5.0]), np.array([3.0]))
    with pytest.raises(ValueError, match="at least one customer"):
        fit_bgnbd(np.zeros(0), np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="two customers or more"):
        fit_gamma_gamma(np.array([0.0, 1.0]), np.array([0.0, 5.0]))


@pytest.mark.skipif(not CDNOW_SAMPLE.is_file(), reason="CDNOW_sample.txt is not in ../shared/data")
def test_cdnow_sample_gives_the_published_parameters() -> None:
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 on the 2,357-customer
    # sample, calibration 1997-01-01 to 1997-09-30, in weeks, repeat purchases counted by day.
    end = date(1997, 9, 30)
    days: dict[str, dict[date, float]] = {}
    for line in CDNOW_SAMPLE.read_text().splitlines():
        customer, _, day, _, dollars = line.split()
        when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        if when <= end:
            spent = days.setdefault(customer, {})
            spent[when] = spent.get(when, 0.0) + float(dollars)
    x, t_x, T, m_x = [], [], [], []
    for spent in days.values():
        first, last = min(spent), max(spent)
        x.append(len(spent) - 1)
        t_x.append((last - first).days / 7)
        T.append((end - first).days / 7)
        repeat = [v for d, v in spent.items() if d != first]
        m_x.append(sum(repeat) / len(repeat) if repeat else 0.0)
    assert len(x) == 2_357
    fitted = fit_bgnbd(np.array(x), np.array(t_x), np.array(T))
    published = (0.243, 4.414, 0.793, 2.426)
    assert (fitted.r, fitted.alpha, fitted.a, fitted.b) == pytest.approx(published, rel=0.02)
    spend = fit_gamma_gamma(np.array(x), np.array(m_x))
    # Fader & Hardie (2013), the Gamma-Gamma note: p = 6.25, q = 3.74, gamma = 15.44.
    assert (spend.p, spend.q, spend.gamma) == pytest.approx((6.25, 3.74, 15.44), rel=0.02)


def test_a_sampled_start_reaches_the_optimum_of_every_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Large stores start the search on a sample; the gradient steps on everyone must end where a search on
    # everyone ends, with the same likelihood.
    x, t_x, T = simulate_bgnbd(6_000, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=8)
    monkeypatch.setattr(ltv, "START_SAMPLE", 10**9)
    full = fit_bgnbd(x, t_x, T)
    monkeypatch.setattr(ltv, "START_SAMPLE", 300)
    sampled = fit_bgnbd(x, t_x, T)
    assert sampled.log_likelihood == pytest.approx(full.log_likelihood, rel=1e-6)
    assert (sampled.r, sampled.alpha, sampled.a, sampled.b) == pytest.approx(
        (full.r, full.alpha, full.a, full.b), rel=2e-3
    )
    rng = np.random.default_rng(5)
    counts = rng.integers(1, 6, 6_000).astype(float)
    means = rng.gamma(6.0, 1 / rng.gamma(4.0, 1 / 15.0, 6_000))
    monkeypatch.setattr(ltv, "START_SAMPLE", 10**9)
    whole = fit_gamma_gamma(counts, means)
    monkeypatch.setattr(ltv, "START_SAMPLE", 300)
    part = fit_gamma_gamma(counts, means)
    assert part.log_likelihood == pytest.approx(whole.log_likelihood, rel=1e-6)
    assert (part.p, part.q, part.gamma) == pytest.approx((whole.p, whole.q, whole.gamma), rel=2e-3)
