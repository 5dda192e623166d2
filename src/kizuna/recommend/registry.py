"""The algorithms kizuna knows, by name."""

from __future__ import annotations

from kizuna.recommend.base import Recommender
from kizuna.recommend.bayesnet import BayesianNetwork
from kizuna.recommend.blend import Blend
from kizuna.recommend.content import ContentBased
from kizuna.recommend.cooccurrence import ItemCooccurrence
from kizuna.recommend.ease import EASE
from kizuna.recommend.factorisation import ALS, BPR
from kizuna.recommend.popularity import Popularity
from kizuna.recommend.repurchase import Repurchase
from kizuna.recommend.rules import RuleBased
from kizuna.recommend.spectral import Spectral
from kizuna.recommend.together import FrequentlyBoughtTogether

ALGORITHMS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        Popularity,
        ItemCooccurrence,
        EASE,
        Spectral,
        ALS,
        BPR,
        ContentBased,
        FrequentlyBoughtTogether,
        RuleBased,
        BayesianNetwork,
        Repurchase,
        Blend,
    )
}


def algorithm(name: str) -> type[Recommender]:
    """The class of the algorithm called ``name``."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown algorithm {name!r}: choose one of {', '.join(ALGORITHMS)}") from None


def default_algorithm(n_items: int) -> str:
    """The default model: the blend, whose components and weights are chosen on a validation split of the
    training data (EASE inside it where its dense model fits ``n_items``, ALS above that).

    Measured in ``benchmarks/recommend_movielens.py`` and ``benchmarks/recommend_completejourney.py``.
    """
    return "blend"
