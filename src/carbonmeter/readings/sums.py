"""Day sums: a small derived summary beside every data file of the lake, so ledger totals need not re-read
every reading (docs/specs/readings.md, "Day sums").

For a data file ``<rel>`` the sums file is ``_sums/<rel>``: one row per (point, quantity, local day, batch)
of the file with ``total`` (sum of ``value``), ``n`` (rows) and the first and last ``ts``. A month of a
1,000-point lake at 15 minutes is 2.9 M readings and 31,000 day sums, so the data ledger's monthly totals
read about a hundredth of the rows; the first and last ``ts`` let the aggregation see which batches overlap
(a correction) and read only those row by row (``carbonmeter.readings.aggregate``).

The sums are derived data, never a source of truth: :func:`summarize` is the one definition, the writer
computes them when it stages a batch (published before the data file, so a visible data file always has
its sums), recovery rebuilds any that are missing, and ``ledger verify`` recomputes every one from its data
file and reports a sums file that is missing, altered or left without its data file. Readers use them only
when every data file has one (:func:`complete`); otherwise they read the rows, slower and with the same
result.

Days are Asia/Shanghai calendar days (UTC+8 all year since 1991), computed as integer arithmetic on the
epoch like ``aggregate.local_day``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SUMS = "_sums"
UTC_US = pa.timestamp("us", tz="UTC")
LOCAL_OFFSET_SECONDS = 8 * 3600
DAY_SECONDS = 86_400
KEYS = ("point", "quantity", "day", "batch")

#: Columns of a sums file (``org``, ``y``, ``m`` come from the path, as for data files).
FILE_SCHEMA = pa.schema(
    [
        pa.field("point", pa.string()),
        pa.field("quantity", pa.string()),
        pa.field("day", pa.date32()),  # local calendar day of the readings' ts
        pa.field("batch", pa.int64()),
        pa.field("t0", UTC_US),  # first ts of the day's readings in the file
        pa.field("t1", UTC_US),  # last ts
        pa.field("total", pa.float64()),
        pa.field("n", pa.int64()),
    ]
)
#: What readers see: the file columns and the partition columns.
SCHEMA = pa.schema(
    [
        pa.field("org", pa.string()),
        *FILE_SCHEMA,
        pa.field("y", pa.int32()),
        pa.field("m", pa.int32()),
    ]
)
COLUMNS_READ = ("point", "quantity", "ts", "value", "batch")


def sums_path(rel: str) -> str:
    """The sums file of the data file ``rel`` (both relative to the lake)."""
    return f"{SUMS}/{rel}"


def data_path(sums_rel: str) -> str:
    """The data file a sums file ``_sums/<rel>`` summarizes."""
    prefix = SUMS + "/"
    if not sums_rel.startswith(prefix):
        raise ValueError(f"{sums_rel!r} is not under {SUMS}/")
    return sums_rel[len(prefix) :]


def local_days(ts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Asia/Shanghai calendar days of UTC microsecond timestamps, as ``date32``."""
    micros = np.asarray(ts.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    days = (micros // 1_000_000 + LOCAL_OFFSET_SECONDS) // DAY_SECONDS
    return pa.array(days.astype(np.int32), pa.date32())


def summarize(table: pa.Table) -> pa.Table:
    """The day sums of a data file's rows (at least the columns ``COLUMNS_READ``), sorted by ``KEYS``.

    Single-threaded, so the same rows always give bit-identical sums: ``ledger verify`` recomputes them
    and compares exactly."""
    t = pa.table(
        {
            "point": table.column("point"),
            "quantity": table.column("quantity"),
            "day": local_days(table.column("ts")),
            "batch": table.column("batch"),
            "ts": table.column("ts").cast(UTC_US),
            "value": table.column("value"),
        }
    )
    grouped = t.group_by(list(KEYS), use_threads=False).aggregate(
        [("ts", "min"), ("ts", "max"), ("value", "sum"), ("value", "count")]
    )
    out = pa.table(
        {
            "point": grouped.column("point"),
            "quantity": grouped.column("quantity"),
            "day": grouped.column("day"),
            "batch": grouped.column("batch"),
            "t0": grouped.column("ts_min"),
            "t1": grouped.column("ts_max"),
            "total": grouped.column("value_sum"),
            "n": grouped.column("value_count"),
        }
    ).cast(FILE_SCHEMA)
    return out.sort_by([(k, "ascending") for k in KEYS])


def write(path: Path, sums: pa.Table) -> None:
    """Write and fsync a sums file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(sums.cast(FILE_SCHEMA), path, compression="zstd")
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_data(path: Path) -> pa.Table:
    """The columns of a data file that the sums are made of."""
    return pq.read_table(path, columns=list(COLUMNS_READ), partitioning=None)


def build(lake: Path, rel: str) -> None:
    """(Re)write the sums file of the data file ``rel`` from its rows."""
    write(lake / sums_path(rel), summarize(read_data(lake / rel)))


def files(lake: Path) -> list[str]:
    """Every sums file in place, as the lake-relative path of the data file it summarizes (sorted)."""
    root = lake / SUMS
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.glob("org=*/y=*/m=*/*.parquet"))


def missing(lake: Path, data: Iterable[str]) -> list[str]:
    """Data files (lake-relative) without their sums file."""
    return [rel for rel in data if not (lake / sums_path(rel)).is_file()]


def complete(lake: Path, data: Sequence[str]) -> bool:
    """Whether the sums files are exactly those of the data files ``data``: only then may a reader take
    totals from the sums instead of the rows."""
    return set(files(lake)) == set(data)


def problem(lake: Path, rel: str) -> tuple[str, str] | None:
    """``(code, detail)`` if the sums file of the data file ``rel`` is missing or differs from the sums
    recomputed from the file; None when it is right (or the data file itself is missing: reported
    elsewhere)."""
    data = lake / rel
    if not data.is_file():
        return None
    path = lake / sums_path(rel)
    if not path.is_file():
        return "sums_missing", "no day sums beside the file: run recovery (carbonmeter ledger recover)"
    try:
        stored = pq.read_table(path, partitioning=None)
        expected = summarize(read_data(data))
    except (OSError, pa.ArrowException, KeyError) as exc:
        return "sums_unreadable", f"cannot read the day sums or their file: {exc}"
    if stored.schema != FILE_SCHEMA or not stored.equals(expected):
        return "sums_altered", "the day sums differ from those recomputed from the file"
    return None
