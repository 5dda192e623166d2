"""The Hillstrom e-mail experiment measured by kizuna, next to Hillstrom's published figures.

Imports the full ``hillstrom.csv`` (64,000 customers) into a scratch SQLite store, runs the experiment
report and prints each arm's visit rate, conversion rate and spend per customer beside the published values,
then each e-mail arm's uplift over no e-mail with its 95 % interval.

    .venv/bin/python benchmarks/measure_hillstrom.py [PATH]   # default ../shared/data/hillstrom-email-2008
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from kizuna.ingest.datasets.hillstrom import import_hillstrom
from kizuna.measure.experiment import measure_experiment
from kizuna.store import open_store

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "hillstrom-email-2008" / "hillstrom.csv"
#: Hillstrom (2008): visit %, conversion %, spend per customer ($).
PUBLISHED = {
    "Mens E-Mail": (18.28, 1.25, 1.42),
    "Womens E-Mail": (15.14, 0.88, 1.08),
    "No E-Mail": (10.62, 0.57, 0.65),
}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.is_file():
        print(f"no file {path}")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{scratch}/hillstrom.db")
        started = time.perf_counter()
        import_hillstrom(store, path)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        with store.session() as session:
            report = measure_experiment(session, "hs-email-2008")
        measured = time.perf_counter() - started
        store.dispose()
    print(f"import {imported:.1f} s, report {measured:.2f} s")
    print(
        f"{'arm':15} {'n':>7} {'visit %':>8} {'pub.':>6} {'conv %':>7} {'pub.':>5} {'spend':>6} {'pub.':>5}"
    )
    exact = True
    for arm, (visit, conv, spend) in PUBLISHED.items():
        a = report.arm(arm)
        ours = (
            round(a.response_rate * 100, 2),
            round(a.conversion_rate * 100, 2),
            round(a.revenue_per_customer, 2),
        )
        exact &= ours == (visit, conv, spend)
        print(
            f"{arm:15} {a.customers:>7,} {ours[0]:>8.2f} {visit:>6.2f} {ours[1]:>7.2f} {conv:>5.2f} "
            f"{ours[2]:>6.2f} {spend:>5.2f}"
        )
    print(f"all published figures reproduced: {exact}")
    for item in report.uplifts:
        for u in item.uplifts:
            scale = 100 if u.metric != "revenue_per_customer" else 1
            print(
                f"{item.arm:15} {u.metric:22} {u.difference * scale:+.2f} "
                f"[{u.low * scale:+.2f}, {u.high * scale:+.2f}] p={u.p_value:.2g}  {u.verdict()}"
            )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
