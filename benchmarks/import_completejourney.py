"""How fast, and in how much memory, ``kizuna import completejourney`` loads the full 84.51° files.

Each import runs in its own process on an empty store (a fresh SQLite file; for PostgreSQL the schema of the
given database is dropped and created again), so wall time and peak memory (max RSS of that process) are
its own. A second import into the same store is timed too: it must add nothing.

    python benchmarks/import_completejourney.py                      # SQLite
    python benchmarks/import_completejourney.py --sqlite --postgres postgresql+psycopg://USER@HOST/DB

Targets: SQLite ≤ 60 s, PostgreSQL ≤ 120 s, peak memory < 2 GB. A missed target prints FAIL; the exit
status is non-zero only when something breaks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "dunnhumby-completejourney-8451-pypi"
TARGET_SECONDS = {"sqlite": 60.0, "postgresql": 120.0}
TARGET_RSS_MB = 2048.0


@dataclass
class Run:
    """One import process."""

    backend: str
    label: str
    added: int
    import_seconds: float
    wall_seconds: float
    peak_mb: float


def _child(url: str, folder: str) -> None:
    """Run one import and print what it added, as JSON (the parent measures time and memory)."""
    from kizuna.ingest.datasets.completejourney import import_completejourney
    from kizuna.store import open_store

    summary = import_completejourney(open_store(url), Path(folder))
    print(json.dumps({"added": summary.total_added, "seconds": summary.seconds}))


def _measure(backend: str, label: str, url: str, folder: Path) -> Run:
    command = [sys.executable, __file__, "--child", url, str(folder)]
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        # wait4 gives this child's own peak RSS; RUSAGE_CHILDREN would be the largest of all children so far.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            sys.stderr.write(errors.read())
            raise SystemExit(f"{backend} {label}: the import failed with exit status {process.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(backend, label, result["added"], result["seconds"], wall, peak_mb)


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _bench(backend: str, url: str, folder: Path) -> list[Run]:
    first = _measure(backend, "first import", url, folder)
    second = _measure(backend, "second import", url, folder)
    if second.added:
        raise SystemExit(f"{backend}: the second import added {second.added} rows; it must add none")
    return [first, second]


def _table(runs: list[Run]) -> str:
    header = (
        f"{'backend':<11} {'run':<14} {'rows added':>11} {'import s':>9} {'process s':>10} "
        f"{'target s':>9} {'peak MB':>8} {'target MB':>10}  result"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        first = run.label == "first import"
        target = TARGET_SECONDS[run.backend]
        verdict = ""
        if first:
            ok = run.wall_seconds <= target and run.peak_mb < TARGET_RSS_MB
            verdict = "PASS" if ok else "FAIL"
        lines.append(
            f"{run.backend:<11} {run.label:<14} {run.added:>11,} {run.import_seconds:>9.1f} "
            f"{run.wall_seconds:>10.1f} {(f'{target:.0f}' if first else '-'):>9} {run.peak_mb:>8.0f} "
            f"{(f'{TARGET_RSS_MB:.0f}' if first else '-'):>10}  {verdict}".rstrip()
        )
    return "\n".join(lines)


def _default_data() -> Path:
    return Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT / ".." / "shared" / "data"))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=_default_data(),
        help=f"the shared data folder holding {FOLDER}/ (or that folder itself); "
        "default: KIZUNA_SHARED_DATA, else ../shared/data beside the repository",
    )
    parser.add_argument("--sqlite", action="store_true", help="run on a fresh SQLite file (the default)")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this PostgreSQL database (emptied first!)"
    )
    args = parser.parse_args()
    data = args.data.resolve()
    folder = data if (data / "transactions.parquet").is_file() else data / FOLDER
    if not (folder / "transactions.parquet").is_file():
        parser.error(f"{folder} does not hold transactions.parquet; give --data")
    runs: list[Run] = []
    if args.sqlite or not args.postgres:
        with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as scratch:
            runs += _bench("sqlite", f"sqlite:///{scratch}/store.db", folder)
    if args.postgres:
        _reset_postgres(args.postgres)
        runs += _bench("postgresql", args.postgres, folder)
    print(f"kizuna import completejourney: {folder}")
    print(_table(runs))


if __name__ == "__main__":
    main()
