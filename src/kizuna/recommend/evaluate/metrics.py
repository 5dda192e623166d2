"""Ranking and catalogue metrics over recommendation lists, as pure functions.

The ranking metrics share one signature: ``recommended[u]`` is user ``u``'s ranked list of item ids (best
first), ``relevant[u]`` the items that user interacted with in the test period, and ``k`` the cut-off.
Relevance is binary. A score is the mean over users with at least one relevant item (a user with relevant
items and an empty list counts as 0.0); with no such user the score is 0.0. The formulas follow Microsoft
Recommenders' ``python_evaluation`` with binary relevance. An item repeated in a list counts once, at its
first rank.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

import numpy as np
import numpy.typing as npt


def precision_at_k(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> float:
    """Precision@k: hits in the top k divided by k.

    The denominator is k even when a list is shorter than k or a user has fewer than k relevant items, as in
    Microsoft Recommenders, so a perfect score needs at least k relevant items per user.

    Args:
        recommended: Ranked item ids per user.
        relevant: Each user's relevant (test) items.
        k: Cut-off, at least 1.

    Returns:
        The mean precision@k, between 0 and 1.
    """
    return _mean(len(ranks) / k for ranks, _ in _hit_ranks(recommended, relevant, k))


def recall_at_k(recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int) -> float:
    """Recall@k: hits in the top k divided by the number of relevant items.

    The denominator is the full number of relevant items, as in Microsoft Recommenders, so a user with more
    than k relevant items cannot reach 1.

    Args:
        recommended: Ranked item ids per user.
        relevant: Each user's relevant (test) items.
        k: Cut-off, at least 1.

    Returns:
        The mean recall@k, between 0 and 1.
    """
    return _mean(len(ranks) / n_relevant for ranks, n_relevant in _hit_ranks(recommended, relevant, k))


def ndcg_at_k(recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int) -> float:
    """nDCG@k with binary gains: DCG = Σ over hits of 1 / log2(rank + 1), ranks from 1.

    The ideal DCG places min(|relevant|, k) hits at ranks 1, 2, …. Microsoft Recommenders' default discount is
    the natural logarithm; the base cancels in the ratio, so the scores are the same.

    Args:
        recommended: Ranked item ids per user.
        relevant: Each user's relevant (test) items.
        k: Cut-off, at least 1.

    Returns:
        The mean nDCG@k, between 0 and 1.
    """

    counted = list(_hit_ranks(recommended, relevant, k))
    hits = np.zeros((len(counted), k))
    for user, (ranks, _) in enumerate(counted):
        hits[user, np.asarray(ranks, dtype=np.int64) - 1] = 1.0
    return ndcg_of_hits(hits, [n for _, n in counted], k)


def ndcg_of_hits(hits: npt.ArrayLike, n_relevant: npt.ArrayLike, k: int) -> float:
    """nDCG@k from a matrix of hits and each user's number of relevant items, vectorised.

    ``hits[u, r]`` is 1 where user ``u``'s product at rank ``r + 1`` is relevant; lists shorter than k have
    fewer columns. Users with no relevant item are left out, as in :func:`ndcg_at_k`, which computes its score
    here; for scoring many rankings of the same candidates (a blend's weight search), build the hits directly.

    Args:
        hits: Binary matrix, one row per user, one column per rank (at most k).
        n_relevant: Number of relevant items per user.
        k: Cut-off, at least 1.

    Returns:
        The mean nDCG@k over users with relevant items; 0.0 when there are none.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    sizes = np.asarray(n_relevant, dtype=np.int64)
    counted = sizes > 0
    if not counted.any():
        return 0.0
    table = np.zeros((len(sizes), k))
    given = np.asarray(hits, dtype=np.float64).reshape(len(sizes), -1)[:, :k]
    table[:, : given.shape[1]] = given
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    # The ideal list is hits at the first min(|relevant|, k) ranks: the same product as the DCG's, so a
    # perfect list scores exactly 1.
    ideal = (np.arange(k)[None, :] < np.minimum(sizes, k)[:, None]).astype(np.float64) @ discount
    dcg = table @ discount
    return float(np.mean(dcg[counted] / ideal[counted]))


def map_at_k(recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int) -> float:
    """MAP@k: AP@k = Σ over hits of precision@rank, divided by min(|relevant|, k).

    This is the normalisation of Microsoft Recommenders' current ``map_at_k`` (after Spark MLlib's
    ``meanAveragePrecisionAt``); older releases divided by |relevant|, which caps users with more than k
    relevant items below 1. Their ``map`` (no cut-off) still divides by |relevant|.

    Args:
        recommended: Ranked item ids per user.
        relevant: Each user's relevant (test) items.
        k: Cut-off, at least 1.

    Returns:
        The mean AP@k over users, between 0 and 1.
    """

    def average_precision(ranks: list[int], n_relevant: int) -> float:
        # The j-th hit at rank r has precision j / r at that rank.
        return sum(j / rank for j, rank in enumerate(ranks, start=1)) / min(n_relevant, k)

    return _mean(average_precision(ranks, n) for ranks, n in _hit_ranks(recommended, relevant, k))


def catalog_coverage(recommended: Sequence[Sequence[int]], n_items: int) -> float:
    """Share of the catalogue's ``n_items`` items that appear in at least one list.

    Args:
        recommended: Item ids per user (cut them to k first to measure coverage at k).
        n_items: Size of the catalogue; item ids are ``0 .. n_items - 1``.

    Returns:
        Distinct recommended items divided by ``n_items``, between 0 and 1.

    Raises:
        ValueError: If ``n_items`` is not positive or a list holds an id outside the catalogue.
    """
    if n_items <= 0:
        raise ValueError(f"n_items must be the positive size of the catalogue, got {n_items}")
    items = _all_items(recommended)
    _check_item_ids(items, n_items)
    return len(np.unique(items)) / n_items


def novelty(recommended: Sequence[Sequence[int]], item_popularity: npt.ArrayLike, n_users: int) -> float:
    """Mean self-information -log2(p_i) over every recommended slot, p_i = share of users who had item i.

    Popular items score near 0 bits; an item one user in 1,024 had scores 10. Items nobody had (p_i = 0)
    get the smallest positive p_i of the catalogue, or 1 / n_users when no item was seen, so one unseen
    item cannot make the mean infinite.

    Args:
        recommended: Item ids per user (cut them to k first to measure novelty at k).
        item_popularity: Number of distinct users who interacted with each item, indexed by item id.
        n_users: Number of users the popularity was counted over.

    Returns:
        The mean self-information in bits; 0.0 when the lists are empty.

    Raises:
        ValueError: If ``n_users`` is not positive, a popularity is negative or above ``n_users``, or a list
            holds an id outside the popularity array.
    """
    if n_users <= 0:
        raise ValueError(
            f"n_users must be the positive number of users popularity was counted over, got {n_users}"
        )
    popularity = np.asarray(item_popularity, dtype=np.float64)
    if popularity.ndim != 1:
        raise ValueError(f"item_popularity must be one count per item, got shape {popularity.shape}")
    if (popularity < 0).any() or (popularity > n_users).any():
        raise ValueError(f"item_popularity must count users, between 0 and n_users={n_users}")
    items = _all_items(recommended)
    if len(items) == 0:
        return 0.0
    _check_item_ids(items, len(popularity))
    share = popularity / n_users
    seen = share[share > 0]
    floor = float(seen.min()) if len(seen) else 1.0 / n_users
    return float(np.mean(-np.log2(np.maximum(share[items], floor))))


def evaluate_lists(
    recommended: Sequence[Sequence[int]],
    relevant: Sequence[Collection[int]],
    k: int,
    n_items: int,
    item_popularity: npt.ArrayLike,
    n_users: int,
) -> dict[str, float]:
    """All metrics of this module at cut-off ``k``, keyed like ``"ndcg@10"``.

    Coverage and novelty are measured on the lists cut to ``k``, like the ranking metrics.

    Args:
        recommended: Ranked item ids per user.
        relevant: Each user's relevant (test) items.
        k: Cut-off, at least 1.
        n_items: Size of the catalogue.
        item_popularity: Number of distinct users who interacted with each item (in train).
        n_users: Number of users the popularity was counted over.

    Returns:
        ``ndcg@k``, ``precision@k``, ``recall@k``, ``map@k``, ``coverage`` and ``novelty``.
    """
    top_k = [list(items)[:k] for items in recommended]
    return {
        f"ndcg@{k}": ndcg_at_k(top_k, relevant, k),
        f"precision@{k}": precision_at_k(top_k, relevant, k),
        f"recall@{k}": recall_at_k(top_k, relevant, k),
        f"map@{k}": map_at_k(top_k, relevant, k),
        "coverage": catalog_coverage(top_k, n_items),
        "novelty": novelty(top_k, item_popularity, n_users),
    }


def _hit_ranks(
    recommended: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], k: int
) -> Iterator[tuple[list[int], int]]:
    """Per user with relevant items: the 1-based ranks of hits in the top k, and the number relevant."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(recommended) != len(relevant):
        raise ValueError(
            f"recommended has {len(recommended)} lists but relevant has {len(relevant)}: one of each per user"
        )
    for items, truth in zip(recommended, relevant, strict=True):
        wanted = set(truth)
        if not wanted:
            continue
        seen: set[int] = set()
        ranks: list[int] = []
        for rank, item in enumerate(list(items)[:k], start=1):
            if item in wanted and item not in seen:
                ranks.append(rank)
            seen.add(item)
        yield ranks, len(wanted)


def _mean(values: Iterator[float]) -> float:
    scores = list(values)
    return float(np.mean(scores)) if scores else 0.0


def _all_items(recommended: Sequence[Sequence[int]]) -> npt.NDArray[np.int64]:
    lists = [np.asarray(items, dtype=np.int64).reshape(-1) for items in recommended]
    return np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)


def _check_item_ids(items: npt.NDArray[np.int64], n_items: int) -> None:
    outside = items[(items < 0) | (items >= n_items)]
    if len(outside):
        raise ValueError(
            f"item id {int(outside[0])} is outside the catalogue of {n_items} items (0..{n_items - 1})"
        )
