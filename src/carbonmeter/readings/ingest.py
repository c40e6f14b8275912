"""Parse and validate a source of readings into accepted rows (lake schema) and quarantined rows.

Sources: CSV (UTF-8, with or without BOM, or GB18030 as Chinese Excel writes it), XLSX (the sheet named
读数, else the first), Parquet, JSON (a list of objects) and rows handed over by the API or MQTT. Headers in
English or Chinese (contract "Input columns").

Everything per row runs in DuckDB over Arrow, column at a time: the source is read as text (or typed
Parquet columns are taken as they are), cast with ``TRY_CAST`` so an unreadable cell is *located* rather
than fatal, joined to the monitoring plan, the quantities and the unit conversions (computed once per
distinct unit), and every row gets the first failing check as an integer. Python touches only the
quarantined rows, to word their reasons. Duplicates within the file and against the lake (only the
partitions and points the file touches) are found with two joins.

Every input row gets one fate (accepted, duplicate, quarantined); :meth:`Outcome.report` lists accepted and
duplicate rows as ranges and every quarantined row, each with file, sheet, row, column and reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carbonmeter.readings import csvtext
from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings.ledger import ContentHasher, line_sql, ts_sql
from carbonmeter.readings.model import (
    INPUT_COLUMNS,
    Code,
    Fate,
    Lang,
    Quarantine,
    quantities,
    quantity_names,
)
from carbonmeter.readings.units import UnitError, conversion

#: The sheet of a workbook that holds the readings (else the first sheet).
SHEET = "读数"
#: Times before this are typing errors (2024 typed as 0024), never metering data.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
#: The latest time a reason can show (Python's datetimes end with year 9999; DuckDB's go further).
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
#: The earliest time a reason shows as a time (earlier ones, down to DuckDB's negative years, show as typed).
FIRST_SHOWN = datetime(1, 1, 2, tzinfo=UTC)
#: Quarantined rows listed inline in a run's report; all of them are kept as QuarantinedRow rows.
REPORT_QUARANTINE_LIMIT = 10_000
_CHUNK = 1 << 16

FILE_ERRORS: Mapping[str, Mapping[Lang, str]] = {
    "unreadable": {"zh": "文件“{file}”无法读取：{detail}", "en": "cannot read {file}: {detail}"},
    "format": {
        "zh": "文件“{file}”的格式不受支持：应为 .csv、.xlsx、.parquet 或 .json",
        "en": "{file}: unsupported format; use .csv, .xlsx, .parquet or .json",
    },
    "no_header": {"zh": "文件“{file}”{sheet}没有表头", "en": "{file}{sheet} has no header row"},
    "missing_column": {
        "zh": "文件“{file}”{sheet}缺少必填列“{column}”（或“{zh}”）；现有列：{found}",
        "en": "{file}{sheet} lacks the required column '{column}' (or '{zh}'); columns found: {found}",
    },
    "twice": {
        "zh": "文件“{file}”{sheet}中列“{column}”出现两次：“{first}”和“{second}”",
        "en": "{file}{sheet} has the column '{column}' twice: '{first}' and '{second}'",
    },
    "no_rows": {"zh": "没有可接收的数据行", "en": "no rows were given"},
    "too_many_rows": {
        "zh": "文件“{file}”约有 {rows} 行，超过一个批次的上限 {limit} 行：请按月拆分后分别导入",
        "en": "{file} has about {rows} rows, more than the {limit} one batch may hold: split it by month",
    },
}


class IngestError(ValueError):
    """The source as a whole cannot be read (no row could be judged): named file, sheet and reason."""

    def __init__(self, variant: str, **params: Any) -> None:
        self.variant = variant
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: Lang = "zh") -> str:
        params = dict(self.params)
        sheet = params.get("sheet") or ""
        if lang == "zh":
            params["sheet"] = f"工作表“{sheet}”" if sheet else ""
        else:
            params["sheet"] = f" sheet '{sheet}'" if sheet else ""
        return FILE_ERRORS[self.variant][lang].format_map(params)


# --- sources ----------------------------------------------------------------------------------------


@dataclass
class Source:
    """A source read into Arrow: ``row`` (1-based, as the user counts rows) and the input columns under
    their canonical names; ``headers`` names each column as the source does, for reports."""

    table: pa.Table
    file: str
    sheet: str = ""
    format: str = "rows"
    headers: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)
    rejected: list[Quarantine] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.table.num_rows) + len(self.rejected)

    def header(self, column: str) -> str:
        """The column as the source heads it; a column the source lacks in the source's language."""
        if column in self.headers:
            return self.headers[column]
        zh = {c.name: c.zh for c in INPUT_COLUMNS}
        chinese = any(self.headers.get(c) == z for c, z in zh.items())
        return zh.get(column, column) if chinese else column


def _column_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for col in INPUT_COLUMNS:
        names[col.name.lower()] = col.name
        names[col.zh] = col.name
    return names


def map_headers(headers: Sequence[str], file: str, sheet: str = "", *, strict: bool = True) -> dict[int, str]:
    """Position → canonical column for the headers that name one; ``strict``: required columns present."""
    names = _column_names()
    found: dict[str, int] = {}
    out: dict[int, str] = {}
    for i, h in enumerate(headers):
        key = str(h).strip().lstrip("\ufeff").strip()
        canonical = names.get(key.lower()) or names.get(key)
        if canonical is None:
            continue
        if canonical in found:
            raise IngestError(
                "twice", file=file, sheet=sheet, column=canonical, first=headers[found[canonical]], second=h
            )
        found[canonical] = i
        out[i] = canonical
    if strict:
        for col in INPUT_COLUMNS:
            if col.required and col.name not in found:
                shown = "、".join(str(h) for h in headers if str(h).strip()) or "—"
                raise IngestError(
                    "missing_column", file=file, sheet=sheet, column=col.name, zh=col.zh, found=shown
                )
    return out


def _assemble(
    columns: Sequence[pa.Array | pa.ChunkedArray],
    headers: Sequence[str],
    rows: pa.Array,
    *,
    file: str,
    sheet: str,
    fmt: str,
    strict: bool = True,
) -> Source:
    mapping = map_headers(headers, file, sheet, strict=strict)
    arrays: list[Any] = [rows]
    names = ["row"]
    src_headers: dict[str, str] = {}
    ignored: list[str] = []
    for i, (arr, h) in enumerate(zip(columns, headers, strict=True)):
        canonical = mapping.get(i)
        if canonical is None:
            name = f"_extra{i}"
            label = str(h).strip() or f"#{i + 1}"
            ignored.append(label)
        else:
            name = canonical
            label = str(h).strip().lstrip("\ufeff")
        arrays.append(arr)
        names.append(name)
        src_headers[name] = label
    table = pa.Table.from_arrays(arrays, names=names)
    return Source(table, file, sheet, fmt, src_headers, ignored)


def read_source(path: Path, *, filename: str = "", max_rows: int | None = None) -> Source:
    """Read a file by its suffix (``filename`` names it in reports; default the file's name).

    ``max_rows``: refuse a CSV or Parquet file of more rows before reading it. A batch is validated in
    memory (about 200 bytes a row at the peak, docs/benchmarks.md §4), so a file far larger than a month of
    a plant's readings would exhaust the machine; it is refused with a message saying to split it."""
    name = filename or path.name
    suffix = Path(filename or path.name).suffix.lower() or path.suffix.lower()
    if not path.is_file():
        raise IngestError("unreadable", file=name, detail="no such file")
    if max_rows is not None:
        _check_size(path, suffix, name, max_rows)
    try:
        if suffix in (".csv", ".txt"):
            return read_csv(path, name)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return read_xlsx(path, name)
        if suffix == ".parquet":
            return read_parquet(path, name)
        if suffix == ".json":
            data = json.loads(path.read_bytes())
            if not isinstance(data, list):
                raise IngestError("unreadable", file=name, detail="a JSON file must hold a list of objects")
            return from_rows(data, filename=name, fmt="json")
    except IngestError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise IngestError(
            "unreadable", file=name, detail=str(exc).splitlines()[0] if str(exc) else exc
        ) from exc
    raise IngestError("format", file=name)


def _check_size(path: Path, suffix: str, name: str, max_rows: int) -> None:
    """Raise ``too_many_rows`` when the file holds more than ``max_rows`` rows: Parquet by its footer, CSV
    by its records (line breaks outside quoted cells, ``\\r`` alone included: :mod:`.csvtext`); other
    formats are small by nature. Blank lines count, so the figure is "about"."""
    try:
        if suffix == ".parquet":
            rows = pq.ParquetFile(path).metadata.num_rows
        elif suffix in (".csv", ".txt"):
            encoding = _encoding(path)
            rows = csvtext.at_most_records(path, encoding) - 1  # the header
            if rows > max_rows:  # quoted line breaks may have counted: count records exactly
                rows = csvtext.count_records(path, encoding) - 1
        else:
            return
    except (OSError, pa.ArrowException):
        return  # unreadable: reading it says why
    if rows > max_rows:
        raise IngestError("too_many_rows", file=name, rows=f"{rows:,}", limit=f"{max_rows:,}")


