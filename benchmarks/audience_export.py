"""How long exporting a million-customer audience takes, for each ad platform's format.

The audience is segment ``bench-all-with-email`` (every customer with an email) on an existing demo store;
the script adds that segment and rebuilds it when it is missing or empty (not timed), and writes nothing
else to the store. Each platform is exported twice into a scratch directory: a first export (full file and
state) and a second one (full file, adds and removals against the first). Target: under 30 s per export at
1,000,000 customers.

    .venv/bin/python benchmarks/audience_export.py                      # /tmp/kz-bench/demo-1m.db
    .venv/bin/python benchmarks/audience_export.py --db postgresql+psycopg://USER@HOST/DB
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from kizuna.channels.audiences import PLATFORMS, export_audience
from kizuna.segments.conditions import AttributeCondition
from kizuna.segments.membership import rebuild
from kizuna.segments.registry import SegmentDefinition, save_segments
from kizuna.store import open_store
from kizuna.store.automation import Segment

SEGMENT = "bench-all-with-email"
TARGET_SECONDS = 30.0
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/kz-bench/demo-1m.db", help="store URL")
    parser.add_argument("--platform", choices=PLATFORMS, action="append", help="default: every platform")
    args = parser.parse_args()
    store = open_store(args.db)
    with store.engine.connect() as conn:
        count = conn.execute(select(Segment.member_count).where(Segment.name == SEGMENT)).scalar_one_or_none()
    if not count:
        print(f"adding segment {SEGMENT} and rebuilding it (not timed)", flush=True)
        condition = AttributeCondition(attribute="email", exists=True)
        save_segments(
            store, [SegmentDefinition(SEGMENT, condition, "Benchmark: every customer with an email")]
        )
        started = time.perf_counter()
        (done,) = rebuild(store, SEGMENT, now=NOW)
        print(f"  {done.members:,} members in {time.perf_counter() - started:.1f} s", flush=True)
    slow = False
    with tempfile.TemporaryDirectory(prefix="kz-audiences-") as scratch:
        for platform in args.platform or PLATFORMS:
            for run in ("first", "second"):
                started = time.perf_counter()
                result = export_audience(store, SEGMENT, platform=platform, out_dir=Path(scratch), now=NOW)
                seconds = time.perf_counter() - started
                slow |= seconds > TARGET_SECONDS
                size = result.files["full"].stat().st_size / 1e6
                print(
                    f"{platform:7} {run:6}: {seconds:6.1f} s  members {result.members:,}  "
                    f"rows {result.exported:,}  no consent {result.no_consent:,}  "
                    f"adds {result.adds}  removals {result.removals}  full file {size:.0f} MB",
                    flush=True,
                )
    print(f"target: under {TARGET_SECONDS:.0f} s per export" + ("  (MISSED)" if slow else ""))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
