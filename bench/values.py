"""Benchmark: the annual point values of one plant from the readings lake (docs/benchmarks.md §5).

``python bench/values.py [LAKE] [--org N] [--year Y] [--case ours|pandas|check]``

The lake is the one ``bench/readings/make_lake.py`` writes (default ``/tmp/carbonmeter-lake-100m``: 10
organizations × 100 points × 100,000 readings at 15 minutes from 2024-01-01, 100 M rows, with day sums and
one correction batch per organization). One plant is one organization: 100 points, 35,040 quarter hours
each in 2025, 3.5 M readings of the year.

* ``ours``: :func:`carbonmeter.readings.values.activity_values` — the data ledger's monthly totals of the
  year (``aggregate.totals(period="month")`` on DuckDB over the day sums, latest batch wins where batches
  overlap) summed to each point's annual value with availability and substituted share;
* ``pandas``: the obvious alternative, pandas over the raw Parquet files of the organization's year:
  ``read_parquet`` + "latest batch wins" (``sort_values`` + ``drop_duplicates``) + ``groupby(point)``;
* ``check``: both in one process, the values compared (relative 1e-9: the engines add floats in
  different orders).

Each case prints its own query time (from the first import of the engine to holding the values) on stderr
and the values' checksum on stdout; time the cases as whole processes side by side with any process timer
(``/usr/bin/time -v``), several runs each.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_LAKE = "/tmp/carbonmeter-lake-100m"
#: bench/readings/make_lake.py: point j of an organization measures QUANTITIES[j % 5].
QUANTITIES = (
    ("consumption_mass", "t"),
    ("consumption_volume", "m^3"),
    ("consumption_energy", "GJ"),
    ("electricity", "MWh"),
    ("production", "t"),
)
POINTS = 100
INTERVAL = 900


def credit_code(i: int) -> str:
    return f"91500000MA{i:07d}X"


def ours(lake: Path, org: str, year: int) -> dict[str, tuple[float, int]]:
    from carbonmeter.readings.engines import duckdb_backend
    from carbonmeter.readings.values import ActivityProfile, activity_values

    profiles = {
        f"P{j:04d}": ActivityProfile(unit=QUANTITIES[j % len(QUANTITIES)][1], expected_interval=INTERVAL)
        for j in range(POINTS)
    }
    values, _gaps = activity_values(duckdb_backend(lake), org=org, year=year, profiles=profiles)
    return {p: (v.value, v.n) for p, v in values.items()}


def pandas(lake: Path, org: str, year: int) -> dict[str, tuple[float, int]]:
    import pandas as pd

    files = sorted((lake / f"org={org}" / f"y={year:04d}").glob("m=*/*.parquet"))
    frame = pd.concat(
        [pd.read_parquet(f, columns=["point", "quantity", "ts", "value", "batch"]) for f in files],
        ignore_index=True,
    )
    frame["point"] = frame["point"].astype(str)
    latest = frame.sort_values("batch", kind="stable").drop_duplicates(
        ["point", "quantity", "ts"], keep="last"
    )
    grouped = latest.groupby("point")["value"].agg(["sum", "count"])
    return {str(p): (float(r["sum"]), int(r["count"])) for p, r in grouped.iterrows()}


def compare(a: dict[str, tuple[float, int]], b: dict[str, tuple[float, int]]) -> int:
    """Points whose value or count differ (values relative 1e-9)."""
    differ = set(a) ^ set(b)
    for p in set(a) & set(b):
        if a[p][1] != b[p][1] or not math.isclose(a[p][0], b[p][0], rel_tol=1e-9):
            differ.add(p)
    return len(differ)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("lake", nargs="?", default=DEFAULT_LAKE)
    ap.add_argument(
        "--org", type=int, default=1, help="organization number (1-based, as make_lake names them)"
    )
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--case", choices=("ours", "pandas", "check"), default="ours")
    args = ap.parse_args(argv)
    lake = Path(args.lake)
    if not (lake / f"org={credit_code(args.org)}").is_dir():
        print(
            f"{lake}: no organization {credit_code(args.org)}; run bench/readings/make_lake.py",
            file=sys.stderr,
        )
        return 2
    runs: dict[str, Any] = {}
    cases = ("ours", "pandas") if args.case == "check" else (args.case,)
    for case in cases:
        t0 = time.perf_counter()
        result = (ours if case == "ours" else pandas)(lake, credit_code(args.org), args.year)
        elapsed = time.perf_counter() - t0
        runs[case] = result
        total = math.fsum(v for v, _ in result.values())
        n = sum(c for _, c in result.values())
        print(f"{case}: {len(result)} points, {n} readings, sum {total:.6f}", flush=True)
        print(f"{case}: query {elapsed:.3f} s", file=sys.stderr, flush=True)
    if args.case == "check":
        differ = compare(runs["ours"], runs["pandas"])
        print(f"points that differ: {differ} of {len(runs['ours'])}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
