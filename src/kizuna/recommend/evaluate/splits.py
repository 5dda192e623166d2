"""Train/test splits of interactions, following Microsoft Recommenders' conventions.

Interactions are parallel arrays in index space: ``user`` (row), ``item`` (column), ``weight`` and ``time``
(epoch seconds, NaN when unknown). Every splitter is a pure function returning ``(train, test)``: each
interaction lands in exactly one of the two, and both keep the input's order.

Test rows whose user or item never occurs in train are kept: whether to drop them (cold start) or score
them with a fallback is the caller's decision, and it changes the figures, so it belongs in one visible place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Interactions:
    """Who interacted with what, how strongly and when, as parallel arrays.

    Attributes:
        user: Row index of the customer, int64.
        item: Column index of the product, int64.
        weight: Strength of the interaction, float64.
        time: Epoch seconds, float64; NaN where the time is unknown.
    """

    user: IntArray
    item: IntArray
    weight: FloatArray
    time: FloatArray

    def __post_init__(self) -> None:
        # Coerce once here so every splitter and metric can rely on the dtypes.
        arrays = {
            "user": np.asarray(self.user, dtype=np.int64),
            "item": np.asarray(self.item, dtype=np.int64),
            "weight": np.asarray(self.weight, dtype=np.float64),
            "time": np.asarray(self.time, dtype=np.float64),
        }
        for name, array in arrays.items():
            if array.ndim != 1:
                raise ValueError(f"Interactions.{name} must be one-dimensional, got shape {array.shape}")
            object.__setattr__(self, name, array)
        lengths = {name: len(array) for name, array in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"Interactions arrays must have the same length, got {lengths}")

    def __len__(self) -> int:
        return len(self.user)

    def subset(self, mask_or_index: npt.ArrayLike) -> Interactions:
        """The interactions selected by a boolean mask or an array of positions."""
        selector = np.asarray(mask_or_index)
        if selector.dtype != np.bool_:
            selector = selector.astype(np.int64)
        return Interactions(
            self.user[selector], self.item[selector], self.weight[selector], self.time[selector]
        )

    def decay(self, half_life_days: float) -> FloatArray:
        """Per interaction, 0.5 ** (days before the newest timed interaction / ``half_life_days``).

        Interactions without a time count fully (1.0), and so does everything when none is timed.
        """
        timed = np.isfinite(self.time)
        newest = np.nanmax(self.time) if timed.any() else 0.0
        age_days = np.where(timed, (newest - self.time) / _SECONDS_PER_DAY, 0.0)
        out: FloatArray = np.power(0.5, age_days / half_life_days)
        return out

    def to_csr(self, n_users: int, n_items: int) -> sparse.csr_matrix:
        """The ``n_users × n_items`` matrix of weights; repeated (user, item) pairs are summed."""
        matrix = sparse.csr_matrix((self.weight, (self.user, self.item)), shape=(n_users, n_items))
        matrix.sum_duplicates()
        return matrix


def stratified_split(
    data: Interactions, ratio: float = 0.75, seed: int = 42
) -> tuple[Interactions, Interactions]:
    """Per user, a random share ``ratio`` of that user's interactions goes to train, the rest to test.

    This is Microsoft Recommenders' ``python_stratified_split``, draw for draw, so that its published
    benchmark rows can be compared with ours on the same split: every interaction, in the input's order,
    draws a key from NumPy's legacy generator seeded with ``seed`` (``RandomState(seed).rand(n)``); each
    user's interactions are ranked by key, and those whose rank / count is at most ``ratio`` go to train. A
    user with ``n`` interactions therefore keeps ``floor(ratio × n)`` of them for training (2 at 0.75 keep
    1, 5 at 0.5 keep 2). One difference: a user's first-ranked interaction always stays in train, so every
    test user has a history (there, a user's only interaction goes to test).

    The same seed gives the same split of the same interactions in the same order; load them in a stable
    order (:func:`kizuna.recommend.data.load_training_data` does) for the split to be reproducible.

    Args:
        data: The interactions to split.
        ratio: Share of each user's interactions kept for training, strictly between 0 and 1.
        seed: Seed of the random keys.

    Returns:
        ``(train, test)``, each in the input's order.

    Raises:
        ValueError: If ``ratio`` is not strictly between 0 and 1.
    """
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio must be strictly between 0 and 1 (the share kept for training), got {ratio}")
    n = len(data)
    keys = np.random.RandomState(seed).rand(n)  # the legacy stream on purpose: the same draws as there
    order = np.lexsort((keys, data.user))
    _, group, counts = np.unique(data.user[order], return_inverse=True, return_counts=True)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(n) - starts[group] + 1
    # The same float comparison as there (rank / count <= ratio), so edge cases round alike.
    in_train = np.zeros(n, dtype=np.bool_)
    in_train[order] = (rank / counts[group] <= ratio) | (rank == 1)
    return data.subset(in_train), data.subset(~in_train)


def temporal_split(data: Interactions, test_start: float) -> tuple[Interactions, Interactions]:
    """Everything before ``test_start`` is train; everything at or after it is test.

    Test rows for users or items absent from train are kept; drop them if the evaluation needs known users.

    Args:
        data: The interactions to split; every one must have a time.
        test_start: Epoch seconds where the test period begins (inclusive).

    Returns:
        ``(train, test)``, each in the input's order.

    Raises:
        ValueError: If ``test_start`` is not a finite number or an interaction has no time.
    """
    if not np.isfinite(test_start):
        raise ValueError(f"test_start must be a finite epoch time in seconds, got {test_start}")
    _require_times(data, "temporal_split")
    in_test = data.time >= test_start
    return data.subset(~in_test), data.subset(in_test)


def temporal_split_last(data: Interactions, days: float) -> tuple[Interactions, Interactions]:
    """The last ``days`` days of the data's time span are test, the rest train.

    The test period starts ``days`` days before the latest interaction, inclusive. Test rows for users or
    items absent from train are kept, as in `temporal_split`.

    Args:
        data: The interactions to split; every one must have a time.
        days: Length of the test period in days, positive (fractions allowed).

    Returns:
        ``(train, test)``, each in the input's order.

    Raises:
        ValueError: If ``days`` is not positive, there is nothing to split, or an interaction has no time.
    """
    if not (np.isfinite(days) and days > 0):
        raise ValueError(f"days must be a positive number of days for the test period, got {days}")
    if len(data) == 0:
        raise ValueError("temporal_split_last needs at least one interaction to find where the data ends")
    _require_times(data, "temporal_split_last")
    test_start = float(data.time.max()) - days * _SECONDS_PER_DAY
    return temporal_split(data, test_start)


def leave_last_out(data: Interactions) -> tuple[Interactions, Interactions]:
    """Each user's latest interaction is test; the rest is train.

    When a user has several interactions at the latest time, the one that comes last in the input is taken.
    Users with a single interaction keep it in train, so every test user has a history.

    Args:
        data: The interactions to split; every one must have a time.

    Returns:
        ``(train, test)``, each in the input's order; test has at most one row per user.

    Raises:
        ValueError: If an interaction has no time.
    """
    _require_times(data, "leave_last_out")
    n = len(data)
    position = np.arange(n)
    # Sorted by user, then time, then position: the last row of each user's run is the one to hold out.
    order = np.lexsort((position, data.time, data.user))
    sorted_user = data.user[order]
    last_of_user = np.ones(n, dtype=np.bool_)
    last_of_user[:-1] = sorted_user[:-1] != sorted_user[1:]
    first_of_user = np.ones(n, dtype=np.bool_)
    first_of_user[1:] = sorted_user[1:] != sorted_user[:-1]
    in_test = np.zeros(n, dtype=np.bool_)
    # A row that is both first and last is the user's only interaction: it stays in train.
    in_test[order] = last_of_user & ~first_of_user
    return data.subset(~in_test), data.subset(in_test)


def _require_times(data: Interactions, splitter: str) -> None:
    missing = int(np.isnan(data.time).sum())
    if missing:
        raise ValueError(
            f"{splitter} needs a time for every interaction, but {missing} of {len(data)} have none (NaN); "
            "use stratified_split, or drop the rows without a time first"
        )