def _encoding(path: Path) -> str:
    """The encoding the first MiB suggests (:func:`carbonmeter.readings.csvtext.sniff`): UTF-8 (BOM or
    not), UTF-16 with a BOM, or GB18030, which Chinese Excel writes."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    return csvtext.sniff(head)


#: How a quarantined row names the encoding its bytes are not.
_ENCODING_NAMES = {csvtext.UTF8: "UTF-8", csvtext.UTF8_SIG: "UTF-8", csvtext.GB18030: "GB18030"}


def _header(path: Path, name: str, encoding: str) -> list[str]:
    """The header row (record 1); refused when it holds a byte the encoding cannot decode."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode(encoding, csvtext.MARK)
    if encoding == csvtext.UTF16:
        text = text.lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    if any(csvtext.has_mark(h) for h in first):
        shown = csvtext.escaped(",".join(first))[:200]
        raise IngestError(
            "unreadable",
            file=name,
            detail=f"row 1 (the header) is not {_ENCODING_NAMES.get(encoding, encoding)} text: {shown}",
        )
    return first


def read_csv(path: Path, name: str) -> Source:
    """All cells as text. Rows are numbered as the user sees them (header = row 1). A row with the wrong
    number of cells is quarantined (RD-PARSE, its text kept); an empty line is listed as blank.

    A row holding bytes its encoding cannot decode is quarantined alone (RD-PARSE ``encoding``, its bytes
    kept): the file is decoded once more with those records emptied (:func:`.csvtext.repair`). Only files
    that need it pay for that second pass."""
    encoding = _encoding(path)
    header = _header(path, name, encoding)
    if not [h for h in header if h.strip()]:
        raise IngestError("no_header", file=name, sheet="")
    try:
        return _read_csv(path, name, header, encoding, threads=True)
    except (pa.ArrowInvalid, UnicodeError) as exc:
        return _read_repaired(path, name, header, encoding, exc)


def _read_repaired(path: Path, name: str, header: list[str], guessed: str, failure: Exception) -> Source:
    """The file read again after a failure: in the encoding the whole file suggests, with the records that
    do not decode emptied and quarantined. A failure that was not about decoding is raised as it was."""
    data = path.read_bytes()
    encoding = csvtext.sniff(data)
    try:
        repaired = csvtext.repair(data, encoding)
    except csvtext.TooManyBadRecords as exc:
        label = _ENCODING_NAMES.get(encoding, encoding)
        raise IngestError(
            "unreadable",
            file=name,
            detail=f"{exc.count} rows are not {label} text, the first is row {exc.first.row}: "
            f"{exc.first.text()[:200]}",
        ) from exc
    if not repaired.bad and encoding == guessed:
        raise failure
    with tempfile.TemporaryDirectory(prefix="carbonmeter-csv-") as folder:
        clean = Path(folder) / "utf8.csv"
        clean.write_bytes(repaired.text)
        del data
        source = _read_csv(clean, name, header, csvtext.UTF8, threads=True)
    label = _ENCODING_NAMES.get(encoding, "UTF-16" if encoding == csvtext.UTF16 else encoding)
    blank = set(source.blank_rows)
    for bad in repaired.bad:
        blank.discard(bad.row)
        text = bad.text()
        source.rejected.append(
            Quarantine(
                name,
                "",
                bad.row,
                "",
                Code.PARSE,
                "encoding",
                {"encoding": label, "text": text[:200]},
                bad.raw_cells(),
            )
        )
    source.blank_rows = sorted(blank)
    source.rejected.sort(key=lambda q: q.row)
    return source


def _quiet_undecodable_rows(previous: Callable[[Any], object]) -> Callable[[Any], None]:
    """An unraisable-exception hook that notes, instead of printing a traceback, the UnicodeDecodeError
    pyarrow hits when it decodes a short row's text for :func:`_read_csv`'s handler; anything else goes
    to the previous hook."""

    def hook(unraisable: Any) -> None:
        noted = getattr(unraisable.object, "_undecodable", None)
        if isinstance(noted, list) and isinstance(unraisable.exc_value, UnicodeDecodeError):
            noted.append(True)
            return
        previous(unraisable)

    return hook


sys.unraisablehook = _quiet_undecodable_rows(sys.unraisablehook)


#: Columns with few distinct values, read dictionary-encoded (a thousand point codes, not ten million).
_CODED = frozenset({"point", "quantity", "unit"})


def _read_csv(path: Path, name: str, header: list[str], encoding: str, *, threads: bool) -> Source:
    cols = [f"c{i}" for i in range(len(header))]
    invalid: list[tuple[int | None, str, int]] = []

    undecodable: list[bool] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    # pyarrow decodes a short row's text before calling the handler; when that row is not UTF-8 either,
    # the error is "unraisable": noted here (see _quiet_undecodable_rows) and the repair pass takes the row.
    on_invalid._undecodable = undecodable  # type: ignore[attr-defined]

    mapped = map_headers(header, name, strict=False)
    text, coded = pa.string(), pa.dictionary(pa.int32(), pa.string())
    types = {c: coded if mapped.get(i) in _CODED else text for i, c in enumerate(cols)}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=cols,
                skip_rows=1,
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
                use_threads=threads,
            ),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if undecodable:
            raise UnicodeError(f"a row is not {encoding} text") from exc
        raise
    if invalid and threads:  # line numbers are known only to a single-threaded read
        return _read_csv(path, name, header, encoding, threads=False)
    n_valid = table.num_rows
    if invalid:
        # pyarrow numbers lines from the top of the file (header = line 1), as the user counts rows.
        bad = np.array(sorted(int(n) for n, _, _ in invalid if n is not None), dtype=np.int64)
        all_rows = np.arange(2, n_valid + len(invalid) + 2, dtype=np.int64)
        rows = pa.array(np.setdiff1d(all_rows, bad, assume_unique=True))
    else:
        rows = pa.array(np.arange(2, n_valid + 2, dtype=np.int64))
    source = _assemble(table.columns, header, rows, file=name, sheet="", fmt="csv")
    for number, text, actual in sorted(invalid, key=lambda r: r[0] or 0):
        row = int(number or 0)
        if not text.strip():
            source.blank_rows.append(row)
            continue
        source.rejected.append(
            Quarantine(
                name,
                "",
                row,
                "",
                Code.PARSE,
                "cells",
                {"actual": actual, "expected": len(header), "text": text[:200]},
                {"text": text},
            )
        )
    return _drop_blank(source)


def _empty(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(col.type):
        col = col.unify_dictionaries().combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        blank = pc.fill_null(pc.equal(pc.binary_length(col.dictionary), 0), True)
        return pc.fill_null(pc.take(blank, col.indices), True)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pc.fill_null(pc.equal(pc.binary_length(col), 0), True)
    return pc.is_null(col)


def _drop_blank(source: Source) -> Source:
    """Rows whose every cell is empty are no data: listed as blank, not judged. (A row of spaces is
    judged, and quarantined for its empty required cells.)"""
    data = [c for c in source.table.column_names if c != "row"]
    if not data or source.table.num_rows == 0:
        return source
    first = source.table.column(data[0])
    if pa.types.is_dictionary(first.type) and first.null_count == 0:
        chunks = first.chunks
        if not any(pc.any(pc.equal(pc.binary_length(c.dictionary), 0)).as_py() for c in chunks):
            return source  # no empty cell in the first column: no blank row
    blank = _empty(first)
    if not pc.any(blank).as_py():
        return source
    for c in data[1:]:
        blank = pc.and_(blank, _empty(source.table.column(c)))
    if not pc.any(blank).as_py():
        return source
    source.blank_rows.extend(source.table.column("row").filter(blank).to_pylist())
    source.blank_rows.sort()
    source.table = source.table.filter(pc.invert(blank))
    return source


def _cell_text(value: Any) -> str | None:
    """An XLSX or JSON cell as text, as a person reads it (3.0 typed as 3 is "3")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return json.dumps(value, ensure_ascii=False, default=str)


def read_xlsx(path: Path, name: str) -> Source:
    """The sheet named 读数, else the first; row numbers are the sheet's own (as Excel shows them)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a broken workbook
        raise IngestError("unreadable", file=name, detail=str(exc)) from exc
    names = book.sheet_names
    if not names:
        raise IngestError("no_header", file=name, sheet="")
    sheet_name = SHEET if SHEET in names else names[0]
    sheet = book.get_sheet_by_name(sheet_name)
    data = sheet.to_python(skip_empty_area=True)
    if not data:
        raise IngestError("no_header", file=name, sheet=sheet_name)
    top = sheet.start[0] if sheet.start else 0
    header = [_cell_text(h) or "" for h in data[0]]
    body = data[1:]
    width = len(header)
    columns = [
        pa.array([_cell_text(r[i]) if i < len(r) else None for r in body], pa.string()) for i in range(width)
    ]
    rows = pa.array(np.arange(top + 2, top + 2 + len(body), dtype=np.int64))
    source = _assemble(columns, header, rows, file=name, sheet=sheet_name, fmt="xlsx")
    return _drop_blank(source)


def _plain_type(kind: pa.DataType) -> bool:
    """Types the checks read as they are: text, numbers, booleans, dates and times."""
    if pa.types.is_dictionary(kind):
        return _plain_type(kind.value_type)
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or pa.types.is_null(kind)
    )


