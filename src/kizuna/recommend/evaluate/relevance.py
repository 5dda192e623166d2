"""Which held-out choices count as right answers: shared by evaluation and by the blend's own validation."""

from __future__ import annotations

import numpy as np

from kizuna.recommend.data import TrainingData


def relevant_items(train: TrainingData, test: TrainingData, *, repeats: bool = False) -> dict[int, set[int]]:
    """Per customer row with a training history: the item columns they chose in test.

    By default only items not already in their training part count ("new to them", the usual protocol for
    ratings); with ``repeats`` every test item counts, which is what a grocer measures: did the customer buy
    what we showed, whether or not they had bought it before.

    Customers with no training history are left out: a ranking metric measures personalisation, and cold-start
    customers only ever get the popularity fallback.
    """
    n_items = train.n_items
    test_keys = np.unique(test.interactions.user * n_items + test.interactions.item)
    if repeats:
        new = test_keys
    else:
        train_keys = np.unique(train.interactions.user * n_items + train.interactions.item)
        new = test_keys[~np.isin(test_keys, train_keys)]
    users, items = new // n_items, new % n_items
    has_history = np.zeros(train.n_users, dtype=bool)
    has_history[train.interactions.user] = True
    keep = has_history[users]
    relevant: dict[int, set[int]] = {}
    for u, i in zip(users[keep].tolist(), items[keep].tolist(), strict=True):
        relevant.setdefault(u, set()).add(i)
    return relevant
