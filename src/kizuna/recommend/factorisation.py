"""Matrix factorisation for implicit feedback: ALS and BPR, trained by the ``implicit`` library (CPU).

Both learn a vector per customer and per product so that their dot product ranks what a customer will choose:

- ALS (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008) fits every
  cell of the matrix, with confidence ``1 + alpha × weight`` on what was chosen; solved by alternating least
  squares.
- BPR (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009) learns to rank
  a chosen product above a sampled unchosen one, by stochastic gradient descent.

Factors grow linearly with customers and products, so these models fit catalogues far beyond EASE's dense
limit. The reason for a recommendation names the customer's chosen products closest to it in factor space.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from scipy import sparse
from threadpoolctl import threadpool_limits

from kizuna.recommend.base import IntArray
from kizuna.recommend.data import TrainingData
from kizuna.recommend.factors import FactorModel
from kizuna.recommend.reasons import Reason, taste_reasons
from kizuna.recommend.tuning import Search, tune


class _Factorisation(FactorModel):
    """What ALS and BPR share: training through ``implicit`` and reasons from the factors.

    Subclasses build the ``implicit`` model and say how the weight matrix is fed to it.
    """

    def __init__(self, *, num_threads: int = 0, random_state: int = 42) -> None:
        super().__init__()
        self.num_threads = num_threads
        self.random_state = random_state

    @abstractmethod
    def _model(self) -> AlternatingLeastSquares | BayesianPersonalizedRanking:
        """A fresh, untrained ``implicit`` model with this recommender's hyperparameters."""

    def _prepare(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """The matrix handed to ``implicit``; by default the weights as they are."""
        return matrix

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        user_items = sparse.csr_matrix(self._prepare(matrix), dtype=np.float32)
        # implicit runs its own threads; a multi-threaded BLAS underneath slows it down (and it warns).
        with threadpool_limits(1, "blas"):
            model = self._model()
            model.fit(user_items, show_progress=False)
        self._set_factors(model.user_factors, model.item_factors)

    def _explain(self, row: int, items: IntArray) -> list[Reason]:
        assert self.product_ids is not None
        _, factors = self._factors()
        chosen = self._chosen(row)
        if len(chosen) == 0:
            return [Reason("popular") for _ in items]
        closeness = factors[chosen] @ factors[items].T
        return taste_reasons(closeness, chosen, self.product_ids)


class ALS(_Factorisation):
    """Implicit-feedback ALS.

    The defaults are not ``implicit``'s (100 factors, regularisation 0.01): with those, ALS ranks far below
    its best (MovieLens-100k nDCG@10 0.33 against 0.49). The optimum of the L2 penalty is sharp and moves
    with the data: near 30 on MovieLens-100k, the Complete Journey and the million-customer demo store, near
    10 on a 2,000-customer one, where 30 ranks below popularity (docs/benchmarks.md). So unless it is given,
    it is searched on a validation split of the training data (:data:`SEARCH`, as the blend searches it),
    and the value found is fitted on all of it and kept in ``metrics["validation"]``. 64 factors rank as
    well as 100 there and score faster.

    Args:
        factors: Length of each customer and product vector.
        regularization: L2 penalty on the factors; None searches it.
        iterations: Alternating sweeps over customers and products.
        alpha: Confidence scaling: a weight ``w`` counts with confidence ``1 + alpha × w``.
        num_threads: Threads for training; 0 uses every core.
        random_state: Seed of the initial factors, so training is reproducible.
    """

    name = "als"
    #: How an unset regularisation is searched: 1, 10 and 100, then two rounds of refinement (a
    #: sharp optimum), on at most SEARCH_CUSTOMERS customers; 10 when no customer has held-out choices.
    SEARCH: ClassVar[Search] = Search("regularization", (1.0, 10.0, 100.0), 2, sampled=True, fallback=10.0)

    def __init__(
        self,
        factors: int = 64,
        regularization: float | None = None,
        iterations: int = 15,
        alpha: float = 1.0,
        num_threads: int = 0,
        random_state: int = 42,
    ) -> None:
        super().__init__(num_threads=num_threads, random_state=random_state)
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        #: The regularisation the factors were fitted with (searched when ``regularization`` is None).
        self.fitted_regularization: float | None = regularization

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "iterations": self.iterations,
            "alpha": self.alpha,
            "num_threads": self.num_threads,
            "random_state": self.random_state,
        }

    def _fit(self, data: TrainingData, matrix: sparse.csr_matrix) -> None:
        if self.regularization is None:
            self.fitted_regularization, self.metrics["validation"] = tune(self, self.SEARCH, data)
        super()._fit(data, matrix)

    def _prepare(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        # Scaled here rather than inside implicit so the weight matrix the model sees is explicit.
        return sparse.csr_matrix(matrix * self.alpha)

    def _model(self) -> AlternatingLeastSquares:
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.fitted_regularization,
            iterations=self.iterations,
            alpha=1.0,
            num_threads=self.num_threads,
            random_state=self.random_state,
        )


class BPR(_Factorisation):
    """Bayesian personalised ranking; weights only mark what was chosen (their size is not used).

    The learned vectors carry a product bias as their last component, so popular products rank higher for
    every customer unless their taste says otherwise.

    Args:
        factors: Length of each customer and product vector.
        learning_rate: Step size of stochastic gradient descent.
        regularization: L2 penalty on the factors.
        iterations: Passes over the interactions.
        num_threads: Threads for training; 0 uses every core. Updates from several threads interleave, so
            only ``num_threads=1`` gives bit-for-bit the same model on every run.
        random_state: Seed of the initial factors and of negative sampling.
    """

    name = "bpr"

    def __init__(
        self,
        factors: int = 100,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        num_threads: int = 0,
        random_state: int = 42,
    ) -> None:
        super().__init__(num_threads=num_threads, random_state=random_state)
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "learning_rate": self.learning_rate,
            "regularization": self.regularization,
            "iterations": self.iterations,
            "num_threads": self.num_threads,
            "random_state": self.random_state,
        }

    def _model(self) -> BayesianPersonalizedRanking:
        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            num_threads=self.num_threads,
            random_state=self.random_state,
        )