def _as_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Any column as text, as a person reads its cells: bytes that are not UTF-8 written ``\\xNN``, lists
    and records as JSON (a Parquet file's ``binary`` point codes, a ``list`` value)."""
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.array([_cell_text(v) for v in column.to_pylist()], pa.string())


def read_parquet(path: Path, name: str) -> Source:
    """Columns keep their Parquet types (numbers, timestamps); other types (binary, lists, records,
    durations) are read as text; rows are numbered from 1."""
    table = pq.read_table(path)
    columns = [c if _plain_type(c.type) else _as_text(c) for c in table.columns]
    rows = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    source = _assemble(columns, table.column_names, rows, file=name, sheet="", fmt="parquet")
    return _drop_blank(source)


@dataclass(frozen=True)
class RejectedRow:
    """A row a transport already knows is bad (an MQTT payload that is not UTF-8 or not JSON): it keeps its
    place among the rows and becomes a quarantined row (RD-PARSE ``variant``) with ``raw`` as received, so it
    is fixable like any other row instead of a line in a log. Only code makes these: a JSON file's rows are
    dicts, so no input can forge one."""

    variant: str
    params: Mapping[str, Any]
    raw: Mapping[str, str | None]


def from_rows(
    rows: Iterable[Mapping[str, Any] | RejectedRow], *, filename: str = "", fmt: str = "rows"
) -> Source:
    """Rows as dicts (API, MQTT, a JSON file): keys are column names (English or Chinese); a missing key
    is an empty cell (RD-MISSING for a required one), so one bad message never blocks the others. A
    :class:`RejectedRow` is quarantined as it stands."""
    keys: dict[str, None] = {}
    materialised: list[Mapping[str, Any]] = []
    numbers: list[int] = []
    rejected: list[Quarantine] = []
    for i, r in enumerate(rows):
        if isinstance(r, RejectedRow):
            rejected.append(Quarantine(filename, "", i + 1, "", Code.PARSE, r.variant, dict(r.params), r.raw))
            continue
        if not isinstance(r, Mapping):
            raise IngestError("unreadable", file=filename or fmt, detail=f"row {i + 1} is not an object")
        materialised.append(r)
        numbers.append(i + 1)
        for k in r:
            keys.setdefault(str(k), None)
    if not materialised and not rejected:
        raise IngestError("no_rows")
    headers = list(keys)
    columns = [pa.array([_cell_text(r.get(h)) for r in materialised], pa.string()) for h in headers]
    source = _assemble(
        columns, headers, pa.array(numbers, pa.int64()), file=filename, sheet="", fmt=fmt, strict=False
    )
    source.rejected.extend(rejected)
    return _drop_blank(source)


# --- the plan the rows are checked against -----------------------------------------------------------


@dataclass(frozen=True)
class PointPlan:
    """A measuring point of the organization and its data profile (``quantity`` None: no profile)."""

    code: str
    quantity: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    archived: bool = False


@dataclass(frozen=True)
class Plan:
    """The organization's monitoring plan as far as readings are concerned."""

    org: str
    points: Mapping[str, PointPlan]


@dataclass(frozen=True)
class Correction:
    """A correction batch: ``corrects`` and the batches whose stored values it may supersede."""

    corrects: int
    supersedable: frozenset[int]


# --- checks ----------------------------------------------------------------------------------------

#: Check number → (code, variant, column checked). Order = precedence: a row gets the first that fails.
CHECKS: dict[int, tuple[Code, str, str]] = {
    1: (Code.MISSING, "cell", "point"),
    2: (Code.MISSING, "cell", "ts"),
    3: (Code.MISSING, "cell", "value"),
    4: (Code.PARSE, "value", "value"),
    5: (Code.TIME, "unreadable", "ts"),
    6: (Code.POINT, "unknown", "point"),
    7: (Code.POINT, "archived", "point"),
    8: (Code.QUANTITY, "unknown", "quantity"),
    9: (Code.QUANTITY, "no_profile", "point"),
    10: (Code.QUANTITY, "mismatch", "quantity"),
    11: (Code.MISSING, "lab", "sample_id"),
    12: (Code.MISSING, "lab", "analyzed_at"),
    13: (Code.MISSING, "lab", "laboratory"),
    14: (Code.PARSE, "datetime", "analyzed_at"),
    15: (Code.UNIT, "unknown", "unit"),
    16: (Code.UNIT, "incompatible", "unit"),
    17: (Code.TIME, "future", "ts"),
    18: (Code.TIME, "too_early", "ts"),
    19: (Code.NEGATIVE, "negative", "value"),
    20: (Code.RANGE, "range", "value"),
    21: (Code.DUPROW, "duprow", "ts"),
    22: (Code.CONFLICT, "stored", "value"),
    23: (Code.CONFLICT, "outside_correction", "value"),
    24: (Code.TIME, "offset", "ts"),
    25: (Code.TIME, "zone", "ts"),
}

_CHECK_SQL = """CASE
  WHEN lookup_check = 1 THEN 1
  WHEN ts IS NULL AND (ts_text IS NULL OR TRIM(CAST(ts_text AS VARCHAR)) = '') THEN 2
  WHEN value_in IS NULL AND (value_text IS NULL OR TRIM(CAST(value_text AS VARCHAR)) = '') THEN 3
  WHEN value_in IS NULL OR NOT isfinite(value_in) THEN 4
  WHEN ts IS NULL THEN 5
  WHEN ts_zone <> 0 THEN ts_zone
  WHEN lookup_check BETWEEN 6 AND 10 THEN lookup_check
  WHEN is_lab AND sample_id IS NULL THEN 11
  WHEN is_lab AND analyzed_raw IS NULL THEN 12
  WHEN is_lab AND laboratory IS NULL THEN 13
  WHEN analyzed_raw IS NOT NULL
    AND (analyzed_at IS NULL OR analyzed_at < {earliest} OR analyzed_at > {latest}) THEN 14
  WHEN lookup_check <> 0 THEN lookup_check
  WHEN ts > {now} THEN 17
  WHEN ts < {earliest} THEN 18
  WHEN is_interval AND value < 0 THEN 19
  WHEN value < min_value OR value > max_value THEN 20
END"""

#: Naive time formats tried on a sample of the file; the one that reads it is parsed without the time-zone
#: library (Asia/Shanghai has been UTC+8 without daylight saving since 1992). Rows it cannot read, rows with
#: an offset or zone, and earlier times go through DuckDB's ICU cast with the session zone.
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
_FIXED_OFFSET_FROM = "TIMESTAMP '1992-01-01 00:00:00'"  # local; UTC+8 from here on
_FIXED_OFFSET_FROM_UTC = "TIMESTAMP '1991-12-31 16:00:00'"
#: Microseconds of Asia/Shanghai's offset since 1992.
_UTC8_US = 8 * 3600 * 1_000_000


def _naive_utc(tstz: str) -> str:
    """A TIMESTAMPTZ as a naive UTC TIMESTAMP (the pipeline computes in naive UTC: no ICU per row)."""
    return f"timezone('UTC', {tstz})"


def _is_text(table: pa.Table, col: str) -> bool:
    t = table.schema.field(col).type
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _text(table: pa.Table, col: str) -> str:
    """SQL for a text column (NULL when blank); NULL when the source has no such column."""
    if col not in table.column_names:
        return "CAST(NULL AS VARCHAR)"
    if _is_text(table, col):
        return f"NULLIF(TRIM({col}), '')"
    return f"CAST({col} AS VARCHAR)"


def _time(table: pa.Table, col: str, fmt: str | None) -> tuple[str, str, str]:
    """SQL for a time column: (the cell as given, a fast naive parse or NULL, the general parse of
    ``<col>_text``), both parses as naive UTC. Text without an offset is Asia/Shanghai, text with one is
    honoured; a naive Parquet timestamp is Asia/Shanghai, an aware one is honoured."""
    if col not in table.column_names:
        return "CAST(NULL AS VARCHAR)", "CAST(NULL AS TIMESTAMP)", "CAST(NULL AS TIMESTAMP)"
    text = f"{col}_text"
    t = table.schema.field(col).type
    if _is_text(table, col):
        fast = f"try_strptime({col}, '{fmt}')" if fmt else "CAST(NULL AS TIMESTAMP)"
        return col, fast, _naive_utc(f"TRY_CAST({text} AS TIMESTAMPTZ)")
    if pa.types.is_timestamp(t) and t.tz is not None:
        return col, "CAST(NULL AS TIMESTAMP)", _naive_utc(text)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return col, f"CAST({col} AS TIMESTAMP)", _naive_utc(f"CAST({text} AS TIMESTAMPTZ)")
    return col, "CAST(NULL AS TIMESTAMP)", _naive_utc(f"TRY_CAST(CAST({text} AS VARCHAR) AS TIMESTAMPTZ)")


#: The largest numeric offset from UTC a clock anywhere keeps: the world's zones run from UTC-12:00 to
#: UTC+14:00 (Line Islands), so "+24:00", "+99:00" or "-23:59" are typing errors. ISO 8601 and DuckDB's
#: parser accept any two digits; the time would silently move by up to four days.
MAX_OFFSET_MINUTES = 14 * 60
#: A zone written after the time is read only when it names one zone: UTC/GMT/Z (with an offset or not)
#: or an IANA name (``Asia/Shanghai``: it holds a slash). Abbreviations name several zones — ``CST`` is
#: China Standard Time to a Chinese reader and US Central (-06:00) to the parser — so they are refused.
_OFFSET_RE = (
    r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]*)?)?\s*(?:[Zz]|[Uu][Tt][Cc]|[Gg][Mm][Tt])?\s*"
    r"[+-]([0-9]{1,2}):?([0-9]{2})?\s*$"
)
_ZONE_RE = r"[0-9]\s*([A-Za-z][A-Za-z0-9_/+-]*)\s*$"
_UNAMBIGUOUS_ZONE_RE = r"^(?:[Zz]|[Uu][Tt][Cc]|[Gg][Mm][Tt])(?:[+-].*)?$|/"


