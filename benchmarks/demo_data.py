"""How long ``kizuna demo-data`` takes, and how much memory it needs.

Runs the real command in a child process (default: a million customers into a fresh SQLite file), then
prints the wall time, the child's peak resident memory and the rows per table, against the target of
600 seconds for a million customers. Exits non-zero only when the command itself fails.

    .venv/bin/python benchmarks/demo_data.py                      # 1,000,000 customers, temp SQLite
    .venv/bin/python benchmarks/demo_data.py --customers 100000 \\
        --db postgresql+psycopg://root@127.0.0.1:5432/kizuna_bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 600.0


def _command() -> list[str]:
    script = Path(sys.executable).with_name("kizuna")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kizuna.cli import main; main()"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-01-31", help="YYYY-MM-DD (fixed for comparable runs)")
    parser.add_argument("--db", default=None, help="database URL (default: a fresh temp SQLite file)")
    parser.add_argument("--keep", action="store_true", help="keep the temp SQLite file")
    args = parser.parse_args()

    workdir = None
    url = args.db
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="kizuna-bench-"))
        url = f"sqlite:///{workdir / 'demo.db'}"
    command = [
        *_command(), "demo-data", "--customers", str(args.customers), "--seed", str(args.seed),
        "--as-of", args.as_of, "--db", url,
    ]  # fmt: skip
    print(f"running: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"kizuna demo-data failed with exit code {code}", file=sys.stderr)
        return 1

    # Imported here so that the child's start-up is measured without this process's imports.
    from kizuna.store import open_store
    from kizuna.store.bulk import count_rows
    from kizuna.store.tables import TABLES_IN_ORDER

    store = open_store(url)
    with store.engine.connect() as conn:
        counts = count_rows(conn, [m.__table__ for m in TABLES_IN_ORDER])
    store.dispose()
    peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
    print()
    print(f"customers:   {args.customers:,} (seed {args.seed}, as of {args.as_of})")
    print(f"database:    {url}")
    if workdir is not None:
        size = sum(p.stat().st_size for p in workdir.iterdir())
        print(f"file size:   {size / 2**30:.2f} GiB")
    print(f"wall time:   {seconds:.1f} s")
    print(f"peak RSS:    {peak_mib:,.0f} MiB")
    rate = sum(counts.values()) / seconds
    print(f"rows/s:      {rate:,.0f}")
    for table, n in counts.items():
        print(f"  {table:<20} {n:>12,}")
    scaled = seconds * 1_000_000 / args.customers
    if url.startswith("sqlite"):
        verdict = "PASS" if scaled <= TARGET_SECONDS else "FAIL"
        note = "" if args.customers == 1_000_000 else f", scaled linearly from {args.customers:,}"
        print(f"target:      {TARGET_SECONDS:.0f} s per 1,000,000 customers into SQLite -> {verdict}")
        print(f"             ({scaled:.0f} s per million{note})")
    else:
        print(
            f"per million: {scaled:.0f} s, scaled linearly (the {TARGET_SECONDS:.0f} s target is for SQLite)"
        )
    if workdir is not None and not args.keep:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
