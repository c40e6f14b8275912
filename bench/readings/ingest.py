"""Ingest throughput: our pipeline against the obvious alternatives, on the same synthetic rows.

``python bench/readings/ingest.py [--rows 10000000] [--points 1000] [--dir DIR] [--loop-cap 1000000]``

The rows: ``--points`` measuring points (default 1,000), one reading each every 15 minutes from
2024-01-01 00:00 Asia/Shanghai, in time order (``--rows 100000000`` is the issue's 100 M: 1,000 points ×
100,000 readings, about 2.85 years). Written once as CSV (text, as plants export it) and as Parquet (typed).

Measured, each in a fresh process (so peak memory is its own), from file to fsynced Parquet in a lake:

* **ours** — ``carbonmeter.readings``: read, validate every row (plan, quantity, unit, time, range,
  duplicates in the file and against the lake), content hash, stage zstd files per month, publish. No
  database (the batch row is one INSERT); the lake starts empty, so the look-up of stored rows is cheap.
* **pandas loop** — ``pandas.read_csv`` then a Python loop doing the same checks row by row, then
  ``to_parquet``: what one writes first. Run on at most ``--loop-cap`` rows (it is slow), reported in rows/s.
* **pandas vectorised** — the same checks as pandas column operations (no per-row Python).
* **DuckDB COPY** — ``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``: no validation at
  all, the floor for turning the file into Parquet.

Prints a table of wall seconds, rows/s, ratio to ours, CPU seconds, rows per CPU second and peak RSS, and
the machine it ran on (with its load average: on a shared machine the wall figures move with it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ORG = "91500000000000000X"
START = "2024-01-01 00:00:00"  # local (Asia/Shanghai)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_VALUE = 1000.0


def point_codes(n: int) -> list[str]:
    return [f"P{i:04d}" for i in range(n)]


def generate(folder: Path, rows: int, points: int) -> tuple[Path, Path]:
    """CSV and Parquet of the same rows, made by DuckDB (seconds even for 100 M rows)."""
    import duckdb

    csv_path, parquet_path = folder / f"readings-{rows}.csv", folder / f"readings-{rows}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return csv_path, parquet_path
    con = duckdb.connect()
    select = f"""
        SELECT 'P' || lpad(CAST(i % {points} AS VARCHAR), 4, '0') AS point,
               TIMESTAMP '{START}' + INTERVAL 15 MINUTE * (i // {points}) AS ts,
               round(hash(i) % 1000000 / 1000.0, 3) AS value, 't' AS unit
        FROM range({rows}) r(i)"""
    con.sql(
        f"COPY (SELECT point, strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts, value, unit FROM ({select})) "
        f"TO '{csv_path}' (HEADER, DELIMITER ',')"
    )
    con.sql(f"COPY ({select}) TO '{parquet_path}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return csv_path, parquet_path


# --- the methods (each runs in its own process) ------------------------------------------------------


def run_ours(source: Path, out: Path, points: int, cap: int) -> int:
    from carbonmeter.readings import ingest, lake

    plan = ingest.Plan(
        ORG, {c: ingest.PointPlan(c, "consumption_mass", 0.0, MAX_VALUE) for c in point_codes(points)}
    )
    src = ingest.read_source(source)
    outcome = ingest.validate(src, plan, lake=out, now=NOW)
    assert not outcome.quarantined, outcome.quarantined[:3]
    staged = lake.stage(out, ORG, 1, outcome.accepted)
    lake.publish(staged)
    return int(outcome.accepted.num_rows)


def run_pandas_loop(source: Path, out: Path, points: int, cap: int) -> int:
    """Read with pandas, check each row in Python, write with pandas."""
    from zoneinfo import ZoneInfo

    import pandas as pd

    frame = pd.read_csv(source, dtype=str, keep_default_na=False, nrows=cap)
    plan = set(point_codes(points))
    shanghai = ZoneInfo("Asia/Shanghai")
    keep_point, keep_ts, keep_value, bad = [], [], [], []
    seen: set[tuple[str, datetime]] = set()
    for i, (point, ts, value, unit) in enumerate(
        zip(frame["point"], frame["ts"], frame["value"], frame["unit"], strict=True)
    ):
        row = i + 2
        if point not in plan:
            bad.append((row, "RD-POINT"))
            continue
        try:
            when = datetime.fromisoformat(ts).replace(tzinfo=shanghai).astimezone(UTC)
        except ValueError:
            bad.append((row, "RD-TIME"))
            continue
        try:
            v = float(value)
        except ValueError:
            bad.append((row, "RD-PARSE"))
            continue
        factor = {"t": 1.0, "kg": 0.001}.get(unit)
        if factor is None:
            bad.append((row, "RD-UNIT"))
            continue
        v *= factor
        if not 0.0 <= v <= MAX_VALUE or when > NOW:
            bad.append((row, "RD-RANGE"))
            continue
        if (point, when) in seen:
            bad.append((row, "RD-DUPROW"))
            continue
        seen.add((point, when))
        keep_point.append(point)
        keep_ts.append(when)
        keep_value.append(v)
    assert not bad, bad[:3]
    result = pd.DataFrame({"point": keep_point, "ts": keep_ts, "value": keep_value})
    out.mkdir(parents=True, exist_ok=True)
    result.to_parquet(out / "part.parquet", compression="zstd", index=False)
    return len(result)


def run_pandas_vectorised(source: Path, out: Path, points: int, cap: int) -> int:
    """The same checks as pandas column operations."""
    import pandas as pd

    if source.suffix == ".csv":
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        ts = pd.to_datetime(frame["ts"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        value = pd.to_numeric(frame["value"], errors="coerce")
    else:
        frame = pd.read_parquet(source)
        ts, value = frame["ts"], frame["value"]
    ts = ts.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    factor = frame["unit"].map({"t": 1.0, "kg": 0.001})
    value = value * factor
    ok = (
        frame["point"].isin(point_codes(points))
        & ts.notna()
        & value.notna()
        & value.between(0.0, MAX_VALUE)
        & (ts <= pd.Timestamp(NOW))
    )
    dup = pd.DataFrame({"p": frame["point"], "t": ts}).duplicated(keep=False)
    assert bool(ok.all()) and not bool(dup.any())
    result = pd.DataFrame({"point": frame["point"], "ts": ts, "value": value, "orig_value": frame["value"]})
    local = ts.dt.tz_convert("Asia/Shanghai")
    result["y"], result["m"] = local.dt.year, local.dt.month
    out.mkdir(parents=True, exist_ok=True)
    result.to_parquet(out, partition_cols=["y", "m"], compression="zstd", index=False)
    return len(result)


def run_duckdb_copy(source: Path, out: Path, points: int, cap: int) -> int:
    """No validation: the file straight into Parquet."""
    import duckdb

    con = duckdb.connect()
    reader = (
        f"read_csv('{source}', header = true)" if source.suffix == ".csv" else f"read_parquet('{source}')"
    )
    out.mkdir(parents=True, exist_ok=True)
    con.sql(f"COPY (SELECT * FROM {reader}) TO '{out / 'part.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    rows = con.sql(f"SELECT count(*) FROM read_parquet('{out / 'part.parquet'}')").fetchall()[0][0]
    con.close()
    return int(rows)


METHODS = {
    "ours": run_ours,
    "pandas-loop": run_pandas_loop,
    "pandas-vectorised": run_pandas_vectorised,
    "duckdb-copy": run_duckdb_copy,
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(method: str, source: Path, out: Path, points: int, cap: int) -> None:
    started, cpu = time.perf_counter(), _cpu()
    rows = METHODS[method](source, out, points, cap)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb}))


def measure(method: str, source: Path, work: Path, points: int, cap: int) -> dict[str, Any]:
    out = work / f"out-{method}-{source.suffix[1:]}"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", method, str(source), str(out), str(points), str(cap)],
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(out, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} on {source.name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb
    import pandas
    import pyarrow

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}, pandas {pandas.__version__}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--child":
        name, source_arg, out_arg, points_arg, cap_arg = args[1:6]
        child(name, Path(source_arg), Path(out_arg), int(points_arg), int(cap_arg))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--dir", type=Path, default=Path("/tmp/carbonmeter-bench-ingest"))
    p.add_argument("--loop-cap", type=int, default=1_000_000, help="rows for the pandas loop (it is slow)")
    p.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS)
    )
    opts = p.parse_args(args)
    opts.dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    t0 = time.perf_counter()
    csv_path, parquet_path = generate(opts.dir, opts.rows, opts.points)
    csv_mb, parquet_mb = csv_path.stat().st_size / 1e6, parquet_path.stat().st_size / 1e6
    print(
        f"data: {opts.rows:,} rows, {opts.points:,} points, 15 min; CSV {csv_mb:,.0f} MB, "
        f"Parquet {parquet_mb:,.0f} MB (generated in {time.perf_counter() - t0:.1f} s)"
    )
    methods = [m for m in opts.methods.split(",") if m]
    results: list[tuple[str, str, dict[str, Any]]] = []
    for source in (csv_path, parquet_path):
        for method in methods:
            if method == "pandas-loop" and source.suffix != ".csv":
                continue
            results.append(
                (method, source.suffix[1:], measure(method, source, opts.dir, opts.points, opts.loop_cap))
            )
    ours = {fmt: r["rows"] / r["seconds"] for m, fmt, r in results if m == "ours"}
    print()
    head = ("method", "input", "rows", "seconds", "rows/s", "vs ours", "CPU s", "rows/CPU s", "peak MB")
    print("{:<18} {:<8} {:>12} {:>8} {:>11} {:>8} {:>7} {:>11} {:>8}".format(*head))
    for method, fmt, r in results:
        rate = r["rows"] / r["seconds"]
        ratio = rate / ours[fmt] if fmt in ours else float("nan")
        cells = (
            method,
            fmt,
            r["rows"],
            r["seconds"],
            rate,
            ratio,
            r["cpu"],
            r["rows"] / r["cpu"],
            r["peak_mb"],
        )
        print(
            "{:<18} {:<8} {:>12,} {:>8.2f} {:>11,.0f} {:>7.2f}× {:>7.2f} {:>11,.0f} {:>8,.0f}".format(*cells)
        )
    print(
        "\nvs ours: the method's rows/s divided by ours on the same input (below 1: slower than ours). "
        "CPU s: user + system time of the process (all threads): less sensitive than wall time to other "
        "work on the machine."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