def _zone(table: pa.Table, col: str) -> str:
    """SQL for the time zone check of a text time column's ``<col>_text`` where the fast naive parse failed:
    0 none or fine, 24 an impossible offset, 25 an ambiguous zone name (see :data:`MAX_OFFSET_MINUTES`).
    Runs only on the rows the naive format did not read (a CASE branch), so a plain file pays nothing."""
    if col not in table.column_names or not _is_text(table, col):
        return "0"
    t = f"TRIM(CAST({col}_text AS VARCHAR))"
    hours = f"TRY_CAST(NULLIF(regexp_extract({t}, '{_OFFSET_RE}', 1), '') AS INTEGER)"
    minutes = f"COALESCE(TRY_CAST(NULLIF(regexp_extract({t}, '{_OFFSET_RE}', 2), '') AS INTEGER), 0)"
    name = f"regexp_extract({t}, '{_ZONE_RE}', 1)"
    return f"""CASE
    WHEN {hours} * 60 + {minutes} > {MAX_OFFSET_MINUTES} OR {minutes} >= 60 THEN 24
    WHEN {name} <> '' AND NOT regexp_matches({name}, '{_UNAMBIGUOUS_ZONE_RE}') THEN 25
    ELSE 0 END"""


def _value(table: pa.Table) -> tuple[str, str]:
    """(the cell as given, DOUBLE). DuckDB's cast reads surrounding spaces, so nothing is trimmed."""
    if "value" not in table.column_names:
        return "CAST(NULL AS VARCHAR)", "CAST(NULL AS DOUBLE)"
    t = table.schema.field("value").type
    if _is_text(table, "value"):
        return "value", "TRY_CAST(value AS DOUBLE)"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "value", "CAST(value AS DOUBLE)"
    return "value", "TRY_CAST(CAST(value AS VARCHAR) AS DOUBLE)"


def _utc_literal(ts: datetime) -> str:
    return f"TIMESTAMP '{ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def _time_format(con: duckdb.DuckDBPyConnection, table: pa.Table) -> str | None:
    """The naive format most of a sample of the ``ts`` column is written in (None: use the ICU cast)."""
    if "ts" not in table.column_names or not _is_text(table, "ts"):
        return None
    col = table.column("ts").slice(0, 2000)
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, pa.string())
    sample = pa.table({"s": pc.utf8_trim_whitespace(pc.drop_null(col))})
    if sample.num_rows == 0:
        return None
    con.register("ts_sample", sample)
    counts = con.sql(
        "SELECT " + ", ".join(f"count(try_strptime(s, '{f}'))" for f in _TIME_FORMATS) + " FROM ts_sample"
    ).fetchall()[0]
    con.unregister("ts_sample")
    best = max(range(len(_TIME_FORMATS)), key=lambda i: counts[i])
    return _TIME_FORMATS[best] if counts[best] * 2 >= sample.num_rows else None


def _checked_sql(table: pa.Table, select: str, now: datetime, fmt: str | None, where: str = "") -> str:
    """The per-row checks over ``src`` (the source with its looked-up columns, :func:`_look_up`): parse,
    convert, check; ``select`` picks the output columns, ``where`` the rows. No join, so the rows keep the
    source's order. Times are naive UTC inside; ``check`` is the first failing check's number (NULL: the
    row is valid). The fast time parse runs once per row, the general one only where it failed."""
    ts_text, ts_fast, ts_slow = _time(table, "ts", fmt)
    an_text, _an_fast, an_slow = _time(table, "analyzed_at", None)
    value_text, value_in = _value(table)
    check = _CHECK_SQL.format(
        now=_utc_literal(now), earliest=_utc_literal(EARLIEST), latest=_utc_literal(LATEST)
    )
    return f"""
WITH s AS (
  SELECT row, point_clean AS point, quantity_clean AS quantity_raw, configured, quantity, canonical,
         orig_unit, {ts_text} AS ts_text, {ts_fast} AS ts_fast, {value_text} AS value_text,
         {value_in} AS value_in, {_text(table, "sample_id")} AS sample_id, {an_text} AS analyzed_at_text,
         {_text(table, "analyzed_at")} AS analyzed_raw, {_text(table, "laboratory")} AS laboratory,
         lookup_check, is_lab, is_interval, min_value, max_value, factor, "offset"
  FROM src {where}
), c AS (
  SELECT s.*,
         CASE WHEN ts_fast >= {_FIXED_OFFSET_FROM} THEN ts_fast - INTERVAL 8 HOUR ELSE {ts_slow} END AS ts,
         CASE WHEN ts_fast IS NOT NULL THEN 0 ELSE {_zone(table, "ts")} END AS ts_zone,
         CASE WHEN analyzed_raw IS NULL THEN NULL ELSE {an_slow} END AS analyzed_at,
         CASE WHEN "offset" = 0 THEN value_in * factor ELSE value_in * factor + "offset" END AS value
  FROM s
)
SELECT {select} FROM (SELECT c.*, {check} AS "check" FROM c)"""


def _main_select(table: pa.Table) -> str:
    """What the main pass computes: times, values and the check (numbers only); the text columns come
    straight from the source and the look-ups, without a copy through the engine. Text the engine makes
    (a number's text, trimmed laboratory cells) only when the source has such columns. ``early_local``:
    the local wall time of the rare times before 1992, when China kept summer time (else NULL)."""
    out = [
        "row",
        "ts",
        "value",
        f"CASE WHEN ts < {_FIXED_OFFSET_FROM_UTC} THEN timezone('{lake_mod.TIME_ZONE}', timezone('UTC', ts)) "
        "END AS early_local",
        'CAST("check" AS TINYINT) AS "check"',
    ]
    if "value" in table.column_names and not _is_text(table, "value"):
        out.append("CAST(value_text AS VARCHAR) AS orig_value")
    for name in ("sample_id", "analyzed_at", "laboratory"):
        if name in table.column_names:
            out.append(name)
    return ", ".join(out)


#: What the reasons of quarantined rows need.
_DIAG_SELECT = (
    'row, "check", point, quantity_raw, quantity, configured, CAST(ts_text AS VARCHAR) AS ts_raw, '
    f"CASE WHEN ts BETWEEN {_utc_literal(FIRST_SHOWN)} AND {_utc_literal(LATEST)} THEN ts END AS ts, "
    "CAST(value_text AS VARCHAR) AS value_raw, value, canonical, orig_unit, min_value, max_value, "
    "analyzed_raw"
)
#: The canonical line over the pipeline's naive-UTC columns (the same text as ledger.LINE_SQL).
_LINE = line_sql(naive_utc=True, ts_text="ts_text")


