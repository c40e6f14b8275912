"""The Parquet lake: layout, crash-safe publishing, recovery and reading back (docs/specs/readings.md).

Layout ``<lake>/org=<credit code>/y=<YYYY>/m=<MM>/b<seq:08d>-<part>.parquet`` (zstd), months in Asia/Shanghai.
``org``, ``y`` and ``m`` live in the path (hive partitioning), the other columns of the canonical row in the
file. Beside each data file ``<rel>`` lie its day sums, ``_sums/<rel>`` (``carbonmeter.readings.sums``).
``_staging/``, ``_sums/`` and ``_archive/`` are never read as data.

Publishing is three steps, so a crash at any moment leaves either the whole batch or nothing visible after
:func:`recover`: :func:`stage` writes and fsyncs the files under ``_staging/<uuid>/`` (mirroring their final
paths); the caller commits the batch with those final paths in the database; :func:`publish` renames them
into place. :func:`recover` moves staged files whose batch is committed and deletes staging folders whose
batch is not. One writer at a time: :func:`writer_lock` (an ``flock`` on ``<lake>/_lock``) is held from the
look-up of stored rows to the last rename, and by recovery, which would otherwise delete a live staging
folder.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from carbonmeter.readings import cems, sums
from carbonmeter.readings.effective import KEY, latest_batch_sql
from carbonmeter.readings.ledger import FILE_NAME, FileRecord, file_sha256, fsync_dir
from carbonmeter.readings.series import Sample, Span, period_key

STAGING = "_staging"
ARCHIVE = "_archive"
LOCK = "_lock"
TIME_ZONE = "Asia/Shanghai"
UTC_US = pa.timestamp("us", tz="UTC")

#: Columns stored in each file (``org``, ``y``, ``m`` come from the path).
FILE_SCHEMA = pa.schema(
    [
        pa.field("point", pa.string(), nullable=False),
        pa.field("quantity", pa.string(), nullable=False),
        pa.field("ts", UTC_US, nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("orig_value", pa.string(), nullable=False),
        pa.field("orig_unit", pa.string(), nullable=False),
        pa.field("factor", pa.float64(), nullable=False),
        pa.field("offset", pa.float64(), nullable=False),
        pa.field("sample_id", pa.string()),
        pa.field("analyzed_at", UTC_US),
        pa.field("laboratory", pa.string()),
        pa.field("batch", pa.int64(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
    ]
)
#: Text columns with few distinct values: dictionary pages pay for them; for the others (values as text,
#: times, numbers) the writer would only try and give up.
DICTIONARY_COLUMNS = ("point", "quantity", "unit", "orig_unit", "sample_id", "laboratory")
#: The canonical row as readers see it (contract table), partition keys included.
SCHEMA = pa.schema(
    [
        pa.field("org", pa.string(), nullable=False),
        *FILE_SCHEMA,
        pa.field("y", pa.int32()),
        pa.field("m", pa.int32()),
    ]
)
#: hive types, so an all-digit credit code stays a string and months ``03`` read as 3.
HIVE_TYPES = "{'org': VARCHAR, 'y': INTEGER, 'm': INTEGER}"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the session time zone Asia/Shanghai (naive times and months are local)."""
    con = duckdb.connect()
    con.sql(f"SET TimeZone = '{TIME_ZONE}'")
    return con


def check_org(org: str) -> str:
    """A credit code usable as a path segment (letters and digits only)."""
    if not org or not org.isalnum() or not org.isascii():
        raise ValueError(f"organization code {org!r} cannot name a lake partition (letters and digits only)")
    return org


def partition_dir(org: str, y: int, m: int) -> str:
    return f"org={check_org(org)}/y={y:04d}/m={m:02d}"


def file_name(seq: int, part: int) -> str:
    return f"b{seq:08d}-{part}.parquet"


