"""Write a synthetic readings lake in the contract's layout (docs/specs/readings.md) for the benchmark.

``python bench/readings/make_lake.py [OUT_DIR] [--orgs N] [--points N] [--readings N] [--seed N]``

Defaults: 10 organizations × 100 points = **1,000 points**, **100,000 readings** each at a 15-minute interval
(from 2024-01-01 00:00 Asia/Shanghai, about 2.85 years) = **100 million rows**, written to
``/tmp/carbonmeter-lake-100m``. The same arguments always give the same rows.

Layout and batches, as the lake writer produces them: one batch per organization and local calendar month
(an enterprise uploading its month), each batch one zstd Parquet file per partition it touches,
``<lake>/org=<credit code>/y=<YYYY>/m=<MM>/b<batch:08d>-0.parquet``, rows sorted by point then time. All
quantities are interval quantities (summed), so the figure is the monthly-totals path every ledger page
takes. Each file gets its day sums (``_sums/<same path>``, ``carbonmeter.readings.sums.summarize``), as
``lake.stage`` writes them. On top, each organization has one **correction batch** that re-sends one day of
five points with new values: the aggregation must let those rows win over the originals (the dedup is part
of what is measured, not skipped because the data happen to be clean).

The contract's columns are all present (``orig_value`` as text, ``unit``, ``factor``…) so that file sizes
and the Parquet reader's work are those of real data; the values are random (a gamma distribution, three
decimals), which compresses worse than real meter data.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carbonmeter.readings import sums
from carbonmeter.readings.lake import FILE_SCHEMA

LOCAL = timedelta(hours=8)  # Asia/Shanghai, no DST since 1991
START_LOCAL = datetime(2024, 1, 1)  # naive local wall time of the first reading
STEP = timedelta(minutes=15)
QUANTITIES = (
    ("consumption_mass", "t"),
    ("consumption_volume", "m**3"),
    ("consumption_energy", "GJ"),
    ("electricity", "MWh"),
    ("production", "t"),
)

SCHEMA = FILE_SCHEMA  # the contract's file columns, as the ingest writer stores them


def credit_code(i: int) -> str:
    """An 18-character unified social credit code look-alike (letters in it, so no engine reads it as a
    number from the partition path)."""
    return f"91500000MA{i:07d}X"


def month_starts(first: datetime, last: datetime) -> list[datetime]:
    """Local month starts from the month of ``first`` to the one after ``last`` (exclusive bounds)."""
    out = []
    y, m = first.year, first.month
    while datetime(y, m, 1) <= last:
        out.append(datetime(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    out.append(datetime(y, m, 1))
    return out


def batch_table(
    points: list[str],
    quantities: list[tuple[str, str]],
    slots: np.ndarray,
    values: np.ndarray,
    batch: int,
) -> pa.Table:
    """One batch file: ``points`` × ``slots`` (slot numbers from the start), point-major, with ``values``
    shaped (points, slots)."""
    n_slots = len(slots)
    n = len(points) * n_slots
    start_us = int((START_LOCAL - LOCAL).replace(tzinfo=UTC).timestamp()) * 1_000_000
    ts_us = start_us + np.tile(slots.astype(np.int64) * 900_000_000, len(points))
    value = pa.array(values.reshape(-1), pa.float64())
    qty = [q for q, _ in quantities]
    units = [u for _, u in quantities]
    return pa.table(
        {
            "point": pa.DictionaryArray.from_arrays(
                np.repeat(np.arange(len(points), dtype=np.int32), n_slots), pa.array(points)
            ).cast(pa.string()),
            "quantity": pa.array(np.repeat(np.array(qty, dtype=object), n_slots), pa.string()),
            "ts": pa.array(ts_us, pa.timestamp("us", tz="UTC")),
            "value": value,
            "unit": pa.array(np.repeat(np.array(units, dtype=object), n_slots), pa.string()),
            "orig_value": pc.cast(value, pa.string()),
            "orig_unit": pa.array(np.repeat(np.array(units, dtype=object), n_slots), pa.string()),
            "factor": pa.array(np.ones(n), pa.float64()),
            "offset": pa.array(np.zeros(n), pa.float64()),
            "sample_id": pa.nulls(n, pa.string()),
            "analyzed_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            "laboratory": pa.nulls(n, pa.string()),
            "batch": pa.array(np.full(n, batch, dtype=np.int64)),
            "row": pa.array(np.arange(2, n + 2, dtype=np.int64)),
        },
        schema=SCHEMA,
    )


def write(table: pa.Table, lake: Path, org: str, month: datetime, batch: int) -> None:
    """Write one batch file in its hive partition, and its day sums as the lake writer does."""
    part = lake / f"org={org}" / f"y={month.year:04d}" / f"m={month.month:02d}"
    part.mkdir(parents=True, exist_ok=True)
    path = part / f"b{batch:08d}-0.parquet"
    pq.write_table(table, path, compression="zstd")
    sums.write(lake / sums.sums_path(path.relative_to(lake).as_posix()), sums.summarize(table))


def make_lake(lake: Path, *, orgs: int, points: int, readings: int, seed: int) -> dict[str, int]:
    """Write the lake; return counts (rows, files, batches, corrected rows)."""
    rng = np.random.default_rng(seed)
    per_org = points // orgs
    last_local = START_LOCAL + STEP * (readings - 1)
    months = month_starts(START_LOCAL, last_local)
    org_codes = [credit_code(i + 1) for i in range(orgs)]
    point_codes = [f"P{j:04d}" for j in range(per_org)]
    quantities = [QUANTITIES[j % len(QUANTITIES)] for j in range(per_org)]
    scale = rng.uniform(0.5, 20.0, size=(orgs, per_org))
    batch = 0
    rows = files = 0
    for m0, m1 in itertools.pairwise(months):
        lo = max(0, int((m0 - START_LOCAL) / STEP))
        hi = min(readings, int((m1 - START_LOCAL) / STEP))
        if hi <= lo:
            continue
        slots = np.arange(lo, hi)
        for o, org in enumerate(org_codes):
            batch += 1
            values = np.round(rng.gamma(2.0, 1.0, size=(per_org, len(slots))) * scale[o][:, None], 3)
            write(batch_table(point_codes, quantities, slots, values, batch), lake, org, m0, batch)
            rows += per_org * len(slots)
            files += 1
    corrected = 0
    day = 96  # one local day of 15-minute slots
    first = int((datetime(2025, 12, 10) - START_LOCAL) / STEP)
    if first + day <= readings:
        for org in org_codes:
            batch += 1
            pts = point_codes[:5]
            values = np.round(rng.gamma(2.0, 1.0, size=(len(pts), day)) * 1.1, 3)
            slots = np.arange(first, first + day)
            write(
                batch_table(pts, quantities[:5], slots, values, batch),
                lake,
                org,
                datetime(2025, 12, 1),
                batch,
            )
            corrected += len(pts) * day
            rows += len(pts) * day
            files += 1
    return {"rows": rows, "files": files, "batches": batch, "corrected": corrected}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="/tmp/carbonmeter-lake-100m", help="lake directory (replaced)")
    ap.add_argument("--orgs", type=int, default=10)
    ap.add_argument("--points", type=int, default=1000, help="points in all (split evenly over orgs)")
    ap.add_argument("--readings", type=int, default=100_000, help="readings per point")
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args(argv)
    lake = Path(args.out)
    if lake.exists():
        shutil.rmtree(lake)
    lake.mkdir(parents=True)
    t0 = time.perf_counter()
    counts = make_lake(lake, orgs=args.orgs, points=args.points, readings=args.readings, seed=args.seed)
    size = sum(p.stat().st_size for p in lake.glob("org=*/y=*/m=*/*.parquet"))
    print(
        f"{lake}: {counts['rows']:,} rows ({counts['corrected']:,} of them corrections) in {counts['files']} "
        f"files, {counts['batches']} batches, {size / 1e6:.0f} MB, {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
