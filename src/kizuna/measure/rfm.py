"""RFM: recency, frequency and monetary scores from 1 to 5 (quintiles), and the named RFM segments.

Scores are quintiles among the customers scored: 5 is the best fifth (most recent, most frequent, highest
spend), 1 the worst. Ties share a score (ranks are averaged before cutting), so when most customers bought
once they all get the same frequency score.

Segments follow the widely used R × F grid of eleven segments (as popularised by Putler's and Klaviyo's RFM
guides), with the bottom corner (R 1, F 1) called ``lost``:

====  ============== ============== ============== ============ ============
R \\ F 1              2              3              4            5
====  ============== ============== ============== ============ ============
5     new            potential      potential      champions    champions
4     promising      potential      potential      loyal        loyal
3     about_to_sleep about_to_sleep need_attention loyal        loyal
2     hibernating    hibernating    at_risk        at_risk      cannot_lose
1     lost           hibernating    at_risk        at_risk      cannot_lose
====  ============== ============== ============== ============ ============

(``potential`` is "potential loyalists".) The monetary score is kept alongside for conditions such as
``m_score >= 4``; it does not change the segment.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

#: The grid above, indexed [R - 1][F - 1].
GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential", "potential", "loyal", "loyal"),
    ("new", "potential", "potential", "champions", "champions"),
)

#: Every segment name, best first, with what it means.
SEGMENTS: dict[str, str] = {
    "champions": "bought recently, buy often",
    "loyal": "buy often, fairly recently",
    "potential": "recent customers with a few purchases: potential loyalists",
    "new": "first purchase very recently",
    "promising": "recent customers with one purchase",
    "need_attention": "middling recency and frequency",
    "about_to_sleep": "not recent, few purchases",
    "at_risk": "bought fairly often, but long ago",
    "cannot_lose": "bought very often, but long ago",
    "hibernating": "long ago and rarely",
    "lost": "the longest ago, one purchase",
}


def quintile_scores(values: NDArray[np.float64], *, higher_is_better: bool = True) -> NDArray[np.int64]:
    """Scores 1-5 by quintile of ``values`` (ties share a score); an empty array for no values."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(data if higher_is_better else -data, method="average")
    return np.asarray(np.clip(np.ceil(ranks / data.size * 5), 1, 5), dtype=np.int64)


def rfm_scores(
    recency_days: NDArray[np.float64], frequency: NDArray[np.float64], monetary: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """R, F and M scores: fewer days since the last purchase, more purchases, more spend score higher."""
    return (
        quintile_scores(recency_days, higher_is_better=False),
        quintile_scores(frequency),
        quintile_scores(monetary),
    )


def rfm_segments(r: NDArray[np.int64], f: NDArray[np.int64]) -> NDArray[np.str_]:
    """The segment name of each (R, F) pair, from :data:`GRID`."""
    grid = np.array(GRID)
    r_index = np.asarray(r, dtype=np.int64) - 1
    f_index = np.asarray(f, dtype=np.int64) - 1
    if r_index.size and (r_index.min() < 0 or r_index.max() > 4 or f_index.min() < 0 or f_index.max() > 4):
        raise ValueError("R and F scores must lie between 1 and 5")
    return np.asarray(grid[r_index, f_index])
