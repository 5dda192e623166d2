"""Customer value from the store: RFM scores and segments, BG/NBD + Gamma-Gamma lifetime value, stored in
``customer_values`` (``kizuna value compute``).

Each customer with a purchase (an order not cancelled, refunded or returned) up to ``now`` is summarised from
their orders grouped by UTC day (one *purchase* per day, as in the CDNOW studies): the first and last purchase
days, the number of purchase days, total spend, and the mean spend of the repeat purchases. Times are in
weeks. The BG/NBD model is fitted on everyone, Gamma-Gamma on customers with repeat purchases (see
:mod:`kizuna.measure.ltv`); their predictions over the horizon are written with the RFM scores
(:mod:`kizuna.measure.rfm`), replacing every earlier row in one transaction.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from kizuna.config import get_settings
from kizuna.measure.ltv import BGNBD, GammaGamma, fit_bgnbd, fit_gamma_gamma, lifetime_value
from kizuna.measure.rfm import rfm_scores, rfm_segments
from kizuna.progress import NullProgress, Progress
from kizuna.store.bulk import chunked, copy_ignore, is_postgres
from kizuna.store.engine import Store
from kizuna.store.epoch import epoch_days
from kizuna.store.orders import is_purchase
from kizuna.store.tables import Order, table_of
from kizuna.store.types import utcnow
from kizuna.store.values import CustomerValue

#: Days per time unit of the models (weeks) and per discounting period (about a month).
WEEK, PERIOD_DAYS = 7.0, 30.0
_WRITE_CHUNK = 20_000


@dataclass(frozen=True)
class Histories:
    """Customers' purchase histories as arrays, one entry per customer (days since 1970-01-01, UTC)."""

    customer_id: NDArray[np.int64]
    first_day: NDArray[np.float64]
    last_day: NDArray[np.float64]
    purchase_days: NDArray[np.float64]
    total: NDArray[np.float64]
    repeat_mean: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def bgnbd_inputs(self, now_day: float) -> tuple[NDArray[np.float64], ...]:
        """``(x, t_x, T)`` in weeks: repeat purchases, time of the last one and age, from the first."""
        x = self.purchase_days - 1
        return x, (self.last_day - self.first_day) / WEEK, (now_day - self.first_day) / WEEK


