"""Ingest throughput: our pipeline against the obvious alternatives, on the same synthetic rows.

``python bench/readings/ingest.py [--rows 10000000] [--points 1000] [--split none|month] [--dir DIR]
[--loop-cap 1000000] [--methods ours,pandas-loop,pandas-vectorised,duckdb-copy]``

The rows: ``--points`` measuring points (default 1,000), one reading each every 15 minutes from
2024-01-01 00:00 Asia/Shanghai, in time order (``--rows 100000000`` is the issue's 100 M: 1,000 points ×
100,000 readings, about 2.85 years). Written once as CSV (text, as plants export it) and as Parquet (typed):

* ``--split none`` (default): one file of all rows. The pipeline holds a batch in memory (about 210 bytes
  a row), so this is for up to some tens of millions of rows.
* ``--split month``: one file per local (Asia/Shanghai) calendar month, as plants upload them (1,000
  points: about 2.9 M rows a month, 35 files for 100 M rows). Each method ingests the months in order into
  one and the same output, each month its own batch (ours: batch 1, 2, 3 …).

Measured, each in a fresh process (so peak memory is its own), from file to fsynced Parquet in a lake:

* **ours** — ``carbonmeter.readings``: read, validate every row (plan, quantity, unit, time, range,
  duplicates in the file and against the lake), content hash, stage zstd files per month with their day
  sums, publish. No database (the batch row is one INSERT). The look-up of stored rows reads only the lake
  partitions (local months) the file touches: with one file per local month that partition is still empty
  when the month arrives, so the look-up finds no file. To show what a real look-up costs, the monthly run
  then re-sends the first month into the full lake (every row a duplicate of batch 1): its time,
  CPU and memory are reported apart, not in the table.
* **pandas loop** — ``pandas.read_csv`` then a Python loop doing the same checks row by row, then
  ``to_parquet``: what one writes first. Run on at most ``--loop-cap`` rows of the first file (it is
  slow), reported in rows/s.
* **pandas vectorised** — the same checks as pandas column operations (no per-row Python), appended to one
  hive-partitioned (year, month) output; from the second file on it also checks the file's (point, ts) keys
  against the rows already stored in the partitions the file touches (as ours does). It keeps no content
  hash, no day sums, no fsync, no staging/publish, and reports no per-row fate.
* **DuckDB COPY** — ``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``: no validation at
  all, the floor for turning the file into Parquet.

Prints a table of wall seconds, rows/s, ratio to ours, CPU seconds, rows per CPU second and peak RSS, and
the machine it ran on (with its load average: on a shared machine the wall figures move with it); with
``--split month`` also ours' slowest and fastest month and its rate for every month.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ORG = "91500000000000000X"
START = "2024-01-01 00:00:00"  # local (Asia/Shanghai)
STEP = timedelta(minutes=15)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_VALUE = 1000.0


def point_codes(n: int) -> list[str]:
    return [f"P{i:04d}" for i in range(n)]


def _select(points: int, first: int, end: int) -> str:
    """Rows ``first`` ≤ i < ``end`` of the synthetic series (row i: point i % points, step i // points)."""
    return f"""
        SELECT 'P' || lpad(CAST(i % {points} AS VARCHAR), 4, '0') AS point,
               TIMESTAMP '{START}' + INTERVAL 15 MINUTE * (i // {points}) AS ts,
               round(hash(i) % 1000000 / 1000.0, 3) AS value, 't' AS unit
        FROM range({first}, {end}) r(i)"""


def _copy(con: Any, select: str, csv_path: Path, parquet_path: Path) -> None:
    con.sql(
        f"COPY (SELECT point, strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts, value, unit FROM ({select})) "
        f"TO '{csv_path}' (HEADER, DELIMITER ',')"
    )
    con.sql(f"COPY ({select}) TO '{parquet_path}' (FORMAT parquet, COMPRESSION zstd)")


def generate(folder: Path, rows: int, points: int) -> tuple[Path, Path]:
    """CSV and Parquet of the same rows, made by DuckDB (seconds even for 100 M rows)."""
    import duckdb

    csv_path, parquet_path = folder / f"readings-{rows}.csv", folder / f"readings-{rows}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return csv_path, parquet_path
    con = duckdb.connect()
    _copy(con, _select(points, 0, rows), csv_path, parquet_path)
    con.close()
    return csv_path, parquet_path


def month_ranges(rows: int, points: int) -> list[tuple[str, int, int]]:
    """``(YYYY-MM, first, end)``: the rows of each local calendar month (the series is in time order and a
    month starts on a quarter hour, so each month is one run of rows)."""
    start = datetime.fromisoformat(START)
    out: list[tuple[str, int, int]] = []
    y, m = start.year, start.month
    while True:
        first_step = -((start - datetime(y, m, 1)) // STEP)  # first step at or after the month's start
        if first_step * points >= rows:
            return out
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        end_step = -((start - datetime(ny, nm, 1)) // STEP)
        out.append((f"{y:04d}-{m:02d}", max(first_step, 0) * points, min(end_step * points, rows)))
        y, m = ny, nm


def generate_months(folder: Path, rows: int, points: int) -> tuple[list[Path], list[Path]]:
    """One CSV and one Parquet file per local month, ``<folder>/months-<rows>-<points>/{csv,parquet}/``."""
    import duckdb

    base = folder / f"months-{rows}-{points}"
    months = month_ranges(rows, points)
    csvs = [base / "csv" / f"{label}.csv" for label, _, _ in months]
    parquets = [base / "parquet" / f"{label}.parquet" for label, _, _ in months]
    if (base / "done").exists():
        return csvs, parquets
    shutil.rmtree(base, ignore_errors=True)
    (base / "csv").mkdir(parents=True)
    (base / "parquet").mkdir(parents=True)
    con = duckdb.connect()
    for (_, first, end), csv_path, parquet_path in zip(months, csvs, parquets, strict=True):
        _copy(con, _select(points, first, end), csv_path, parquet_path)
    con.close()
    (base / "done").write_text(json.dumps({"rows": rows, "points": points, "files": len(months)}))
    return csvs, parquets


# --- the methods (each runs in its own process, over the files in order) -----------------------------


def run_ours(sources: list[Path], out: Path, points: int, cap: int) -> dict[str, Any]:
    from carbonmeter.readings import ingest, lake

    plan = ingest.Plan(
        ORG, {c: ingest.PointPlan(c, "consumption_mass", 0.0, MAX_VALUE) for c in point_codes(points)}
    )
    total, months = 0, []
    for seq, source in enumerate(sources, start=1):
        started = time.perf_counter()
        src = ingest.read_source(source)
        outcome = ingest.validate(src, plan, lake=out, now=NOW)
        assert not outcome.quarantined, outcome.quarantined[:3]
        assert not outcome.duplicates, outcome.duplicates[:3]
        staged = lake.stage(out, ORG, seq, outcome.accepted)
        lake.publish(staged)
        rows = int(outcome.accepted.num_rows)
        total += rows
        months.append((source.stem, rows, time.perf_counter() - started))
    result: dict[str, Any] = {"rows": total}
    if len(sources) > 1:
        # Not in the totals: the first month again, into the full lake (a real look-up of stored rows).
        result["peak_mb"] = _peak_mb()  # of the months; the re-upload's is reported with it
        started, cpu = time.perf_counter(), _cpu()
        src = ingest.read_source(sources[0])
        outcome = ingest.validate(src, plan, lake=out, now=NOW)
        duplicate = outcome.counts["duplicate"]
        assert outcome.accepted.num_rows == 0 and duplicate == src.rows, outcome.counts
        seconds = time.perf_counter() - started
        result |= {
            "months": months,
            "reupload": {
                "file": sources[0].stem,
                "rows": src.rows,
                "duplicate": duplicate,
                "seconds": seconds,
                "peak_mb": _peak_mb(),
            },
            "excluded_seconds": seconds,
            "excluded_cpu": _cpu() - cpu,
        }
    return result


def run_pandas_loop(sources: list[Path], out: Path, points: int, cap: int) -> dict[str, Any]:
    """Read with pandas, check each row in Python, write with pandas (the first file, ``cap`` rows)."""
    from zoneinfo import ZoneInfo

    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    frame = pd.read_csv(sources[0], dtype=str, keep_default_na=False, nrows=cap)
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
    return {"rows": len(result)}


def run_pandas_vectorised(sources: list[Path], out: Path, points: int, cap: int) -> dict[str, Any]:
    """The same checks as pandas column operations, each file appended to one partitioned output after a
    check of its keys against the rows stored in the partitions it touches."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    codes = point_codes(points)
    total = 0
    out.mkdir(parents=True, exist_ok=True)
    for source in sources:
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
            frame["point"].isin(codes)
            & ts.notna()
            & value.notna()
            & value.between(0.0, MAX_VALUE)
            & (ts <= pd.Timestamp(NOW))
        )
        dup = pd.DataFrame({"p": frame["point"], "t": ts}).duplicated(keep=False)
        assert bool(ok.all()) and not bool(dup.any())
        result = pd.DataFrame(
            {"point": frame["point"], "ts": ts, "value": value, "orig_value": frame["value"].astype(str)}
        )
        local = ts.dt.tz_convert("Asia/Shanghai")
        result["y"], result["m"] = local.dt.year, local.dt.month
        parts = [out / f"y={y}" / f"m={m}" for y, m in result[["y", "m"]].drop_duplicates().itertuples(False)]
        stored = [pd.read_parquet(p, columns=["point", "ts"]) for p in parts if p.is_dir()]
        if stored:
            keys = pd.concat(stored)
            keys["ts"] = keys["ts"].astype(ts.dtype)
            clash = pd.MultiIndex.from_arrays([frame["point"], ts]).isin(
                pd.MultiIndex.from_frame(keys[["point", "ts"]])
            )
            assert not bool(clash.any()), "rows already stored"
        result.to_parquet(out, partition_cols=["y", "m"], compression="zstd", index=False)
        total += len(result)
    return {"rows": total}


def run_duckdb_copy(sources: list[Path], out: Path, points: int, cap: int) -> dict[str, Any]:
    """No validation: each file straight into Parquet."""
    import duckdb

    con = duckdb.connect()
    out.mkdir(parents=True, exist_ok=True)
    for i, source in enumerate(sources):
        reader = (
            f"read_csv('{source}', header = true)" if source.suffix == ".csv" else f"read_parquet('{source}')"
        )
        target = out / f"part-{i:04d}.parquet"
        con.sql(f"COPY (SELECT * FROM {reader}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    rows = con.sql(f"SELECT count(*) FROM read_parquet('{out / '*.parquet'}')").fetchall()[0][0]
    con.close()
    return {"rows": int(rows)}


METHODS = {
    "ours": run_ours,
    "pandas-loop": run_pandas_loop,
    "pandas-vectorised": run_pandas_vectorised,
    "duckdb-copy": run_duckdb_copy,
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(method: str, sources: list[Path], out: Path, points: int, cap: int) -> None:
    started, cpu = time.perf_counter(), _cpu()
    result = METHODS[method](sources, out, points, cap)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    result["seconds"] = seconds - result.pop("excluded_seconds", 0.0)
    result["cpu"] = cpu - result.pop("excluded_cpu", 0.0)
    result.setdefault("peak_mb", _peak_mb())
    print(json.dumps(result))


def measure(method: str, sources: list[Path], work: Path, points: int, cap: int) -> dict[str, Any]:
    out = work / f"out-{method}-{sources[0].suffix[1:]}"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", method, str(out), str(points), str(cap), *map(str, sources)],
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(out, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} on {sources[0].name} … failed:\n{done.stderr}")
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


def _mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def print_months(fmt: str, r: dict[str, Any]) -> None:
    """Ours per month: slowest, fastest, every month's rate, and the re-upload into the full lake."""
    rates = [(rows / seconds, label, rows, seconds) for label, rows, seconds in r["months"]]
    slow, fast = min(rates), max(rates)
    print(
        f"ours {fmt}: {len(rates)} months; slowest {slow[1]} {slow[0]:,.0f} rows/s ({slow[2]:,} rows, "
        f"{slow[3]:.2f} s); fastest {fast[1]} {fast[0]:,.0f} rows/s ({fast[2]:,} rows, {fast[3]:.2f} s)"
    )
    print("  M rows/s by month: " + " ".join(f"{rate / 1e6:.2f}" for rate, *_ in rates))
    up = r["reupload"]
    print(
        f"  re-upload of {up['file']} into the full lake (not in the table): {up['rows']:,} rows, "
        f"{up['duplicate']:,} duplicate, {up['seconds']:.2f} s, {up['rows'] / up['seconds']:,.0f} rows/s, "
        f"process peak with it {up['peak_mb']:,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--child":
        name, out_arg, points_arg, cap_arg, *source_args = args[1:]
        child(name, [Path(s) for s in source_args], Path(out_arg), int(points_arg), int(cap_arg))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--points", type=int, default=1000)
    p.add_argument(
        "--split",
        choices=("none", "month"),
        default="none",
        help="none: one file of all rows; month: one file per local calendar month, ingested in order",
    )
    p.add_argument("--dir", type=Path, default=Path("/tmp/carbonmeter-bench-ingest"))
    p.add_argument("--loop-cap", type=int, default=1_000_000, help="rows for the pandas loop (it is slow)")
    p.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS)
    )
    p.add_argument("--generate-only", action="store_true", help="write the input files and stop")
    opts = p.parse_args(args)
    opts.dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    t0 = time.perf_counter()
    if opts.split == "month":
        csvs, parquets = generate_months(opts.dir, opts.rows, opts.points)
    else:
        csv_path, parquet_path = generate(opts.dir, opts.rows, opts.points)
        csvs, parquets = [csv_path], [parquet_path]
    files = f"{len(csvs)} files per format (one per local month), " if len(csvs) > 1 else ""
    print(
        f"data: {opts.rows:,} rows, {opts.points:,} points, 15 min; {files}CSV {_mb(csvs):,.0f} MB, "
        f"Parquet {_mb(parquets):,.0f} MB (generated in {time.perf_counter() - t0:.1f} s)"
    )
    if opts.generate_only:
        return 0
    methods = [m for m in opts.methods.split(",") if m]
    results: list[tuple[str, str, dict[str, Any]]] = []
    for sources in (csvs, parquets):
        fmt = sources[0].suffix[1:]
        for method in methods:
            if method == "pandas-loop" and fmt != "csv":
                continue
            results.append((method, fmt, measure(method, sources, opts.dir, opts.points, opts.loop_cap)))
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
    for method, fmt, r in results:
        if method == "ours" and "months" in r:
            print()
            print_months(fmt, r)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
