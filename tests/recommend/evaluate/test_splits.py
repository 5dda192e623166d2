"""Train/test splitters and the Interactions container."""

from __future__ import annotations

import numpy as np
import pytest

from kizuna.recommend.evaluate.splits import (
    Interactions,
    leave_last_out,
    stratified_split,
    temporal_split,
    temporal_split_last,
)

DAY = 86_400.0


def make(users: list[int], times: list[float] | None = None) -> Interactions:
    """Interactions whose weight is the row's position, so every row can be told apart after a split."""
    n = len(users)
    time = np.full(n, np.nan) if times is None else np.asarray(times, dtype=np.float64)
    return Interactions(np.asarray(users), np.arange(n) % 5, np.arange(n, dtype=np.float64), time)


def users_with_counts(counts: dict[int, int]) -> Interactions:
    # Users interleaved, not grouped, so the splitter cannot rely on sorted input.
    rng = np.random.default_rng(0)
    users = rng.permutation([u for u, c in counts.items() for _ in range(c)])
    return make(users.tolist())


def rows(data: Interactions) -> list[int]:
    return [int(w) for w in data.weight]


def assert_partition(data: Interactions, train: Interactions, test: Interactions) -> None:
    """Nothing lost, nothing duplicated, and each side keeps the input's order."""
    assert sorted(rows(train) + rows(test)) == rows(data)
    assert not set(rows(train)) & set(rows(test))
    assert rows(train) == sorted(rows(train))
    assert rows(test) == sorted(rows(test))
    for side in (train, test):
        positions = side.weight.astype(int)
        assert (side.user == data.user[positions]).all()
        assert (side.item == data.item[positions]).all()


# --- Interactions ---------------------------------------------------------------------------------------


