"""Serving latency: ``recommend`` for one customer, in-process, with a 50,000-product catalogue.

Synthetic data (seeded): 20,000 customers, 50,000 products, 1,000,000 interactions with a long-tailed
popularity. Prints the median and 95th percentile of single-customer calls per algorithm. Target (issue):
median under 1 ms. ``blend`` is served with the components and weights it learnt on the Complete Journey
(repurchase 1, ALS 0.03 with the regularisation it chose there, trending popularity 0.03), so its three
models are all scored on every call.

    .venv/bin/python benchmarks/recommend_serving.py [--items 50000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kizuna.recommend.base import Recommender
from kizuna.recommend.blend import Blend
from kizuna.recommend.data import TrainingData
from kizuna.recommend.registry import algorithm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--algorithm", nargs="*", default=["popularity", "als", "cooccurrence", "blend"])
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    users = rng.integers(0, args.users, args.interactions)
    items = np.minimum(rng.zipf(1.3, args.interactions) - 1, args.items - 1)
    items = rng.permutation(args.items)[items]
    data = TrainingData.from_ids(users, items, all_products=np.arange(args.items))
    print(f"{data.n_users:,} customers, {data.n_items:,} products, {len(data.interactions):,} interactions")
    print(f"{'algorithm':<14}{'fit s':>8}{'median ms':>11}{'p95 ms':>9}  target median < 1 ms")
    customers = rng.choice(data.customer_ids, args.calls)
    for name in args.algorithm:
        started = time.perf_counter()
        model: Recommender = algorithm(name)()
        if name == "blend":
            model = Blend(
                components=["repurchase", "als", "popularity"],
                weights=[1.0, 0.03, 0.03],
                component_params={"als": {"regularization": 31.6}},
            )
        model.fit(data)
        fit = time.perf_counter() - started
        model.recommend(int(customers[0]), n=10)
        timings = []
        for customer in customers:
            t0 = time.perf_counter()
            model.recommend(int(customer), n=10)
            timings.append((time.perf_counter() - t0) * 1000)
        median, p95 = np.median(timings), np.percentile(timings, 95)
        verdict = "PASS" if median < 1.0 else "FAIL"
        print(f"{name:<14}{fit:>8.1f}{median:>11.3f}{p95:>9.3f}  {verdict}")


if __name__ == "__main__":
    main()
