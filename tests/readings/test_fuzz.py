"""Fuzzing the readings readers (CSV, XLSX, Parquet, JSON rows) with a fixed budget: whatever the bytes,
reading and judging them gives a run report (every row with one fate, the report renders in zh and en) or a
located refusal of the file (``IngestError``, worded in both languages) — never another exception, which
``carbonmeter ingest`` would turn into exit 1 with a traceback instead of its documented 0, 1 (rows
quarantined) or 2 (a file it cannot act on).

The inputs are built to reach the readers' corners, not only random noise: CSV text from an alphabet of
quotes, separators, CR/LF, NUL, bad bytes, zone names and offsets; workbooks with every cell type openpyxl
writes; Parquet tables with typed columns of every kind a logger exports; and each format's bytes cut short.
"""

from __future__ import annotations

import io
import math
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import ingest

from .test_ingest import PLAN
from .test_lake import NOW

#: Examples per reader: the suite's fixed budget (a few seconds each).
BUDGET = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def judged(data: bytes, suffix: str, max_rows: int | None = 1000) -> str:
    """Read and judge ``data`` as a file with ``suffix``; the outcome's kind ("report" or "refused")."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            source = ingest.read_source(path, max_rows=max_rows)
            outcome = ingest.validate(source, PLAN, lake=Path(folder) / "lake", now=NOW)
        except ingest.IngestError as exc:
            assert exc.message("zh") and exc.message("en")
            assert len(exc.message("en")) < 2000  # the input is quoted briefly, not whole
            return "refused"
    counts = outcome.counts
    assert counts["total"] == counts["accepted"] + counts["duplicate"] + counts["quarantined"]
    report = outcome.report()
    for lang in ("zh", "en"):
        text = ingest.render_report(report, outcome.quarantined, lang)  # type: ignore[arg-type]
        assert text.endswith("\n")
    return "report"


# --- CSV ----------------------------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(
        [
            "P1",
            "P2",
            "L1",
            "NP",
            "OLD",
            "P9",
            "",
            " ",
            "1",
            "-1",
            "1e308",
            "1e309",
            "NaN",
            "inf",
            "0x1F",
            "2024-01-01 00:00",
            "2024-01-01T00:00:00+08:00",
            "2024-01-01 00:00+99:00",
            "2024-01-01 00:00 CST",
            "-0001-01-01 00:00",
            "0000-01-01",
            "9999-12-31 23:59",
            "99999-01-01",
            "2024-02-30",
            "t",
            "kg",
            "MWh",
            "furlong",
            "consumption_mass",
            "ncv",
            "数值",
            "煤",
            '"',
            '""',
            ",",
            "\r",
            "\n",
            "\x00",
        ]
    ),
    st.text(max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(["point", "ts", "value", "unit", "quantity", "sample_id", "计量点", "时间", "数值", "x"]),
    min_size=0,
    max_size=6,
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(st.one_of(st.just(["point", "ts", "value"]), HEADERS))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 2), max_size=12))
    sep = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quote = draw(st.booleans())

    def cell(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if quote or any(ch in c for ch in ',"\r\n') else c

    text = sep.join(",".join(cell(c) for c in row) for row in [header, *rows]) + draw(
        st.sampled_from(["", sep])
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()) and data:  # a stray byte somewhere
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\x80", b"\xfe\xff", b"\x00"])) + data[at:]
    return data


@BUDGET
@given(csv_bytes())
def test_csv_gives_a_report_or_a_located_refusal(data: bytes) -> None:
    judged(data, ".csv")


@BUDGET
@given(st.binary(max_size=300))
def test_random_bytes_named_csv(data: bytes) -> None:
    judged(data, ".csv")


# --- XLSX ---------------------------------------------------------------------------------------------

XLSX_CELLS = st.one_of(
    st.none(),
    CELLS.filter(
        lambda c: "\x00" not in c and "\r" not in c and all(ord(ch) >= 32 or ch in "\t\n" for ch in c)
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**15), 10**15),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 1, 1)),
    st.dates(min_value=date(1900, 1, 2)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)


@st.composite
def xlsx_bytes(draw: st.DrawFn) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = draw(st.sampled_from(["读数", "Sheet1", "数据"]))
    header = draw(st.one_of(st.just(["point", "ts", "value"]), HEADERS))
    for col, h in enumerate(header, start=1):
        sheet.cell(row=1, column=col, value=h)
    rows = draw(st.lists(st.lists(XLSX_CELLS, max_size=len(header) + 1), max_size=8))
    start = draw(st.integers(2, 4))
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    book.properties.created = book.properties.modified = datetime(2024, 1, 1)  # the same bytes each time
    buffer = io.BytesIO()
    book.save(buffer)
    return _maybe_cut(draw, buffer.getvalue())


def _maybe_cut(draw: st.DrawFn, data: bytes) -> bytes:
    """``data``, or cut short (a truncated download) at a drawn fraction of its length."""
    if draw(st.booleans()):
        return data[: len(data) * draw(st.integers(0, 1000)) // 1000]
    return data


@BUDGET
@given(xlsx_bytes())
def test_xlsx_gives_a_report_or_a_located_refusal(data: bytes) -> None:
    judged(data, ".xlsx")


@BUDGET
@given(st.binary(max_size=300))
def test_random_bytes_named_xlsx(data: bytes) -> None:
    judged(data, ".xlsx")


# --- Parquet ------------------------------------------------------------------------------------------

COLUMN_KINDS: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "text": (pa.string(), CELLS),
    "int": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "float": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "ts": (pa.timestamp("us"), st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))),
    "ts_utc": (
        pa.timestamp("us", tz="UTC"),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    ),
    "date": (pa.date32(), st.dates()),
    "binary": (pa.binary(), st.binary(max_size=8)),
    "decimal": (pa.decimal128(10, 3), st.decimals(min_value=-(10**6), max_value=10**6, places=3)),
}


@st.composite
def parquet_bytes(draw: st.DrawFn) -> bytes:
    names = draw(st.one_of(st.just(["point", "ts", "value"]), HEADERS.map(lambda h: list(dict.fromkeys(h)))))
    n = draw(st.integers(0, 8))
    columns = {}
    for name in names:
        kind, values = COLUMN_KINDS[draw(st.sampled_from(sorted(COLUMN_KINDS)))]
        cells = draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))
        if kind == pa.float64():
            cells = [c if c is None or not math.isnan(c) else float("nan") for c in cells]
        columns[name] = pa.array(cells, type=kind)
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"_": pa.nulls(n)}), buffer)
    return _maybe_cut(draw, buffer.getvalue())


@BUDGET
@given(parquet_bytes())
def test_parquet_gives_a_report_or_a_located_refusal(data: bytes) -> None:
    judged(data, ".parquet")


@BUDGET
@given(st.binary(max_size=300))
def test_random_bytes_named_parquet(data: bytes) -> None:
    judged(data, ".parquet")


# --- JSON rows (API, MQTT, a .json file) ------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELLS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@BUDGET
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["point", "ts", "value", "unit", "quantity", "数值", "y"]), JSON_VALUES
        ),
        max_size=6,
    )
)
def test_json_rows_give_a_report_or_a_located_refusal(rows: list[dict[str, Any]]) -> None:
    try:
        source = ingest.from_rows(rows)
    except ingest.IngestError as exc:
        assert exc.message("zh") and exc.message("en")
        return
    outcome = ingest.validate(source, PLAN, lake=Path("/nonexistent-lake"), now=NOW)
    assert outcome.counts["total"] == len(rows) - len(source.blank_rows)
    ingest.render_report(outcome.report(), outcome.quarantined, "en")


def test_the_budget_reaches_both_outcomes() -> None:
    """Not vacuous: among a fixed set of inputs, some are read and judged and some refused."""
    kinds = {
        judged(b"point,ts,value\nP1,2024-01-01 00:00,1\n", ".csv"),
        judged(b"\x00\x01", ".parquet"),
        judged(b"point,ts,value\nP1,-0001-01-01 00:00,1\nP1,2024-01-01 00:00+99:00,\xff\n", ".csv"),
    }
    assert kinds == {"report", "refused"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".json"])
def test_an_empty_file_is_refused_with_its_name(suffix: str) -> None:
    assert judged(b"", suffix) == "refused"
