"""Content-based similarity on a large catalogue: fitting ``content`` on the Complete Journey's product texts.

The texts are those kizuna compares once the Complete Journey is imported (title from product type and size,
category path, brand, attributes); ``--products N`` takes the first N of its 92,331 products. Prints the fit
time (TF-IDF and each product's 50 nearest) and the peak resident memory.

    .venv/bin/python benchmarks/content_similarity.py [--data DIR] [--products N]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

from kizuna.recommend.content import ContentBased
from kizuna.recommend.data import TrainingData
from recommend_completejourney import texts

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=shared / "dunnhumby-completejourney-8451-pypi")
    parser.add_argument("--products", type=int, default=None, help="the first N products (default: all)")
    args = parser.parse_args()
    found = texts(args.data / "products.parquet")
    ids = np.array(sorted(found))[: args.products]
    # Who chose what does not change the text similarities; a few choices make the data valid.
    data = TrainingData.from_ids(ids[:100], ids[:100], all_products=ids)
    started = time.perf_counter()
    model = ContentBased(texts=found).fit(data)
    seconds = time.perf_counter() - started
    assert model.similarity is not None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(ids):,} products: content fitted in {seconds:.1f} s, {model.similarity.nnz:,} similarities "
          f"kept, peak RSS {peak:,.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