def _dictionary(column: pa.ChunkedArray | None, n: int) -> tuple[np.ndarray, list[str | None]]:
    """Per-row indices (-1: empty) into the distinct values of a text column, trimmed, empty as None.
    Look-ups then work on the few distinct values and are spread to the rows by index."""
    if column is None:
        return np.full(n, -1, np.int32), []
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries()
        column = column.combine_chunks()
    encoded = column
    if not pa.types.is_dictionary(column.type):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = _as_text(column)
        encoded = pc.dictionary_encode(column)
    values = [None if v is None or not v.strip() else v.strip() for v in encoded.dictionary.to_pylist()]
    idx = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    if any(v is None for v in values):
        keep = np.array([-1 if v is None else i for i, v in enumerate(values)] + [-1], np.int32)
        idx = keep[idx]  # index -1 takes the last entry: -1
    return idx, values


def _spread(indices: np.ndarray, values: np.ndarray, missing: Any) -> np.ndarray:
    """``values[indices]`` with ``missing`` where the index is -1 (numpy reads -1 as the last entry)."""
    spread: np.ndarray = np.append(values, np.array([missing], dtype=values.dtype))[indices]
    return spread


def _masked(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """A primitive Arrow array over ``values`` with nulls where ``missing`` (built from buffers: pyarrow's
    ``mask=`` would import numpy's masked arrays for nothing)."""
    array = pa.array(values)
    if not missing.any():
        return array
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(array.type, len(array), [validity, array.buffers()[1]])


#: unit_error codes in the looked-up table.
_UNIT_OK, _UNIT_UNKNOWN, _UNIT_INCOMPATIBLE = 0, 1, 2
#: Kinds as small integers for the look-ups (-1: no quantity).
_KINDS = {kind: i for i, kind in enumerate(("interval", "total", "cems", "lab"))}


def _conversions(
    texts: Sequence[str], canonicals: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factor, offset and error code per (unit text, canonical unit) pair; a unit written as its canonical
    spelling needs no pint."""
    factor, offset = np.full(len(texts), np.nan), np.zeros(len(texts))
    error = np.zeros(len(texts), np.int8)
    for i, (text, canon) in enumerate(zip(texts, canonicals, strict=True)):
        if text == canon:
            factor[i] = 1.0
            continue
        try:
            factor[i], offset[i] = conversion(text, canon)
        except UnitError as exc:
            error[i] = _UNIT_UNKNOWN if exc.variant == "unknown" else _UNIT_INCOMPATIBLE
    return factor, offset, error


def _combinations(*indices: tuple[np.ndarray, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-row position among the distinct combinations of several dictionary indices (-1: none), and
    each index's value per combination. The look-ups run once per combination (a thousand points in one
    unit: a thousand), not once per row."""
    # A column with one value in every row (one unit, no quantity column) adds nothing to the key.
    varying = [size > 1 or (size == 1 and bool((idx < 0).any())) for idx, size in indices]
    key = np.zeros(len(indices[0][0]), np.int64)
    space = 1
    for (idx, size), varies in zip(indices, varying, strict=True):
        if varies:
            key = key * (size + 1) + idx % (size + 1)  # -1 (none) becomes the last slot
            space *= size + 1
    if space <= 1 << 26:
        used = np.flatnonzero(np.bincount(key, minlength=space))
        position = np.empty(space, np.int32)
        position[used] = np.arange(len(used), dtype=np.int32)
        pos = position[key]
    else:
        used, inverse = np.unique(key, return_inverse=True)
        pos = inverse.astype(np.int32)
    per_combination: list[np.ndarray] = []
    rest = used.copy()
    for (_idx, size), varies in zip(reversed(indices), reversed(varying), strict=True):
        if varies:
            part = rest % (size + 1)
            rest //= size + 1
            per_combination.append(np.where(part == size, -1, part).astype(np.int32))
        else:
            per_combination.append(np.full(len(used), 0 if size else -1, np.int32))
    return pos, per_combination[::-1]


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def _look_up(table: pa.Table, plan: Plan) -> pa.Table:
    """The source with the plan, quantity and unit looked up per row.

    Adds ``lookup_check`` (the first failing check that needs no parsing: 1 point missing, 6–10 point and
    quantity, 15–16 unit; 0 none), ``is_lab``, ``is_interval``, ``pidx``, ``min_value``, ``max_value``,
    ``factor``, ``offset`` for the checks, and ``point_clean``, ``quantity_clean``, ``configured``,
    ``quantity``, ``canonical``, ``orig_unit`` for the stored rows and the reasons.

    The work runs once per distinct (point, quantity, unit) cell combination; every added column is a
    dictionary over the combinations sharing one index array, so nothing is copied per row."""
    n = table.num_rows
    col = table.column
    present = table.column_names
    p_idx, p_vals = _dictionary(col("point") if "point" in present else None, n)
    q_idx, q_vals = _dictionary(col("quantity") if "quantity" in present else None, n)
    u_idx, u_vals = _dictionary(col("unit") if "unit" in present else None, n)
    pos, (pc_, qc, uc) = _combinations((p_idx, len(p_vals)), (q_idx, len(q_vals)), (u_idx, len(u_vals)))

    qs = list(quantities().values())
    q_codes = [q.code for q in qs]
    q_pos = {c: i for i, c in enumerate(q_codes)}
    points = list(plan.points.values())
    plan_pos = {p.code: i for i, p in enumerate(points)}
    p_plan = np.array([plan_pos.get(v, -1) if v is not None else -1 for v in p_vals], np.int32)
    pidx = _spread(pc_, p_plan, -1)
    plan_q = np.array([q_pos.get(p.quantity, -1) if p.quantity else -1 for p in points], np.int32)
    configured = _spread(pidx, plan_q, -1)
    archived = _spread(pidx, np.array([p.archived for p in points], bool), False)
    bounds = [(_nan(p.min_value), _nan(p.max_value)) for p in points]
    mins = _spread(pidx, np.array([b[0] for b in bounds], float), np.nan)
    maxs = _spread(pidx, np.array([b[1] for b in bounds], float), np.nan)

    names = quantity_names()
    q_named = np.array([q_pos[names[v]] if v is not None and v in names else -1 for v in q_vals], np.int32)
    named = _spread(qc, q_named, -1)
    quantity = np.where(qc < 0, configured, named)
    canon_texts = sorted({q.unit for q in qs})
    cidx = _spread(quantity, np.array([canon_texts.index(q.unit) for q in qs], np.int32), -1)
    kind = _spread(quantity, np.array([_KINDS[q.kind.value] for q in qs], np.int8), -1)

    texts = [v or "" for v in u_vals] + canon_texts  # a row without a unit is in its canonical unit
    orig = np.where(uc < 0, np.where(cidx < 0, -1, len(u_vals) + cidx), uc).astype(np.int32)
    known = (orig >= 0) & (cidx >= 0)
    factor, offset = np.full(len(pc_), np.nan), np.full(len(pc_), np.nan)
    error = np.zeros(len(pc_), np.int8)
    if known.any():
        f, o, e = _conversions([texts[i] for i in orig[known]], [canon_texts[j] for j in cidx[known]])
        factor[known], offset[known], error[known] = f, o, e

    # Precedence among these checks (contract order): 1, 6, 7, 8, 9, 10, 15/16; later assignments win.
    check = np.zeros(len(pc_), np.int8)
    check[(error != _UNIT_UNKNOWN) & np.isnan(factor)] = 16
    check[error == _UNIT_INCOMPATIBLE] = 16
    check[error == _UNIT_UNKNOWN] = 15
    check[(qc >= 0) & (named >= 0) & (configured >= 0) & (named != configured)] = 10
    check[(pidx >= 0) & (configured < 0)] = 9
    check[(qc >= 0) & (named < 0)] = 8
    check[archived] = 7
    check[(pc_ >= 0) & (pidx < 0)] = 6
    check[pc_ < 0] = 1

    def per_row(values: Sequence[Any] | np.ndarray, kind_: pa.DataType) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(pos), pa.array(list(values), kind_))

    def optional(values: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else float(v) for v in values]

    def name(idx: np.ndarray, vocabulary: Sequence[str | None]) -> list[str | None]:
        return [vocabulary[i] if i >= 0 else None for i in idx]

    extra = {
        "lookup_check": per_row(check.tolist(), pa.int8()),
        "is_lab": per_row((kind == _KINDS["lab"]).tolist(), pa.bool_()),
        "is_interval": per_row((kind == _KINDS["interval"]).tolist(), pa.bool_()),
        "pidx": per_row([int(i) if i >= 0 else None for i in pidx], pa.int32()),
        "min_value": per_row(optional(mins), pa.float64()),
        "max_value": per_row(optional(maxs), pa.float64()),
        "factor": per_row(optional(factor), pa.float64()),
        "offset": per_row(optional(offset), pa.float64()),
        "point_clean": per_row(name(pc_, p_vals), pa.string()),
        "quantity_clean": per_row(name(qc, q_vals), pa.string()),
        "configured": per_row(name(configured, q_codes), pa.string()),
        "quantity": per_row(name(quantity, q_codes), pa.string()),
        "canonical": per_row(name(cidx, canon_texts), pa.string()),
        "orig_unit": per_row(name(orig, texts), pa.string()),
    }
    out = table.drop_columns([c for c in ("quantity",) if c in present])
    for key, array in extra.items():
        out = out.append_column(key, array)
    return out


# --- outcome ---------------------------------------------------------------------------------------


def ranges(rows: np.ndarray) -> list[list[int]]:
    """Sorted row numbers as ``[first, last]`` runs."""
    if len(rows) == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(rows) - 1]))
    return [[int(rows[s]), int(rows[e])] for s, e in zip(starts, ends, strict=True)]


