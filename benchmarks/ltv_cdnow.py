"""BG/NBD and Gamma-Gamma fitted by kizuna on the CDNOW sample, next to the published parameters.

Imports ``CDNOW_sample.txt`` (2,357 customers) into a scratch SQLite store and runs ``compute_values`` at
the end of the calibration period of Fader, Hardie and Lee (2005): 1997-01-01 to 1997-09-30, in weeks.
Prints the parameters beside the paper's (and the Gamma-Gamma note's, Fader and Hardie 2013) with the
difference in per cent, and the seconds the fit took.

    .venv/bin/python benchmarks/ltv_cdnow.py [PATH]   # default ../shared/data/cdnow/CDNOW_sample.txt
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from kizuna.ingest.datasets.cdnow import import_cdnow
from kizuna.measure.value import compute_values
from kizuna.store import open_store

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
END_OF_CALIBRATION = datetime(1997, 9, 30, tzinfo=UTC)
PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.is_file():
        print(f"no file {path}")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{scratch}/cdnow.db")
        import_cdnow(store, path)
        report = compute_values(store, now=END_OF_CALIBRATION, horizon_days=365)
        store.dispose()
    assert report.bgnbd is not None and report.gamma_gamma is not None
    ours = {
        "r": report.bgnbd.r,
        "alpha": report.bgnbd.alpha,
        "a": report.bgnbd.a,
        "b": report.bgnbd.b,
        "p": report.gamma_gamma.p,
        "q": report.gamma_gamma.q,
        "gamma": report.gamma_gamma.gamma,
    }
    print(f"customers {report.customers:,}; BG/NBD log-likelihood {report.bgnbd.log_likelihood:.1f}")
    print(f"{'param':6} {'kizuna':>9} {'paper':>8} {'diff %':>7}")
    worst = 0.0
    for name, value in ours.items():
        diff = (value - PAPER[name]) / PAPER[name] * 100
        worst = max(worst, abs(diff))
        print(f"{name:6} {value:>9.4f} {PAPER[name]:>8.3f} {diff:>+7.2f}")
    print(f"fit {report.fit_seconds:.2f} s (BG/NBD + Gamma-Gamma); largest difference {worst:.2f} %")
    print(f"RFM segments: {dict(report.segments.most_common())}")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