def data_files(lake: Path) -> list[str]:
    """Every data file in place (relative paths, sorted); staging and archive folders are not data."""
    out: list[str] = []
    if not lake.is_dir():
        return out
    for org_dir in sorted(lake.glob("org=*")):
        for path in sorted(org_dir.glob("y=*/m=*/*.parquet")):
            out.append(path.relative_to(lake).as_posix())
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def files_sql(files: Sequence[Path]) -> str:
    """``read_parquet([...])`` of the given files with the hive columns (the files must exist)."""
    listed = ", ".join(_quote(str(f)) for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true, hive_types = {HIVE_TYPES})"


def source_sql(lake: Path) -> str:
    """The whole lake as a DuckDB table expression, also registrable in Ibis (contract)."""
    pattern = (lake / "org=*" / "y=*" / "m=*" / "*.parquet").as_posix()
    return f"read_parquet({_quote(pattern)}, hive_partitioning = true, hive_types = {HIVE_TYPES})"


def _empty_sql() -> str:
    cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {_ident(f.name)}" for f in SCHEMA)
    return f"(SELECT {cols} WHERE false)"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    raise TypeError(t)


def register(con: duckdb.DuckDBPyConnection, lake: Path, name: str = "readings") -> None:
    """Create views ``<name>`` (every stored row) and ``<name>_effective`` (latest batch per point, quantity
    and ts) over the lake in ``con`` (a DuckDB connection, e.g. ``ibis_con.con``). The file list is taken when
    a query runs, so new batches appear; an empty lake gives empty views of the right columns."""
    source = source_sql(lake) if data_files(lake) else _empty_sql()
    con.sql(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM {source}")
    con.sql(
        f"CREATE OR REPLACE VIEW {_ident(name + '_effective')} AS "
        + latest_batch_sql(f"SELECT * FROM {_ident(name)}", SCHEMA.names)
    )


def relation(con: duckdb.DuckDBPyConnection, lake: Path) -> duckdb.DuckDBPyRelation:
    """The lake as a DuckDB relation (every stored row)."""
    return con.sql(f"SELECT * FROM {source_sql(lake) if data_files(lake) else _empty_sql()}")


def partition_files(lake: Path, org: str, months: Iterable[tuple[int, int]]) -> list[Path]:
    """Data files of the given (year, month) partitions of one organization."""
    out: list[Path] = []
    for y, m in sorted(set(months)):
        d = lake / partition_dir(org, y, m)
        if d.is_dir():
            out.extend(sorted(d.glob("*.parquet")))
    return out


def existing_sql(lake: Path, org: str, months: Iterable[tuple[int, int]], keys: str) -> str | None:
    """Stored rows for duplicate and conflict checks: for each (point, quantity, ts) of the table ``keys``
    found in the organization's partitions ``months``, the effective value and its batch. Reads only those
    partitions, only these columns; None when the partitions hold no file."""
    files = partition_files(lake, org, months)
    if not files:
        return None
    listed = ", ".join(_quote(str(f)) for f in files)
    stored = (
        "SELECT e.point, e.quantity, e.ts, e.value, e.batch "
        f"FROM read_parquet([{listed}]) e SEMI JOIN {keys} k "
        "ON e.point = k.point AND e.quantity = k.quantity AND e.ts = k.ts"
    )
    # one organization's files: the key is (point, quantity, ts)
    return latest_batch_sql(stored, ("point", "quantity", "ts", "value", "batch"), KEY[1:])


def file_rows(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> dict[str, int]:
    """Rows per file from the Parquet footers."""
    return {str(f): pq.ParquetFile(f).metadata.num_rows for f in files}


# --- staging, publishing, recovery ---------------------------------------------------------------


@contextmanager
def writer_lock(lake: Path) -> Iterator[None]:
    """Exclusive writer lock on the lake (released by the kernel if the process dies)."""
    lake.mkdir(parents=True, exist_ok=True)
    fd = os.open(lake / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Staged:
    """A batch's files written under ``_staging/<id>/``, not yet visible."""

    lake: Path
    dir: Path
    seq: int
    files: tuple[FileRecord, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def _by_partition(table: pa.Table) -> tuple[pa.Table, list[tuple[int, int, int, int]]]:
    """The table grouped by ``(y, m)`` (row order kept within a partition) and its ``(y, m, start,
    length)`` runs. A file in time order needs no copy: its partitions are already consecutive."""
    if table.num_rows == 0:
        return table, []
    key = table.column("y").to_numpy().astype(np.int64) * 100 + table.column("m").to_numpy()
    if np.any(np.diff(key) < 0):
        order = np.argsort(key, kind="stable")
        table, key = table.take(pa.array(order)), key[order]
    starts = np.flatnonzero(np.diff(key, prepend=key[0] - 1))
    ends = np.append(starts[1:], len(key))
    runs = [
        (int(key[s]) // 100, int(key[s]) % 100, int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)
    ]
    return table, runs


def stage(lake: Path, org: str, seq: int, table: pa.Table) -> Staged:
    """Write one zstd Parquet file per ``(y, m)`` partition of ``table`` (the file columns + ``y``,
    ``m``; ``batch`` is set to ``seq``) under a fresh staging folder, fsynced, in parallel."""
    check_org(org)
    folder = lake / STAGING / uuid.uuid4().hex
    folder.mkdir(parents=True)
    grouped, runs = _by_partition(table)
    jobs: list[tuple[str, pa.Table]] = []
    for part, (y, m, start, length) in enumerate(runs):
        rel = f"{partition_dir(org, y, m)}/{file_name(seq, part)}"
        piece = grouped.slice(start, length).select(FILE_SCHEMA.names)
        piece = piece.set_column(
            FILE_SCHEMA.get_field_index("batch"), "batch", pa.array(np.full(length, seq, dtype=np.int64))
        )
        jobs.append((rel, piece.cast(FILE_SCHEMA)))

    def write(job: tuple[str, pa.Table]) -> FileRecord:
        rel, piece = job
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            piece, path, compression="zstd", row_group_size=1 << 20, use_dictionary=list(DICTIONARY_COLUMNS)
        )
        _fsync_file(path)
        sums.write(folder / sums.sums_path(rel), sums.summarize(piece))
        return FileRecord(rel, file_sha256(path), piece.num_rows)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        records = tuple(pool.map(write, jobs))
    for d in sorted({p for r in records for p in _parents(folder, r.path)}):
        fsync_dir(d)
    fsync_dir(folder)
    fsync_dir(folder.parent)
    return Staged(lake, folder, seq, records)


def _parents(folder: Path, rel: str) -> tuple[Path, Path]:
    """The folders a staged data file and its day sums are in."""
    return (folder / rel).parent, (folder / sums.sums_path(rel)).parent


def discard(staged: Staged) -> None:
    """Remove a staging folder whose batch will not be committed."""
    shutil.rmtree(staged.dir, ignore_errors=True)


def publish(staged: Staged, after_each: Callable[[int], None] | None = None) -> None:
    """Move the committed batch's files into place, then drop the staging folder."""
    _move_all(staged.lake, staged.dir, [f.path for f in staged.files], after_each)


def _move_all(
    lake: Path, folder: Path, rels: Sequence[str], after_each: Callable[[int], None] | None
) -> None:
    for i, rel in enumerate(rels):
        # the day sums first: a data file in place always has its sums (readers rely on it)
        for name in (sums.sums_path(rel), rel):
            src, dst = folder / name, lake / name
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                fsync_dir(dst.parent)
        if after_each is not None:
            after_each(i)
    shutil.rmtree(folder, ignore_errors=True)
    fsync_dir(folder.parent)


def staged_copy(lake: Path, rel: str) -> Path | None:
    """A staged file waiting to be moved to ``rel`` (after a crash between commit and move), if any."""
    root = lake / STAGING
    if not root.is_dir():
        return None
    for folder in root.iterdir():
        candidate = folder / rel
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Recovered:
    """What :func:`recover` did: files rolled forward into place, staging folders rolled back, day sums
    rebuilt (data files that had none, e.g. written before the lake kept them)."""

    rolled_forward: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    sums_built: list[str] = field(default_factory=list)


def recover(lake: Path, committed: Callable[[Sequence[str]], Collection[str]]) -> Recovered:
    """Finish or undo interrupted publications; call it holding :func:`writer_lock`.

    ``committed(paths)`` returns those of the given lake-relative paths that a committed batch names.
    """
    done = Recovered()
    root = lake / STAGING
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            rels = sorted(p.relative_to(folder).as_posix() for p in folder.glob("org=*/y=*/m=*/*.parquet"))
            known = set(committed(rels)) if rels else set()
            if known:
                _move_all(lake, folder, sorted(known), None)
                done.rolled_forward.extend(sorted(known))
            else:
                shutil.rmtree(folder, ignore_errors=True)
                done.rolled_back.append(folder.name)
        fsync_dir(root)
    for rel in sums.missing(lake, data_files(lake)):
        sums.build(lake, rel)
        done.sums_built.append(rel)
    return done


def batch_of(rel: str) -> int | None:
    """The batch a lake file belongs to by its name."""
    m = FILE_NAME.fullmatch(Path(rel).name)
    return int(m.group("seq")) if m else None


# --- one organization's effective readings, for the data-quality page ------------------------------

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


def _shift_month(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


@dataclass(frozen=True)
class Stored:
    """One point's effective readings of a span, and how many stored rows later batches superseded."""

    samples: tuple[Sample, ...]
    superseded: int


class OrgReader:
    """Effective readings of one organization from the lake, through a DuckDB sandboxed to its folder.

    DuckDB cannot open an in-memory database read-only; instead the connection may touch no file outside
    ``<lake>/org=<credit code>/`` and its configuration is locked, so it reads the organization's partitions
    and nothing else — a bug in a query cannot read another organization's data. Where several batches hold
    the same (point, quantity, ts) the highest batch wins (:mod:`carbonmeter.readings.effective`). Use as a
    context manager (:func:`org_reader`).
    """

    def __init__(self, lake: Path, org_code: str) -> None:
        if not org_code or not org_code.isascii() or not org_code.isalnum():
            raise ValueError(f"organization code {org_code!r} cannot name a lake partition")
        self.org = org_code
        self.root = lake / f"org={org_code}"
        self.pattern = (self.root / "y=*" / "m=*" / "*.parquet").as_posix()
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def has_data(self) -> bool:
        return next(self.root.glob("y=*/m=*/*.parquet"), None) is not None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(config={"threads": 2})
            con.execute(f"SET allowed_directories = [{_quote(self.root.as_posix() + '/')}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> OrgReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stored(self, columns: str, where: str) -> str:
        """Stored rows of the organization's partitions in the month range, with the ``where`` filter."""
        return (
            f"SELECT {columns} "
            f"FROM read_parquet($pattern, hive_partitioning = true, hive_types = {HIVE_TYPES}) "
            "WHERE org = $org AND y * 100 + m BETWEEN $first_month AND $last_month AND " + where
        )

    def _params(self, first: dt.date, last: dt.date) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "org": self.org,
            "first_month": _month_key(first),
            "last_month": _month_key(last),
        }

    def effective(self, point: str, quantity: str, span: Span) -> Stored:
        """Readings in ``[span.start, span.end)`` in time order, the latest batch's value per instant."""
        if not self.has_data or span.end <= span.start:
            return Stored((), 0)
        first = period_key(span.start, "month")
        last = period_key(span.end - dt.timedelta(microseconds=1), "month")
        stored = self._stored(
            "org, point, quantity, ts, value, batch, count(*) OVER (PARTITION BY ts) AS copies",
            "point = $point AND quantity = $quantity AND ts >= to_timestamp($lo) AND ts < to_timestamp($hi)",
        )
        effective = latest_batch_sql(stored, (*KEY, "value", "batch", "copies"))
        sql = f"SELECT epoch_us(ts), value, copies FROM ({effective}) ORDER BY ts"
        params = self._params(first, last) | {
            "point": point,
            "quantity": quantity,
            "lo": span.start.timestamp(),
            "hi": span.end.timestamp(),
        }
        rows = self._connection().execute(sql, params).fetchall()
        return Stored(
            tuple(Sample(_instant(int(us)), float(v)) for us, v, _ in rows),
            sum(int(n) - 1 for _, _, n in rows),
        )

    def neighbour(
        self, point: str, quantity: str, ts: dt.datetime, side: Literal["before", "after"]
    ) -> Sample | None:
        """The effective reading just before ``ts`` (exclusive) or at/after it, within the adjacent month."""
        if not self.has_data:
            return None
        month = period_key(ts if side == "after" else ts - dt.timedelta(microseconds=1), "month")
        first, last = (
            (_shift_month(month, -1), month) if side == "before" else (month, _shift_month(month, 1))
        )
        cmp, order = (
            ("ts < to_timestamp($t)", "DESC") if side == "before" else ("ts >= to_timestamp($t)", "ASC")
        )
        stored = self._stored(
            "org, point, quantity, ts, value, batch", f"point = $point AND quantity = $quantity AND {cmp}"
        )
        effective = latest_batch_sql(stored, (*KEY, "value", "batch"))
        sql = f"SELECT epoch_us(ts), value FROM ({effective}) ORDER BY ts {order} LIMIT 1"
        params = self._params(first, last) | {"point": point, "quantity": quantity, "t": ts.timestamp()}
        row = self._connection().execute(sql, params).fetchone()
        return None if row is None else Sample(_instant(int(row[0])), float(row[1]))

    def cems_minutes(self, members: Mapping[str, str], span: Span) -> list[cems.CemsMinute]:
        """One record per minute of ``span`` from the CEMS set ``members`` (quantity → point code).

        Each quantity's effective readings are keyed by the minute they fall in (loggers stamp a few
        seconds late) and averaged within it; a quantity without a reading in a minute is None, which makes
        the minute invalid — never 0.  Done in DuckDB: a month is 5 × 44 640 rows.
        """
        if not self.has_data or span.end <= span.start or set(members) != set(cems.CEMS_SET):
            return []
        first = period_key(span.start, "month")
        last = period_key(span.end - dt.timedelta(microseconds=1), "month")
        n = len(cems.CEMS_SET)
        pairs = " OR ".join(f"(point = $p{i} AND quantity = $q{i})" for i in range(n))
        stored = self._stored(
            "org, point, quantity, ts, value, batch",
            f"({pairs}) AND ts >= to_timestamp($lo) AND ts < to_timestamp($hi)",
        )
        effective = latest_batch_sql(stored, (*KEY, "value", "batch"))
        columns = ", ".join(f"avg(value) FILTER (WHERE quantity = $q{i}) AS c{i}" for i in range(n))
        sql = (
            f"SELECT epoch_us(ts) // 60000000 AS minute, {columns} "
            f"FROM ({effective}) GROUP BY minute ORDER BY minute"
        )
        params = self._params(first, last) | {"lo": span.start.timestamp(), "hi": span.end.timestamp()}
        for i, quantity in enumerate(cems.CEMS_SET):
            params |= {f"p{i}": members[quantity], f"q{i}": quantity}
        out = []
        for minute, *values in self._connection().execute(sql, params).fetchall():
            by_quantity = dict(zip(cems.CEMS_SET, values, strict=True))
            out.append(
                cems.CemsMinute(
                    ts=_instant(int(minute) * 60_000_000),
                    co2_pct=by_quantity["co2_concentration"],
                    velocity=by_quantity["flow_velocity"],
                    temperature_c=by_quantity["temperature"],
                    pressure_kpa=by_quantity["pressure"],
                    humidity_pct=by_quantity["humidity"],
                )
            )
        return out


def org_reader(lake: Path, org_code: str) -> OrgReader:
    """An :class:`OrgReader` of ``org_code`` over ``lake``; use it in a ``with`` block (it closes)."""
    return OrgReader(lake, org_code)