def _keyed_ranges(rows: np.ndarray, keys: np.ndarray) -> list[tuple[int, int, int]]:
    """``(first, last, key)`` runs of consecutive rows with the same key."""
    if len(rows) == 0:
        return []
    breaks = np.flatnonzero((np.diff(rows) != 1) | (np.diff(keys) != 0))
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(rows) - 1]))
    return [(int(rows[s]), int(rows[e]), int(keys[s])) for s, e in zip(starts, ends, strict=True)]


@dataclass
class Outcome:
    """The fate of every row of one source.

    ``accepted``: the rows to store, the lake's file columns plus ``y``, ``m`` (``batch`` 0 until staged;
    text columns may be dictionary-encoded), in row order; ``content_hash`` is over them. ``held_by``: the
    batch that already holds exactly this content (then nothing is accepted). ``duplicates``: ``(first,
    last, batch)`` runs of rows identical to stored ones and ``(first, last, -row)`` runs identical to an
    earlier row of the file.
    """

    source: Source
    accepted: pa.Table
    accepted_ranges: list[list[int]]
    duplicates: list[tuple[int, int, int]]
    quarantined: list[Quarantine]
    content_hash: str
    held_by: int | None = None
    superseded: int = 0

    @property
    def counts(self) -> dict[str, int]:
        dup = sum(last - first + 1 for first, last, _ in self.duplicates)
        return {
            "total": self.source.rows,
            Fate.ACCEPTED.value: self.accepted.num_rows,
            Fate.DUPLICATE.value: dup,
            Fate.QUARANTINED.value: len(self.quarantined),
            "blank": len(self.source.blank_rows),
        }

    def report(self) -> dict[str, Any]:
        """The ingest report (JSON): every row's fate, as ranges for the accepted and duplicate rows."""
        dups = []
        for first, last, key in self.duplicates:
            entry: dict[str, Any] = {"rows": [first, last]}
            if key > 0:
                entry["batch"] = key
            else:
                entry["row"] = -key
            dups.append(entry)
        q = self.quarantined
        return {
            "file": self.source.file,
            "sheet": self.source.sheet,
            "format": self.source.format,
            "columns": {k: v for k, v in self.source.headers.items() if not k.startswith("_")},
            "ignored_columns": self.source.ignored,
            "counts": self.counts,
            "accepted": self.accepted_ranges,
            "duplicate": dups,
            "quarantined": [
                {
                    "row": x.row,
                    "column": x.column,
                    "code": x.code,
                    "variant": x.variant,
                    "params": json_safe(x.params),
                }
                for x in q[:REPORT_QUARANTINE_LIMIT]
            ],
            "quarantined_listed": min(len(q), REPORT_QUARANTINE_LIMIT),
            "blank_rows": self.source.blank_rows,
            "content_hash": self.content_hash,
            "held_by": self.held_by,
            "superseded": self.superseded,
        }


