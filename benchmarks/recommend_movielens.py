"""Recommenders on MovieLens-100k, with the protocol of Microsoft Recommenders' MovieLens benchmark.

Random per-user stratified 75/25 split (seed 42, drawn as their ``python_stratified_split`` draws it, from
u.data in file order), every test rating relevant, seen items removed, k = 10. Published rows there:
popularity nDCG@10 0.253, SAR 0.394, BPR 0.445, BiVAE 0.469. Hyperparameters are chosen on a validation
split carved out of the training data (never the test split); the blend learns its components' weights,
EASE's λ and ALS's regularisation on its own split of the training data.

    .venv/bin/python benchmarks/recommend_movielens.py [--data DIR] [--json PATH] [--only NAME ...]
        [--split-seed 42] [--blend-seed 42] [--defaults]

``--split-seed`` draws another test split (the published protocol is 42), ``--blend-seed`` another validation
split inside the blend: how much the figures move with either. ``--defaults`` fits every algorithm with its
defaults (what ``kizuna evaluate`` fits) instead of choosing its hyperparameters on validation.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from kizuna.ingest.datasets.movielens import import_movielens
from kizuna.recommend.data import load_training_data
from kizuna.recommend.evaluate.run import score_model
from kizuna.recommend.evaluate.splits import stratified_split
from kizuna.recommend.registry import ALGORITHMS
from kizuna.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
GRID: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "cooccurrence": [{"neighbours": k, "shrink": s} for k in (50, 200) for s in (0.0, 10.0)],
    "ease": [
        {"regularisation": r, "session_seconds": t}
        for r in (150.0, 300.0, 600.0, 1000.0)
        for t in (0.0, 120.0)
    ],
    "spectral": [{"components": c} for c in (16, 32, 64, 128)],
    "als": [
        {"factors": f, "regularization": r, "alpha": a}
        for f in (32, 64)
        for r in (0.1, 1.0, 10.0, 30.0)
        for a in (1.0, 5.0)
    ],
    "bpr": [{"factors": 64, "learning_rate": lr, "iterations": 200} for lr in (0.01, 0.05)],
    "content": [{}],
    "together": [{}],
    "repurchase": [{}],
    "blend": [{}],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data")) / "movielens-100k"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--only", nargs="*", choices=list(GRID), default=list(GRID))
    parser.add_argument("--split-seed", type=int, default=42, help="seed of the 75/25 test split")
    parser.add_argument("--blend-seed", type=int, default=42, help="seed of the blend's validation split")
    parser.add_argument("--defaults", action="store_true", help="every algorithm with its defaults, as "
                        "`kizuna evaluate` fits them, instead of choosing on validation")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/ml.db")
        import_movielens(store, args.data)
        run(store, args)


def run(store: Store, args: argparse.Namespace) -> None:
    """Split, choose on validation, fit on train and score on test, for every algorithm in ``--only``."""
    k = args.k
    fixed: dict[str, dict[str, Any]] = {"blend": {"seed": args.blend_seed}}  # every fit of the algorithm
    data = load_training_data(store)
    split = stratified_split(data.interactions, 0.75, seed=args.split_seed)
    train, test = (data.with_interactions(x) for x in split)
    fit_part, valid = (train.with_interactions(x) for x in stratified_split(train.interactions, 0.8, seed=7))

    results: dict[str, dict[str, float]] = {}
    print(f"MovieLens-100k: {data.n_users} users, {data.n_items} items, {len(data.interactions)} ratings; "
          f"split seed {args.split_seed}, blend seed {args.blend_seed}")  # fmt: skip
    print(f"{'algorithm':<14}{'params':<44}{'valid ndcg':>11}{'ndcg@10':>9}{'prec@10':>9}{'recall@10':>10}"
          f"{'map@10':>8}{'train s':>9}")  # fmt: skip
    for name in args.only:
        grid = [{}] if args.defaults else GRID[name]

        def validation_ndcg(params: dict[str, Any], name: str = name) -> float:
            model = ALGORITHMS[name].from_store(store, **params, **fixed.get(name, {})).fit(fit_part)
            return score_model(model, fit_part, valid, k)[f"ndcg@{k}"]

        valid_ndcg, best = float("nan"), grid[0]
        if len(grid) > 1:
            valid_ndcg, best = max(((validation_ndcg(p), p) for p in grid), key=lambda t: t[0])
        started = time.perf_counter()
        model = ALGORITHMS[name].from_store(store, **best, **fixed.get(name, {})).fit(train)
        seconds = time.perf_counter() - started
        metrics = score_model(model, train, test, k)
        results[name] = {**metrics, "train_seconds": seconds}
        shown = best
        if "validation" in model.metrics:  # what the model chose on its own split of train
            shown = dict(model.metrics["validation"].get("chosen_params", {}))
            if "components" in model.params():  # the blend
                weights = dict(zip(model.params()["components"], model.params()["weights"], strict=True))
                shown = {"weights": weights, **shown}
        print(f"{name:<14}{json.dumps(shown):<44}{valid_ndcg:>11.3f}{metrics[f'ndcg@{k}']:>9.3f}"
              f"{metrics[f'precision@{k}']:>9.3f}{metrics[f'recall@{k}']:>10.3f}"
              f"{metrics[f'map@{k}']:>8.3f}{seconds:>9.2f}")  # fmt: skip
    print("published (MS Recommenders): popularity 0.253, SAR 0.394, BPR 0.445, BiVAE 0.469; target ≥ 0.50")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
