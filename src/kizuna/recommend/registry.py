"""The algorithms kizuna knows, by name."""

from __future__ import annotations

from kizuna.recommend.base import Recommender
from kizuna.recommend.content import ContentBased
from kizuna.recommend.cooccurrence import ItemCooccurrence
from kizuna.recommend.ease import EASE
from kizuna.recommend.factorisation import ALS, BPR
from kizuna.recommend.popularity import Popularity
from kizuna.recommend.rules import RuleBased
from kizuna.recommend.together import FrequentlyBoughtTogether

ALGORITHMS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        Popularity,
        ItemCooccurrence,
        EASE,
        ALS,
        BPR,
        ContentBased,
        FrequentlyBoughtTogether,
        RuleBased,
    )
}


def algorithm(name: str) -> type[Recommender]:
    """The class of the algorithm called ``name``."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown algorithm {name!r}: choose one of {', '.join(ALGORITHMS)}") from None


def default_algorithm(n_items: int) -> str:
    """The default model for a catalogue of ``n_items``: EASE where its dense model fits, else ALS.

    On MovieLens-100k EASE leads (``benchmarks/recommend_movielens.py``); it needs an items × items matrix, so
    larger catalogues use ALS, which led co-occurrence on the Complete Journey
    (``benchmarks/recommend_completejourney.py``).
    """
    return "ease" if n_items <= EASE().max_items else "als"