@dataclass(frozen=True)
class ValueReport:
    """What ``compute_values`` did: customers valued, fitted models and segment sizes."""

    customers: int
    computed_at: datetime
    horizon_days: int
    model_version: str
    bgnbd: BGNBD | None
    gamma_gamma: GammaGamma | None
    segments: Counter[str] = field(default_factory=Counter)
    total_ltv: float = 0.0
    fit_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def read_histories(session: Session, now: datetime) -> Histories:
    """Every customer's purchases up to ``now``, grouped by day, summarised as arrays."""
    day = epoch_days(session, Order.ordered_at).label("day")
    rows = session.execute(
        select(Order.customer_id, day, cast(func.sum(Order.total), Float))
        .where(is_purchase(Order.status), Order.ordered_at <= now)
        .group_by(Order.customer_id, day)
        .order_by(Order.customer_id, day)
    ).all()
    if not rows:
        empty = np.zeros(0)
        return Histories(np.zeros(0, dtype=np.int64), empty, empty, empty, empty, empty)
    data = np.array([(c, d, a or 0.0) for c, d, a in rows], dtype=np.float64)
    ids, days, amounts = data[:, 0].astype(np.int64), data[:, 1], data[:, 2]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], ids.size] - 1
    counts = (ends - starts + 1).astype(np.float64)
    totals = np.add.reduceat(amounts, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        repeat = np.where(counts > 1, (totals - amounts[starts]) / (counts - 1), 0.0)
    return Histories(ids[starts], days[starts], days[ends], counts, totals, repeat)


def _version(bgnbd: BGNBD | None, gg: GammaGamma | None, now: datetime) -> str:
    parts = []
    if bgnbd is not None:
        parts.append(f"bgnbd r={bgnbd.r:.4g} alpha={bgnbd.alpha:.4g} a={bgnbd.a:.4g} b={bgnbd.b:.4g}")
    if gg is not None:
        parts.append(f"gg p={gg.p:.4g} q={gg.q:.4g} gamma={gg.gamma:.4g}")
    parts.append(f"rfm at {now:%Y-%m-%dT%H:%M}Z")
    return "; ".join(parts)


def compute_values(
    store: Store,
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    discount: float | None = None,
    progress: Progress | None = None,
) -> ValueReport:
    """Fit the models on the store's orders up to ``now`` and rewrite ``customer_values``.

    Args:
        store: where orders are read and values written.
        now: the moment of the valuation (default: now); recency and ages are counted to it.
        horizon_days: how far ahead purchases and value are predicted (default ``ltv_horizon_days``).
        discount: yearly discount rate of future spend (default ``ltv_discount_rate``).
        progress: shows progress.

    Returns:
        What was computed. A model that cannot be fitted (too few customers or repeat buyers) leaves its
        columns empty and is named in ``problems``; RFM scores are written all the same.
    """
    settings = get_settings()
    now = now or utcnow()
    horizon = horizon_days if horizon_days is not None else settings.ltv_horizon_days
    yearly = discount if discount is not None else settings.ltv_discount_rate
    if horizon < 1:
        raise ValueError(f"horizon_days must be 1 or more, got {horizon}")
    if not 0 <= yearly < 1:
        raise ValueError(f"discount must lie in [0, 1), got {yearly}")
    shown = progress or NullProgress()
    with store.session() as session:
        shown.stage("Reading purchase histories", total=None)
        hist = read_histories(session, now)
        shown.advance(len(hist))
        now_day = now.timestamp() / 86400.0
        r, f, m = rfm_scores(now_day - hist.last_day, hist.purchase_days, hist.total)
        segments = rfm_segments(r, f) if len(hist) else np.zeros(0, dtype=str)
        shown.stage("Fitting BG/NBD and Gamma-Gamma", total=None)
        started = time.perf_counter()
        predictions, bgnbd, gg, problems = _predict(hist, now_day, horizon, yearly)
        seconds = time.perf_counter() - started
        version = _version(bgnbd, gg, now)
        rows = _rows(hist, r, f, m, segments, predictions, horizon, version, now)
        shown.stage("Writing customer values", total=len(rows))
        session.execute(delete(table_of(CustomerValue)))
        for chunk in chunked(rows, _WRITE_CHUNK):
            _write(session, chunk)
            shown.advance(len(chunk))
        session.commit()
    ltv = predictions[3]
    return ValueReport(
        customers=len(hist),
        computed_at=now,
        horizon_days=horizon,
        model_version=version,
        bgnbd=bgnbd,
        gamma_gamma=gg,
        segments=Counter(segments.tolist()),
        total_ltv=float(np.nansum(ltv)) if ltv.size else 0.0,
        fit_seconds=seconds,
        problems=problems,
    )


def _predict(
    hist: Histories, now_day: float, horizon: int, yearly: float
) -> tuple[tuple[NDArray[np.float64], ...], BGNBD | None, GammaGamma | None, list[str]]:
    """(p_alive, expected purchases, expected spend, ltv) per customer; NaN where a model is missing."""
    nan = np.full(len(hist), np.nan)
    problems: list[str] = []
    x, t_x, T = hist.bgnbd_inputs(now_day)
    try:
        bgnbd: BGNBD | None = fit_bgnbd(x, t_x, T)
    except ValueError as exc:
        bgnbd = None
        problems.append(f"BG/NBD not fitted: {exc}")
    try:
        gg: GammaGamma | None = fit_gamma_gamma(x, hist.repeat_mean)
    except ValueError as exc:
        gg = None
        problems.append(f"Gamma-Gamma not fitted: {exc}")
    if bgnbd is None:
        return (nan, nan, nan, nan), bgnbd, gg, problems
    weeks = horizon / WEEK
    alive = bgnbd.p_alive(x, t_x, T)
    purchases = bgnbd.expected_purchases(weeks, x, t_x, T)
    if gg is None:
        return (alive, purchases, nan, nan), bgnbd, gg, problems
    spend = gg.expected_spend(x, hist.repeat_mean)
    per_period = (1 + yearly) ** (PERIOD_DAYS / 365.0) - 1
    ltv = lifetime_value(
        bgnbd, spend, x, t_x, T, horizon=weeks, step=PERIOD_DAYS / WEEK, discount_per_step=per_period
    )
    return (alive, purchases, spend, ltv), bgnbd, gg, problems


def _rows(
    hist: Histories,
    r: NDArray[np.int64],
    f: NDArray[np.int64],
    m: NDArray[np.int64],
    segments: NDArray[np.str_],
    predictions: tuple[NDArray[np.float64], ...],
    horizon: int,
    version: str,
    now: datetime,
) -> list[dict[str, Any]]:
    def clean(values: NDArray[np.float64], digits: int) -> list[float | None]:
        rounded = np.round(values, digits)
        return [None if np.isnan(v) else float(v) for v in rounded.tolist()]

    alive, purchases, spend, ltv = predictions
    columns = {
        "customer_id": hist.customer_id.tolist(),
        "r_score": r.tolist(),
        "f_score": f.tolist(),
        "m_score": m.tolist(),
        "rfm_segment": segments.tolist(),
        "p_alive": clean(alive, 6),
        "expected_purchases": clean(purchases, 6),
        "expected_value": clean(spend, 4),
        "ltv": clean(ltv, 4),
    }
    fixed = {"horizon_days": horizon, "model_version": version, "computed_at": now}
    names = list(columns)
    return [dict(zip(names, values, strict=True)) | fixed for values in zip(*columns.values(), strict=True)]


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    table = table_of(CustomerValue)
    if is_postgres(session):
        columns = list(rows[0])
        copy_ignore(session.connection(), table, columns, [tuple(row[c] for c in columns) for row in rows])
        return
    session.execute(insert(table), rows)