def json_safe(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON can hold them: NaN and infinities become text (PostgreSQL's jsonb refuses them)."""
    return {k: str(v) if isinstance(v, float) and not math.isfinite(v) else v for k, v in params.items()}


def _hash(con: duckdb.DuckDBPyConnection, table: pa.Table) -> str:
    """Content hash of a pipeline table (rows in row order, times naive UTC). Each distinct instant is
    formatted once (a thousand points share each quarter hour) and the lines are built by the engine."""
    hasher = ContentHasher()
    if table.num_rows == 0:
        return hasher.hexdigest()
    ts = table.column("ts").combine_chunks()
    instants = pc.dictionary_encode(ts)
    con.register("instants", pa.table({"t": instants.dictionary}))
    texts = con.sql(f"SELECT {ts_sql('t', naive_utc=True)} FROM instants").to_arrow_table().column(0)
    con.unregister("instants")
    ts_text = pa.DictionaryArray.from_arrays(instants.indices, texts.combine_chunks())
    hashed = table.select(["row", *LINE_COLUMNS]).append_column("ts_text", ts_text)
    con.register("hashed", hashed)
    last = -1
    # A plain scan of an Arrow table keeps its order (preserve_insertion_order); checked, not assumed.
    for batch in con.sql(f'SELECT "row", {_LINE} AS line FROM hashed').to_arrow_reader(_CHUNK):
        rows = batch.column(0).to_numpy()
        if len(rows) and (rows[0] <= last or not bool(np.all(rows[1:] > rows[:-1]))):
            raise AssertionError("content hash fed out of row order")
        if len(rows):
            last = int(rows[-1])
        hasher.update(batch.column(1))
    con.unregister("hashed")
    return hasher.hexdigest()


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """The values of a dictionary-encoded integer column as an int64 array (-1 for null)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = pc.take(array.dictionary, array.indices)
    decoded: np.ndarray = pc.fill_null(array, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return decoded


def _maybe_duplicate_keys(valid: pa.Table) -> bool:
    """Whether two valid rows may share (point, ts) (quantity is the point's, so it cannot differ).

    O(n) and exact for the usual files, sorted by time then point or by point then time: consecutive keys
    strictly increasing in either order means no key repeats. Otherwise the caller groups."""
    if valid.num_rows < 2:
        return False
    p = _codes(valid.column("pidx"))
    t = valid.column("ts").cast(pa.int64()).to_numpy()
    dp, dt = np.diff(p), np.diff(t)
    if bool(np.all((dt > 0) | ((dt == 0) & (dp > 0)))):
        return False
    return not bool(np.all((dp > 0) | ((dp == 0) & (dt > 0))))


def validate(
    source: Source,
    plan: Plan,
    *,
    lake: Path,
    now: datetime | None = None,
    correction: Correction | None = None,
    held_by: Callable[[str], int | None] = lambda _h: None,
) -> Outcome:
    """Judge every row of ``source`` against ``plan`` and the stored rows of ``lake``.

    ``held_by(content_hash)`` names a stored batch of the organization with that content hash, if any.
    Read-only: nothing is written (staging is :func:`carbonmeter.readings.lake.stage`).
    """
    now = now or datetime.now(UTC)
    con = lake_mod.connect()
    try:
        return _Run(con, source, plan, lake, now, correction, held_by).outcome()
    finally:
        con.close()


@dataclass
class _Exceptions:
    """Rows of the valid set that are not accepted: ``check`` 21–23 or a ``dup_key``."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    checks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    dup_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    superseded: int = 0
    stored: dict[int, float] = field(default_factory=dict)
    dup_rows: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class _Run:
    con: duckdb.DuckDBPyConnection
    source: Source
    plan: Plan
    lake: Path
    now: datetime
    correction: Correction | None
    held_by: Callable[[str], int | None]
    table: pa.Table = field(init=False)
    fmt: str | None = field(init=False, default=None)

    def outcome(self) -> Outcome:
        con = self.con
        table = self.table = _look_up(self.source.table, self.plan)
        con.register("src", table)
        self.fmt = _time_format(con, table)
        checked = self._assemble(con.sql(_checked_sql(table, _main_select(table), self.now, self.fmt)))
        failed = pc.is_valid(checked.column("check"))
        n_failed = pc.sum(pc.cast(failed, pa.int64())).as_py() or 0
        first = checked.filter(failed).select(["row", "check"]) if n_failed else None
        valid = checked.filter(pc.invert(failed)) if n_failed else checked
        valid = valid.drop_columns(["check"])
        valid_hash = _hash(con, valid)
        held = self.held_by(valid_hash) if valid.num_rows else None
        exc = _Exceptions()
        if held is not None:
            rows = valid.column("row").to_numpy()
            exc = _Exceptions(rows, np.zeros(len(rows), np.int64), np.full(len(rows), held, np.int64))
        elif valid.num_rows:
            exc = self._classify(valid)
        drop = exc.rows[(exc.checks > 0) | (exc.dup_keys != 0)]
        accepted = valid
        if len(drop):
            accepted = valid.filter(pc.invert(pc.is_in(valid.column("row"), pa.array(drop))))
        if held is not None or accepted.num_rows == valid.num_rows:
            content = valid_hash
        else:
            content = _hash(con, accepted)
            again = self.held_by(content) if accepted.num_rows else None
            if again is not None:  # what is left is exactly a stored batch: nothing new
                held = again
                rows = accepted.column("row").to_numpy()
                exc.rows = np.concatenate((exc.rows, rows))
                exc.checks = np.concatenate((exc.checks, np.zeros(len(rows), np.int64)))
                exc.dup_keys = np.concatenate((exc.dup_keys, np.full(len(rows), again, np.int64)))
                accepted = accepted.slice(0, 0)
        if accepted.num_rows == 0 and held is None:
            content = ""
        dup_mask = (exc.checks == 0) & (exc.dup_keys != 0)
        order = np.argsort(exc.rows[dup_mask], kind="stable")
        duplicates = _keyed_ranges(exc.rows[dup_mask][order], exc.dup_keys[dup_mask][order])
        quarantined = self._quarantine(first, exc)
        return Outcome(
            source=self.source,
            accepted=_lake_table(accepted),
            accepted_ranges=ranges(accepted.column("row").to_numpy()),
            duplicates=duplicates,
            quarantined=sorted([*self.source.rejected, *quarantined], key=lambda q: q.row),
            content_hash=content,
            held_by=held,
            superseded=exc.superseded,
        )

    def _assemble(self, relation: duckdb.DuckDBPyRelation) -> pa.Table:
        """The checked rows in row order: the engine's numbers beside the source's text and the looked-up
        columns (dictionaries: ten million point codes are a thousand strings and an index), and the
        Asia/Shanghai year and month from the UTC time (UTC+8 since 1992; earlier through the engine)."""
        computed = relation.to_arrow_table()
        table = self.table
        if not computed.column("row").equals(table.column("row")):  # the engine kept the order: checked
            computed = computed.take(pc.index_in(table.column("row"), value_set=computed.column("row")))
        n = table.num_rows
        ts = computed.column("ts")
        us = pc.fill_null(pc.cast(ts, pa.int64()), 0).to_numpy()
        local = (us + _UTC8_US).astype("datetime64[us]")
        early = computed.column("early_local")
        if early.null_count < n:
            known_early = pc.is_valid(early).to_numpy(zero_copy_only=False)
            local[known_early] = pc.cast(early, pa.int64()).to_numpy(zero_copy_only=False)[known_early]
        months = local.astype("datetime64[M]").astype(np.int64)
        missing = pc.is_null(ts).to_numpy(zero_copy_only=False)

        def given(name: str, kind: pa.DataType) -> pa.ChunkedArray | pa.Array:
            if name in computed.column_names:
                return computed.column(name)
            if name == "orig_value" and "value" in table.column_names:
                return table.column("value")
            return pa.nulls(n, kind)

        return pa.table(
            {
                "row": table.column("row"),
                "point": table.column("point_clean"),
                "quantity": table.column("quantity"),
                "ts": ts,
                "value": computed.column("value"),
                "unit": table.column("canonical"),
                "orig_value": given("orig_value", pa.string()),
                "orig_unit": table.column("orig_unit"),
                "factor": table.column("factor"),
                "offset": table.column("offset"),
                "sample_id": given("sample_id", pa.string()),
                "analyzed_at": given("analyzed_at", pa.timestamp("us")),
                "laboratory": given("laboratory", pa.string()),
                "y": _masked((months // 12 + 1970).astype(np.int32), missing),
                "m": _masked((months % 12 + 1).astype(np.int32), missing),
                "pidx": table.column("pidx"),
                "check": computed.column("check"),
            }
        )

    def _classify(self, valid: pa.Table) -> _Exceptions:
        """Duplicates within the file (RD-DUPROW when values differ) and against stored rows (duplicate
        or RD-CONFLICT; a correction may supersede values of the batches it corrects)."""
        con = self.con
        con.register("valid", valid)
        has_dk = False
        if _maybe_duplicate_keys(valid):
            con.sql(
                "CREATE OR REPLACE TEMP TABLE dk AS SELECT pidx, ts, min(value) AS lo, max(value) AS hi, "
                'min("row") AS first FROM valid GROUP BY pidx, ts HAVING count(*) > 1'
            )
            has_dk = _count(con, "SELECT count(*) FROM dk") > 0
        months = [(int(y), int(m)) for y, m in con.sql("SELECT DISTINCT y, m FROM valid").fetchall()]
        has_ex = False
        keys = "(SELECT point, quantity, timezone('UTC', ts) AS ts FROM valid)"
        ex_sql = lake_mod.existing_sql(self.lake, self.plan.org, months, keys)
        if ex_sql is not None:
            con.sql(
                "CREATE OR REPLACE TEMP TABLE ex AS "
                f"SELECT point, quantity, timezone('UTC', ts) AS ts, value, batch FROM ({ex_sql})"
            )
            has_ex = _count(con, "SELECT count(*) FROM ex") > 0
        if not has_dk and not has_ex:
            return _Exceptions()
        corr = self.correction
        sup = "false"
        if corr is not None and corr.supersedable:
            sup = "ex.batch IN (" + ", ".join(str(int(s)) for s in sorted(corr.supersedable)) + ")"
        lo, hi, first = ("dk.lo", "dk.hi", "dk.first") if has_dk else ("NULL", "NULL", "NULL")
        ex_value, ex_batch = ("ex.value", "ex.batch") if has_ex else ("NULL", "NULL")
        conflict = f"{ex_value} IS NOT NULL AND {ex_value} <> v.value"
        refused = f"{conflict} AND NOT ({sup})" if corr is not None else conflict
        conflict_code = 23 if corr is not None else 22
        joins = ("LEFT JOIN dk USING (pidx, ts) " if has_dk else "") + (
            "LEFT JOIN ex USING (point, quantity, ts)" if has_ex else ""
        )
        con.sql(
            f"""CREATE OR REPLACE TEMP TABLE fates AS
SELECT v."row", v.point, v.quantity, v.ts, v.value, {ex_value} AS stored, CASE
    WHEN {lo} <> {hi} THEN 21
    WHEN {refused} THEN {conflict_code}
    ELSE 0 END AS fate_check,
  CASE
    WHEN {lo} <> {hi} THEN 0
    WHEN {refused} THEN COALESCE({ex_batch}, 0)
    WHEN {ex_value} = v.value THEN {ex_batch}
    WHEN {first} IS NOT NULL AND v."row" <> {first} THEN -{first}
    ELSE 0 END AS dup_key,
  COALESCE({conflict}, false) AS supersedes
FROM valid v {joins}"""
        )
        out = con.sql(
            'SELECT "row", fate_check, dup_key, supersedes, stored FROM fates '
            'WHERE fate_check > 0 OR dup_key <> 0 OR supersedes ORDER BY "row"'
        ).to_arrow_table()
        rows = out.column("row").to_numpy()
        checks = out.column("fate_check").to_numpy().astype(np.int64)
        keys = out.column("dup_key").to_numpy().astype(np.int64)
        supersedes = out.column("supersedes").to_numpy(zero_copy_only=False)
        exc = _Exceptions(
            rows=rows,
            checks=checks,
            dup_keys=np.where(checks > 0, 0, keys),
            superseded=int(np.sum(supersedes & (checks == 0) & (keys == 0))),
        )
        stored = out.column("stored").to_pylist()
        for i in np.flatnonzero(checks >= 22):
            exc.stored[int(rows[i])] = stored[i]
            exc.dup_rows.setdefault(-int(rows[i]), [int(keys[i])])  # batch holding the stored value
        if np.any(checks == 21):
            for row, listed in con.sql(
                """WITH g AS (SELECT point, quantity, ts, list("row" ORDER BY "row")[1:20] AS rows FROM fates
                            WHERE fate_check = 21 GROUP BY ALL)
                   SELECT f."row", g.rows FROM fates f JOIN g USING (point, quantity, ts)
                   WHERE f.fate_check = 21"""
            ).fetchall():
                exc.dup_rows[int(row)] = [int(r) for r in listed]
        return exc

    def _quarantine(self, first: pa.Table | None, exc: _Exceptions) -> list[Quarantine]:
        """Word the reason of every quarantined row (the only per-row Python, and only for those rows)."""
        checks: dict[int, int] = {}
        if first is not None:
            checks.update(
                zip(first.column("row").to_pylist(), first.column("check").to_pylist(), strict=True)
            )
        late = exc.checks > 0
        checks.update(zip(exc.rows[late].tolist(), exc.checks[late].tolist(), strict=True))
        if not checks:
            return []
        con = self.con
        con.register("qrows", pa.table({"row": pa.array(list(checks), pa.int64())}))
        where = 'WHERE "row" IN (SELECT "row" FROM qrows)'
        diag_sql = _checked_sql(self.table, _DIAG_SELECT, self.now, self.fmt, where)
        diag = con.sql(f'SELECT * FROM ({diag_sql}) ORDER BY "row"').to_arrow_table()
        raw = _raw_cells(self.source, diag.column("row"))
        out: list[Quarantine] = []
        for i, r in enumerate(diag.to_pylist()):
            row = int(r["row"])
            check = checks[row]
            code, variant, column = CHECKS[check]
            p = _params(check, r, self.now)
            p["column"] = self.source.header(column)
            if check == 21:
                p["rows"] = exc.dup_rows.get(row, [row])
            elif check in (22, 23):
                p |= {
                    "stored": exc.stored.get(row),
                    "batch": exc.dup_rows.get(-row, [None])[0],
                    "corrects": self.correction.corrects if self.correction else None,
                }
            out.append(
                Quarantine(self.source.file, self.source.sheet, row, p["column"], code, variant, p, raw[i])
            )
        return out


LINE_COLUMNS = ("point", "quantity", "ts", "value", "unit", "sample_id", "analyzed_at", "laboratory")


def _lake_table(table: pa.Table) -> pa.Table:
    """The pipeline's table as the lake's rows (file columns + ``y``, ``m``): times become UTC-aware; the
    text columns stay dictionary-encoded (logically strings; :func:`carbonmeter.readings.lake.stage` writes
    them as plain strings, one partition per thread)."""
    cols = {name: table.column(name) for name in table.column_names}
    cols["ts"] = _as_utc(cols["ts"])
    cols["analyzed_at"] = _as_utc(cols["analyzed_at"])
    cols["batch"] = pa.array(np.zeros(table.num_rows, np.int64))
    out = {name: cols[name] for name in lake_mod.FILE_SCHEMA.names}
    out["y"], out["m"] = cols["y"], cols["m"]
    return pa.table(out)


def _as_utc(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Naive UTC microseconds as UTC-aware, without a copy (the same numbers, another type)."""
    return pa.chunked_array([c.view(lake_mod.UTC_US) for c in column.chunks], type=lake_mod.UTC_US)


def _params(check: int, r: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Language-neutral parameters of a reason (times naive UTC in ``r``)."""
    if check in (1, 2, 3, 11, 12, 13):
        return {"quantity": r["quantity"]}
    if check == 4:
        return {"cell": r["value_raw"]}
    if check == 5:
        return {"cell": r["ts_raw"]}
    if check in (6, 7, 9):
        return {"point": r["point"]}
    if check == 8:
        return {"quantity": r["quantity_raw"]}
    if check == 10:
        return {"point": r["point"], "quantity": r["quantity"], "configured": r["configured"]}
    if check == 14:
        return {"cell": r["analyzed_raw"]}
    if check in (15, 16):
        return {"unit": r["orig_unit"], "canonical": r["canonical"], "detail": _unit_detail(r)}
    if check == 17:
        return {"ts": _local(r["ts"]) or r["ts_raw"], "now": _local(now.replace(microsecond=0))}
    if check == 18:
        # The limit as a date: Asia/Shanghai's 1900 offset was local mean time (+08:05:43), no reader's.
        return {"ts": _local(r["ts"]) or r["ts_raw"], "earliest": EARLIEST.date().isoformat()}
    if check in (24, 25):
        return {"cell": r["ts_raw"], "max_offset": f"±{MAX_OFFSET_MINUTES // 60:02d}:00"}
    if check in (19, 20):
        return {
            "value": r["value"],
            "unit": r["canonical"],
            "quantity": r["quantity"],
            "point": r["point"],
            "min": r["min_value"],
            "max": r["max_value"],
        }
    return {"value": r["value"], "unit": r["canonical"], "point": r["point"], "quantity": r["quantity"]}


def _unit_detail(r: Mapping[str, Any]) -> str:
    try:
        conversion(r["orig_unit"] or "", r["canonical"] or "")
    except UnitError as exc:
        return exc.detail
    return ""


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.sql(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def _local(ts: datetime | None) -> str | None:
    """A time as the plant reads it: Asia/Shanghai, with its offset (naive times are UTC)."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(ZoneInfo(lake_mod.TIME_ZONE)).isoformat(sep=" ")


def _raw_cells(source: Source, rows: pa.ChunkedArray) -> list[dict[str, str | None]]:
    """The cells of the given rows as received, keyed by the source's headers."""
    t = source.table
    wanted = rows.combine_chunks() if rows.num_chunks else pa.array([], pa.int64())
    picked = t.filter(pc.is_in(t.column("row"), value_set=wanted))
    names = [c for c in t.column_names if c != "row"]
    cols = {c: picked.column(c).to_pylist() for c in names}
    by_row: dict[int, dict[str, str | None]] = {}
    for i, row in enumerate(picked.column("row").to_pylist()):
        by_row[int(row)] = {
            source.header(c): (None if cols[c][i] is None else str(cols[c][i])) for c in names
        }
    return [by_row.get(int(r), {}) for r in rows.to_pylist()]


# --- the report in words ------------------------------------------------------------------------------

_LABELS: Mapping[str, Mapping[Lang, str]] = {
    "file": {"zh": "文件", "en": "File"},
    "sheet": {"zh": "工作表", "en": "sheet"},
    "summary": {
        "zh": "共 {total} 行：接收 {accepted}，重复 {duplicate}，隔离 {quarantined}",
        "en": "{total} rows: {accepted} accepted, {duplicate} duplicate, {quarantined} quarantined",
    },
    "batch": {
        "zh": "已写入批次 #{batch}（内容哈希 {hash}）",
        "en": "stored as batch #{batch} (content hash {hash})",
    },
    "held": {
        "zh": "内容与已保存的批次 #{batch} 相同，未重复写入",
        "en": "the same content is already stored as batch #{batch}; nothing written",
    },
    "nothing": {"zh": "没有新数据写入", "en": "nothing new was written"},
    "accepted": {"zh": "接收的行", "en": "Accepted rows"},
    "duplicate": {"zh": "重复的行", "en": "Duplicate rows"},
    "dup_batch": {"zh": "已由批次 #{batch} 保存", "en": "already stored by batch #{batch}"},
    "dup_row": {"zh": "与第 {row} 行相同", "en": "same as row {row}"},
    "quarantined": {"zh": "隔离的行", "en": "Quarantined rows"},
    "row": {"zh": "第 {row} 行", "en": "row {row}"},
    "column": {"zh": "列“{column}”", "en": "column '{column}'"},
    "blank": {"zh": "空行（无数据，未计入）", "en": "Blank rows (no data, not counted)"},
    "ignored": {"zh": "未使用的列", "en": "Columns not used"},
    "superseded": {"zh": "更正了 {n} 个已保存的值", "en": "{n} stored values superseded"},
}


def _label(key: str, lang: Lang, **params: Any) -> str:
    return _LABELS[key][lang].format(**params)


def _runs(runs: Sequence[Sequence[int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def render_report(
    report: Mapping[str, Any], quarantined: Sequence[Quarantine], lang: Lang = "zh", batch: int | None = None
) -> str:
    """The ingest report as text: a summary, then every row's fate (ranges and every exception)."""
    sep = "，" if lang == "zh" else ", "
    where = f"{_label('file', lang)} {report['file'] or '—'}"
    if report.get("sheet"):
        where += f"{sep}{_label('sheet', lang)} {report['sheet']}"
    counts = report["counts"]
    lines = [where, _label("summary", lang, **counts)]
    if batch is not None:
        lines.append(_label("batch", lang, batch=batch, hash=report["content_hash"]))
    elif report.get("held_by") is not None:
        lines.append(_label("held", lang, batch=report["held_by"]))
    else:
        lines.append(_label("nothing", lang))
    if report.get("superseded"):
        lines.append(_label("superseded", lang, n=report["superseded"]))
    if report.get("accepted"):
        lines.append(f"{_label('accepted', lang)}: {_runs(report['accepted'])}")
    if report.get("duplicate"):
        lines.append(f"{_label('duplicate', lang)}:")
        for d in report["duplicate"]:
            why = (
                _label("dup_batch", lang, batch=d["batch"])
                if "batch" in d
                else _label("dup_row", lang, row=d["row"])
            )
            lines.append(f"  {_runs([d['rows']])}: {why}")
    if quarantined:
        lines.append(f"{_label('quarantined', lang)}:")
        for q in quarantined:
            loc = _label("row", lang, row=q.row)
            if q.column:
                loc += sep + _label("column", lang, column=q.column)
            lines.append(f"  {loc}: {q.code} {q.reason(lang)}")
    if report.get("blank_rows"):
        lines.append(
            f"{_label('blank', lang)}: {_runs(ranges(np.array(report['blank_rows'], dtype=np.int64)))}"
        )
    if report.get("ignored_columns"):
        lines.append(f"{_label('ignored', lang)}: {', '.join(report['ignored_columns'])}")
    return "\n".join(lines) + "\n"