def test_interactions_len_subset_and_csr() -> None:
    user, item = np.array([0, 0, 1, 0]), np.array([2, 2, 0, 1])
    data = Interactions(user, item, np.array([1.0, 2.5, 4.0, 1.0]), np.full(4, np.nan))
    assert len(data) == 4
    assert rows(data.subset(np.array([True, False, True, False]))) == [1, 4]
    assert data.subset(np.array([3, 0])).item.tolist() == [1, 2]
    matrix = data.to_csr(3, 3)
    # The two (0, 2) rows are summed: 1.0 + 2.5.
    assert matrix.toarray().tolist() == [[0.0, 1.0, 3.5], [4.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert matrix.nnz == 3


def test_interactions_coerces_dtypes_and_checks_lengths() -> None:
    data = Interactions([0, 1], [1, 0], [1, 1], [0, 0])  # type: ignore[arg-type]
    assert data.user.dtype == np.int64 and data.weight.dtype == np.float64
    with pytest.raises(ValueError, match="same length"):
        Interactions(np.array([0, 1]), np.array([0]), np.array([1.0, 1.0]), np.array([0.0, 0.0]))


# --- stratified_split -----------------------------------------------------------------------------------


def test_stratified_is_deterministic_with_the_same_seed() -> None:
    data = users_with_counts({u: 8 for u in range(20)})
    first_train, first_test = stratified_split(data, 0.75, seed=7)
    second_train, second_test = stratified_split(data, 0.75, seed=7)
    assert rows(first_train) == rows(second_train)
    assert rows(first_test) == rows(second_test)
    # The default seed is 42.
    assert rows(stratified_split(data)[0]) == rows(stratified_split(data, seed=42)[0])


def test_stratified_differs_with_another_seed() -> None:
    data = users_with_counts({u: 8 for u in range(20)})
    assert rows(stratified_split(data, seed=1)[1]) != rows(stratified_split(data, seed=2)[1])


def test_stratified_respects_the_ratio_per_user() -> None:
    counts = {0: 1, 1: 2, 2: 4, 3: 5, 4: 8, 5: 10}
    data = users_with_counts(counts)
    train, test = stratified_split(data, 0.75)
    assert_partition(data, train, test)
    # floor(0.75 * n), but never below one: 1 → 1; 2 → 1; 4 → 3; 5 → 3; 8 → 6; 10 → 7.
    expected = {0: 1, 1: 1, 2: 3, 3: 3, 4: 6, 5: 7}
    assert {u: int((train.user == u).sum()) for u in counts} == expected
    assert {u: int((test.user == u).sum()) for u in counts} == {u: counts[u] - expected[u] for u in counts}


def test_stratified_keeps_one_interaction_in_train() -> None:
    # 0.2 * 2 = 0.4 leaves none, but a user always keeps one training interaction; a single one stays.
    data = users_with_counts({0: 2, 1: 1})
    train, test = stratified_split(data, 0.2)
    assert sorted(train.user.tolist()) == [0, 1]
    assert test.user.tolist() == [0]


def test_stratified_compares_rank_over_count_as_floats() -> None:
    # rank / count <= ratio: 0.5 * 5 keeps 2; 0.35 * 90 = 31.499999999999996 keeps 31, since 32 / 90 > 0.35.
    assert len(stratified_split(users_with_counts({0: 5}), 0.5)[0]) == 2
    assert len(stratified_split(users_with_counts({0: 90}), 0.35)[0]) == 31
    assert len(stratified_split(users_with_counts({0: 20}), 0.75)[0]) == 15


def _reference_split(user: np.ndarray, ratio: float, seed: int) -> np.ndarray:
    """Microsoft Recommenders' python_stratified_split, written out with pandas as it is there."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"user": user, "position": np.arange(len(user))})
    np.random.seed(seed)  # the reference seeds the global legacy generator
    frame["random"] = np.random.rand(len(frame))
    frame = frame.sort_values(["user", "random"])
    groups = frame.groupby("user")
    frame["rank"] = (groups.cumcount() + 1) / groups["user"].transform("count")
    in_train = np.zeros(len(user), dtype=bool)
    in_train[frame.loc[frame["rank"] <= ratio, "position"].to_numpy()] = True
    return in_train


@pytest.mark.parametrize(("ratio", "seed"), [(0.75, 42), (0.8, 7), (0.5, 3)])
def test_stratified_draws_the_same_split_as_microsoft_recommenders(ratio: float, seed: int) -> None:
    # Users of 2 to 60 interactions, interleaved: every user keeps at least one in train there too.
    rng = np.random.default_rng(1)
    data = users_with_counts({u: int(rng.integers(2, 61)) for u in range(40)})
    train, _ = stratified_split(data, ratio, seed=seed)
    expected = _reference_split(data.user, ratio, seed)
    assert rows(train) == np.flatnonzero(expected).tolist()


def test_stratified_of_nothing_is_nothing() -> None:
    train, test = stratified_split(make([]), 0.5)
    assert len(train) == 0 and len(test) == 0


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_stratified_refuses_ratio_outside_zero_one(ratio: float) -> None:
    with pytest.raises(
        ValueError, match=r"ratio must be strictly between 0 and 1 \(the share kept for training\)"
    ):
        stratified_split(make([0, 0]), ratio)


# --- temporal splits ------------------------------------------------------------------------------------


def test_temporal_split_boundary_is_in_test() -> None:
    data = make([0, 0, 1, 2], [30.0, 10.0, 20.0, 19.999])
    train, test = temporal_split(data, test_start=20.0)
    assert_partition(data, train, test)
    assert train.time.tolist() == [10.0, 19.999]
    assert test.time.tolist() == [30.0, 20.0]


def test_temporal_split_keeps_test_users_unknown_to_train() -> None:
    # User 1 only appears after the boundary: the row stays in test, the caller decides what to do with it.
    train, test = temporal_split(make([0, 1], [1.0, 5.0]), test_start=3.0)
    assert train.user.tolist() == [0]
    assert test.user.tolist() == [1]


def test_temporal_split_refuses_missing_times() -> None:
    data = make([0, 0, 1, 1], [1.0, np.nan, 2.0, np.nan])
    with pytest.raises(
        ValueError, match=r"temporal_split needs a time for every interaction, but 2 of 4 have none"
    ):
        temporal_split(data, 1.5)
    with pytest.raises(ValueError, match="test_start must be a finite epoch time"):
        temporal_split(make([0], [1.0]), float("inf"))


def test_temporal_split_last_takes_the_last_days() -> None:
    # The data ends on day 10; the last 2 days start at day 8 exactly, which is test.
    data = make([0, 1, 2, 3, 4], [0.0, 7.9 * DAY, 8 * DAY, 9.5 * DAY, 10 * DAY])
    train, test = temporal_split_last(data, days=2)
    assert_partition(data, train, test)
    assert rows(train) == [0, 1]
    assert rows(test) == [2, 3, 4]
    # Half a day starts exactly at row 3 (day 9.5), which is included; a bit less leaves only the last.
    assert rows(temporal_split_last(data, days=0.5)[1]) == [3, 4]
    assert rows(temporal_split_last(data, days=0.4)[1]) == [4]


def test_temporal_split_last_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="days must be a positive number of days"):
        temporal_split_last(make([0], [1.0]), days=0)
    with pytest.raises(ValueError, match="needs at least one interaction"):
        temporal_split_last(make([]), days=1)
    with pytest.raises(
        ValueError, match="temporal_split_last needs a time for every interaction, but 1 of 2"
    ):
        temporal_split_last(make([0, 1], [1.0, np.nan]), days=1)


# --- leave_last_out -------------------------------------------------------------------------------------


def test_leave_last_out_picks_each_users_latest() -> None:
    # User 0: latest is row 2 (t=9). User 1: rows 3 and 5 tie at t=7, the later position (5) is held out.
    # User 2: a single interaction, which stays in train.
    data = make([0, 0, 0, 1, 2, 1, 1], [5.0, 1.0, 9.0, 7.0, 3.0, 7.0, 2.0])
    train, test = leave_last_out(data)
    assert_partition(data, train, test)
    assert rows(test) == [2, 5]
    assert rows(train) == [0, 1, 3, 4, 6]


def test_leave_last_out_holds_out_one_row_per_user() -> None:
    rng = np.random.default_rng(3)
    users = rng.integers(0, 30, 500)
    data = make(users.tolist(), rng.uniform(0, 1000, 500).round().tolist())
    train, test = leave_last_out(data)
    assert_partition(data, train, test)
    assert len(np.unique(test.user)) == len(test)
    # Every held-out row is at or after all of that user's training rows.
    for user, time in zip(test.user, test.time, strict=True):
        assert (train.time[train.user == user] <= time).all()
    assert set(test.user.tolist()) == {u for u in users.tolist() if (users == u).sum() > 1}


def test_leave_last_out_refuses_missing_times() -> None:
    with pytest.raises(ValueError, match="leave_last_out needs a time for every interaction, but 1 of 1"):
        leave_last_out(make([0]))


def test_decay_halves_per_half_life_before_the_newest_and_spares_untimed() -> None:
    day = 86_400.0
    data = Interactions(np.zeros(4), np.zeros(4), np.ones(4), np.array([10 * day, 3 * day, np.nan, -4 * day]))
    np.testing.assert_allclose(data.decay(7.0), [1.0, 0.5, 1.0, 0.25])
    untimed = Interactions(np.zeros(2), np.zeros(2), np.ones(2), np.full(2, np.nan))
    np.testing.assert_allclose(untimed.decay(7.0), [1.0, 1.0])
