"""Parsing and validation on real files and a real DuckDB: every quarantine code with its row and column,
Chinese headers, workbooks and their sheets, Parquet and JSON rows, time zones at month boundaries, the
fate of every row, duplicates, conflicts, corrections, and the content hash."""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import ingest
from carbonmeter.readings.ledger import canonical_line, content_hash

from .test_lake import NOW, ORG, add_batch, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN = ingest.Plan(
    ORG,
    {
        "P1": ingest.PointPlan("P1", "consumption_mass", 0.0, 100.0),
        "P2": ingest.PointPlan("P2", "electricity", 0.0, None),
        "L1": ingest.PointPlan("L1", "ncv", 10.0, 40.0),
        "R1": ingest.PointPlan("R1", "register_mass"),
        "NP": ingest.PointPlan("NP"),
        "OLD": ingest.PointPlan("OLD", "consumption_mass", archived=True),
    },
)


def csv(tmp_path: Path, text: str, name: str = "r.csv", encoding: str = "utf-8") -> ingest.Source:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return ingest.read_source(path)


def judge(source: ingest.Source, lake: Path | None = None, **kw: Any) -> ingest.Outcome:
    return ingest.validate(source, PLAN, lake=lake or Path("/nonexistent-lake"), now=NOW, **kw)


def fates(outcome: ingest.Outcome) -> dict[int, tuple[str, str, str]]:
    return {q.row: (q.code, q.variant, q.column) for q in outcome.quarantined}


def test_every_check_names_its_row_and_column(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "point,quantity,ts,value,unit,sample_id,analyzed_at,laboratory",
            "P1,,2024-01-01 00:00,1,t,,,",  # 2 accepted
            ",,2024-01-01 00:00,1,t,,,",  # 3 RD-MISSING point
            "P1,,,1,t,,,",  # 4 RD-MISSING ts
            "P1,,2024-01-01 00:15,,t,,,",  # 5 RD-MISSING value
            "P1,,2024-01-01 00:30,1.2.3,t,,,",  # 6 RD-PARSE value
            "P1,,2024-01-01 00:45,nan,t,,,",  # 7 RD-PARSE value (not finite)
            "P1,,2024-13-01 00:00,1,t,,,",  # 8 RD-TIME unreadable
            "XX,,2024-01-01 00:00,1,t,,,",  # 9 RD-POINT unknown
            "OLD,,2024-01-01 00:00,1,t,,,",  # 10 RD-POINT archived
            "P1,heat,2024-01-01 01:00,1,t,,,",  # 11 RD-QUANTITY unknown
            "NP,consumption_mass,2024-01-01 00:00,1,t,,,",  # 12 RD-QUANTITY no profile
            "P1,electricity,2024-01-01 01:15,1,MWh,,,",  # 13 RD-QUANTITY mismatch
            "L1,,2024-01-01,20,GJ/t,,2024-01-03,Lab",  # 14 RD-MISSING sample_id (lab)
            "L1,,2024-01-02,20,GJ/t,S-2,2024-01-33,Lab",  # 15 RD-PARSE analyzed_at
            "P1,,2024-01-01 01:30,1,flurb,,,",  # 16 RD-UNIT unknown
            "P1,,2024-01-01 01:45,1,MWh,,,",  # 17 RD-UNIT incompatible
            "P1,,2026-06-01 00:00,1,t,,,",  # 18 RD-TIME future
            "P1,,0024-01-01 00:00,1,t,,,",  # 19 RD-TIME too early
            "P1,,2024-01-01 02:00,-1,t,,,",  # 20 RD-NEGATIVE
            "P1,,2024-01-01 02:15,101,t,,,",  # 21 RD-RANGE
            "P1,,2024-01-01 02:30,1,t,,,",  # 22 RD-DUPROW
            "P1,,2024-01-01 02:30,2,t,,,",  # 23 RD-DUPROW
            "P1,,2024-01-01 02:45,1,t,,",  # 24 RD-PARSE: a cell short
            "L1,,2024-01-03,20,MJ/kg,S-3,2024-01-04,Lab",  # 25 accepted
        ]
    )
    outcome = judge(csv(tmp_path, text + "\n"))
    assert fates(outcome) == {
        3: ("RD-MISSING", "cell", "point"),
        4: ("RD-MISSING", "cell", "ts"),
        5: ("RD-MISSING", "cell", "value"),
        6: ("RD-PARSE", "value", "value"),
        7: ("RD-PARSE", "value", "value"),
        8: ("RD-TIME", "unreadable", "ts"),
        9: ("RD-POINT", "unknown", "point"),
        10: ("RD-POINT", "archived", "point"),
        11: ("RD-QUANTITY", "unknown", "quantity"),
        12: ("RD-QUANTITY", "no_profile", "point"),
        13: ("RD-QUANTITY", "mismatch", "quantity"),
        14: ("RD-MISSING", "lab", "sample_id"),
        15: ("RD-PARSE", "datetime", "analyzed_at"),
        16: ("RD-UNIT", "unknown", "unit"),
        17: ("RD-UNIT", "incompatible", "unit"),
        18: ("RD-TIME", "future", "ts"),
        19: ("RD-TIME", "too_early", "ts"),
        20: ("RD-NEGATIVE", "negative", "value"),
        21: ("RD-RANGE", "range", "value"),
        22: ("RD-DUPROW", "duprow", "ts"),
        23: ("RD-DUPROW", "duprow", "ts"),
        24: ("RD-PARSE", "cells", ""),
    }
    assert outcome.accepted_ranges == [[2, 2], [25, 25]]
    by_row = {q.row: q for q in outcome.quarantined}
    assert by_row[6].reason("en") == "'1.2.3' in column 'value' is not a finite number"
    assert by_row[13].params["configured"] == "consumption_mass"
    assert "[0, 100]" in by_row[21].reason("zh") and "101" in by_row[21].reason("zh")
    assert by_row[22].params["rows"] == [22, 23]
    assert by_row[17].params["detail"].endswith("≠ [mass]")
    assert by_row[18].params["ts"] == "2026-06-01 00:00:00+08:00"
    assert by_row[9].raw == {
        "point": "XX",
        "quantity": "",
        "ts": "2024-01-01 00:00",
        "value": "1",
        "unit": "t",
        "sample_id": "",
        "analyzed_at": "",
        "laboratory": "",
    }
    assert by_row[24].raw == {"text": "P1,,2024-01-01 02:45,1,t,,"}
    lab = outcome.accepted.filter(pa.compute.equal(outcome.accepted.column("point"), "L1")).to_pylist()[0]
    assert (lab["value"], lab["unit"], lab["orig_value"], lab["orig_unit"]) == (20.0, "GJ/t", "20", "MJ/kg")
    assert (lab["sample_id"], lab["laboratory"]) == ("S-3", "Lab")
    assert lab["analyzed_at"] == datetime(2024, 1, 3, 16, tzinfo=UTC)


def test_every_row_has_exactly_one_fate(tmp_path: Path) -> None:
    outcome = judge(
        csv(
            tmp_path, "point,ts,value\nP1,2024-01-01,1\nP1,2024-01-01,1\n\nP1,2024-01-02,x\nP1,2024-01-03,2\n"
        )
    )
    counts = outcome.counts
    assert counts == {"total": 4, "accepted": 2, "duplicate": 1, "quarantined": 1, "blank": 1}
    listed = {r for a, b in outcome.accepted_ranges for r in range(a, b + 1)}
    listed |= {r for a, b, _ in outcome.duplicates for r in range(a, b + 1)}
    listed |= {q.row for q in outcome.quarantined}
    assert sorted(listed) == [2, 3, 5, 6] and outcome.source.blank_rows == [4]
    report = outcome.report()
    assert report["duplicate"] == [{"rows": [3, 3], "row": 2}] and report["blank_rows"] == [4]
    text = ingest.render_report(report, outcome.quarantined, "en")
    assert "4 rows: 2 accepted, 1 duplicate, 1 quarantined" in text and "3: same as row 2" in text


def test_chinese_headers_and_extra_columns(tmp_path: Path) -> None:
    outcome = judge(
        csv(
            tmp_path,
            "计量点,时间,数值,单位,备注\nP1,2024-01-01 00:00,1500,千克,首班\nP1,2024-01-01 00:15,x,吨,\n",
        )
    )
    assert [(q.row, q.column, q.code) for q in outcome.quarantined] == [(3, "数值", "RD-PARSE")]
    (row,) = outcome.accepted.to_pylist()
    assert (row["value"], row["orig_value"], row["orig_unit"], row["factor"]) == (1.5, "1500", "千克", 0.001)
    assert outcome.report()["ignored_columns"] == ["备注"]
    assert outcome.quarantined[0].raw["备注"] == ""  # the cell as received


def test_a_gb18030_csv_from_chinese_excel(tmp_path: Path) -> None:
    outcome = judge(csv(tmp_path, "计量点,时间,数值\r\nP1,2024-01-01 00:00,1\r\n", encoding="gb18030"))
    assert outcome.accepted.num_rows == 1 and outcome.source.headers["point"] == "计量点"


def test_a_missing_required_column_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ingest.IngestError) as caught:
        csv(tmp_path, "计量点,数值\nP1,1\n", name="plant.csv")
    assert caught.value.message("zh") == "文件“plant.csv”缺少必填列“ts”（或“时间”）；现有列：计量点、数值"
    with pytest.raises(ingest.IngestError, match="twice"):
        csv(tmp_path, "point,计量点,ts,value\nP1,P1,2024-01-01,1\n")
    with pytest.raises(ingest.IngestError, match="unsupported"):
        ingest.read_source(Path(__file__))


def test_a_file_over_the_row_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    body = "".join(f"P1,2024-01-01 00:{i:02d},1\n" for i in range(12))
    path = tmp_path / "year.csv"
    path.write_text("point,ts,value\n" + body, encoding="utf-8")
    with pytest.raises(ingest.IngestError) as caught:
        ingest.read_source(path, max_rows=11)
    assert caught.value.variant == "too_many_rows"
    assert (
        caught.value.message("zh")
        == "文件“year.csv”约有 12 行，超过一个批次的上限 11 行：请按月拆分后分别导入"
    )
    assert ingest.read_source(path, max_rows=12).rows == 12  # at the limit: read
    table = pa.table({"point": ["P1"] * 3, "ts": ["2024-01-01 00:00"] * 3, "value": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "year.parquet")
    with pytest.raises(ingest.IngestError, match="3 rows, more than the 2 one batch may hold"):
        ingest.read_source(tmp_path / "year.parquet", max_rows=2)
    assert ingest.read_source(tmp_path / "year.parquet").rows == 3  # no limit given


def test_a_workbook_uses_the_readings_sheet_and_its_own_row_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active["A1"] = "填写说明"
    sheet = book.create_sheet("读数")
    sheet["B3"], sheet["C3"], sheet["D3"] = "计量点", "时间", "数值"
    sheet.append([None, "P1", datetime(2024, 1, 1, 0, 0), 12.5])
    sheet.append([None, "P1", "2024-01-01 00:15", 3])
    sheet.append([None, "P1", date(2024, 1, 2), "abc"])
    path = tmp_path / "plant.xlsx"
    book.save(path)
    outcome = judge(ingest.read_source(path))
    (q,) = outcome.quarantined
    assert (q.file, q.sheet, q.row, q.column, q.code) == ("plant.xlsx", "读数", 6, "数值", "RD-PARSE")
    assert outcome.accepted_ranges == [[4, 5]]
    assert [r["orig_value"] for r in outcome.accepted.to_pylist()] == ["12.5", "3"]


def test_a_workbook_without_a_readings_sheet_uses_the_first(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.active.append(["point", "ts", "value"])
    book.active.append(["P1", "2024-01-01 00:00", -1])
    book.create_sheet("other").append(["nothing"])
    path = tmp_path / "w.xlsx"
    book.save(path)
    (q,) = judge(ingest.read_source(path)).quarantined
    assert (q.sheet, q.row, q.code) == ("Sheet1", 2, "RD-NEGATIVE")


def test_parquet_keeps_its_types_and_zones(tmp_path: Path) -> None:
    table = pa.table(
        {
            "point": ["P1", "P1", "P1"],
            "ts": pa.array(
                [datetime(2024, 1, 31, 23, 45), datetime(2024, 2, 1, 0, 0), None], pa.timestamp("us")
            ),
            "value": [1.0, 2.5, 3.0],
        }
    )
    pq.write_table(table, tmp_path / "naive.parquet")
    outcome = judge(ingest.read_source(tmp_path / "naive.parquet"))
    assert [(q.row, q.code) for q in outcome.quarantined] == [(3, "RD-MISSING")]
    got = outcome.accepted.to_pylist()
    assert [r["ts"] for r in got] == [
        datetime(2024, 1, 31, 15, 45, tzinfo=UTC),
        datetime(2024, 1, 31, 16, tzinfo=UTC),
    ]
    assert [(r["y"], r["m"]) for r in got] == [(2024, 1), (2024, 2)]
    instants = [datetime(2024, 1, 31, 16, m, tzinfo=UTC) for m in (0, 15, 30)]
    aware = table.set_column(1, "ts", pa.array(instants, pa.timestamp("us", tz="UTC")))
    pq.write_table(aware, tmp_path / "aware.parquet")
    assert {r["m"] for r in judge(ingest.read_source(tmp_path / "aware.parquet")).accepted.to_pylist()} == {2}


def test_json_rows(tmp_path: Path) -> None:
    outcome = judge(
        ingest.from_rows(
            [{"point": "P2", "ts": "2024-01-01T00:00:00Z", "value": 250, "unit": "kWh"}, {"ts": 5}]
        )
    )
    (row,) = outcome.accepted.to_pylist()
    assert (row["value"], row["ts"], row["m"]) == (0.25, datetime(2024, 1, 1, tzinfo=UTC), 1)
    assert [(q.row, q.code, q.column) for q in outcome.quarantined] == [(2, "RD-MISSING", "point")]


@pytest.mark.parametrize(
    ("text", "utc", "month"),
    [
        ("2024-01-31 23:59:59", datetime(2024, 1, 31, 15, 59, 59), 1),
        ("2024-02-01 00:00", datetime(2024, 1, 31, 16, 0), 2),  # a Beijing month starts at 16:00 UTC
        ("2024-01-31T16:00:00Z", datetime(2024, 1, 31, 16, 0), 2),
        ("2024-01-31T15:59:59.999999+00:00", datetime(2024, 1, 31, 15, 59, 59, 999999), 1),
        ("2024-02-01T00:00:00+08:00", datetime(2024, 1, 31, 16, 0), 2),
        ("2023-12-31 23:30", datetime(2023, 12, 31, 15, 30), 12),
        ("2024-01-01 00:00", datetime(2023, 12, 31, 16, 0), 1),
        ("2024/3/1 0:00", datetime(2024, 2, 29, 16, 0), 3),
        ("1988-07-01 12:00", datetime(1988, 7, 1, 3, 0), 7),  # summer time in China, 1986–1991: UTC+9
    ],
)
def test_times_at_month_boundaries(text: str, utc: datetime, month: int) -> None:
    # Alone (the time-zone library) and among rows in the file's usual format (the fast path).
    for pad in (0, 50):
        cells = [
            {"point": "P1", "ts": (datetime(2020, 1, 1) + timedelta(hours=i)).isoformat(sep=" "), "value": 1}
            for i in range(pad)
        ]
        outcome = judge(ingest.from_rows([*cells, {"point": "P1", "ts": text, "value": 1}]))
        row = outcome.accepted.to_pylist()[-1]
        assert row["ts"] == utc.replace(tzinfo=UTC) and row["m"] == month, (text, pad)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2025, 12, 31)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S"]),
)
def test_local_times_become_utc_as_zoneinfo_says(local: list[datetime], fmt: str) -> None:
    def exists(t: datetime) -> bool:  # skip the hours that summer time skipped or repeated (1986–1991)
        there = t.replace(tzinfo=SHANGHAI)
        return (
            there.astimezone(UTC).astimezone(SHANGHAI).replace(tzinfo=None) == t
            and there.fold == 0
            and (t.replace(fold=1, tzinfo=SHANGHAI).utcoffset() == there.utcoffset())
        )

    times = sorted(
        {t.replace(microsecond=0, second=0 if "%S" not in fmt else t.second) for t in local if exists(t)}
    )
    if not times:
        return
    cells = [{"point": "P1", "ts": t.strftime(fmt), "value": 1} for t in times]
    got = judge(ingest.from_rows(cells)).accepted.to_pylist()
    assert [r["ts"] for r in got] == [t.replace(tzinfo=SHANGHAI).astimezone(UTC) for t in times]
    assert [(r["y"], r["m"]) for r in got] == [(t.year, t.month) for t in times]


def test_stored_rows_are_duplicates_and_different_values_conflicts(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    add_batch(lake, rows("P1", "2024-01-01 00:00", [1, 2, 3]), seq=1)
    outcome = judge(ingest.from_rows(rows("P1", "2024-01-01 00:00", [1, 2, 5, 4])), lake)
    assert outcome.duplicates == [(1, 2, 1)]
    assert fates(outcome) == {3: ("RD-CONFLICT", "stored", "value")}
    (q,) = outcome.quarantined
    assert (q.params["stored"], q.params["batch"]) == (3.0, 1)
    assert q.reason("en").startswith("3 t is already stored (batch #1), not 5")
    assert outcome.accepted_ranges == [[4, 4]]


def test_a_correction_supersedes_its_family_only(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = add_batch(lake, rows("P1", "2024-01-01 00:00", [1, 2]), seq=1)
    add_batch(lake, rows("P2", "2024-01-01 00:00", [1]), seq=2, prev=first.chain_hash)
    changed = [*rows("P1", "2024-01-01 00:00", [1, 7]), *rows("P2", "2024-01-01 00:00", [9])]
    outcome = judge(ingest.from_rows(changed), lake, correction=ingest.Correction(1, frozenset({1})))
    assert outcome.superseded == 1 and outcome.accepted_ranges == [[2, 2]]
    assert outcome.duplicates == [(1, 1, 1)]
    assert fates(outcome) == {3: ("RD-CONFLICT", "outside_correction", "value")}
    assert outcome.quarantined[0].params["corrects"] == 1


def test_content_already_held_names_its_batch(tmp_path: Path) -> None:
    cells = rows("P1", "2024-01-01 00:00", [1, 2, 3])
    first = judge(ingest.from_rows(cells))
    again = judge(ingest.from_rows(cells), held_by={first.content_hash: 4}.get)
    assert again.held_by == 4 and again.accepted.num_rows == 0 and again.duplicates == [(1, 3, 4)]
    assert again.report()["held_by"] == 4


def test_duplicate_keys_are_found_in_any_order(tmp_path: Path) -> None:
    cells = [
        {"point": p, "ts": f"2024-01-01 {h:02d}:00", "value": h} for p in ("P1", "P2") for h in range(24)
    ]
    cells.append({"point": "P2", "ts": "2024-01-01 05:00", "value": 99})
    random.Random(7).shuffle(cells)
    clash = [i + 1 for i, c in enumerate(cells) if (c["point"], c["ts"]) == ("P2", "2024-01-01 05:00")]
    outcome = judge(ingest.from_rows(cells))
    assert [(q.row, q.code, q.params["rows"]) for q in outcome.quarantined] == [
        (row, "RD-DUPROW", clash) for row in clash
    ]
    assert outcome.accepted.num_rows == 47


values = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["P1", "P2"]), st.integers(0, 10_000), values),
        max_size=40,
        unique_by=lambda r: r[:2],
    )
)
def test_the_content_hash_is_the_definition_over_accepted_rows(cells: list[tuple[str, int, float]]) -> None:
    start = datetime(2024, 1, 1)
    source = [
        {"point": p, "ts": (start + timedelta(minutes=15 * m)).isoformat(sep=" "), "value": repr(v)}
        for p, m, v in cells
    ]
    if not source:
        return
    outcome = judge(ingest.from_rows(source))
    unit = {"P1": "t", "P2": "MWh"}
    expected = content_hash(
        canonical_line(
            p,
            "consumption_mass" if p == "P1" else "electricity",
            (start + timedelta(minutes=15 * m)).replace(tzinfo=SHANGHAI),
            v,
            unit[p],
        )
        for p, m, v in cells
    )
    assert outcome.content_hash == expected


def test_ten_thousand_rows_need_no_python_per_row(tmp_path: Path) -> None:
    n = 20_000
    ts = np.datetime64("2024-01-01T00:00") + np.arange(n) * np.timedelta64(15, "m")
    table = pa.table(
        {"point": ["P1"] * n, "ts": pa.array(ts.astype("datetime64[us]")), "value": np.linspace(0, 99, n)}
    )
    pq.write_table(table, tmp_path / "big.parquet")
    outcome = judge(ingest.read_source(tmp_path / "big.parquet"))
    assert outcome.accepted.num_rows == n - len(outcome.quarantined)
    assert {q.code for q in outcome.quarantined} <= {"RD-TIME"}  # rows after NOW (2026) are refused


# --- issue 9: nothing lost, no tracebacks --------------------------------------------------------------


def test_a_negative_year_is_quarantined_and_the_good_rows_are_kept(tmp_path: Path) -> None:
    """A year before 1 once crashed the run (OverflowError) and lost the 21 good rows beside it."""
    good = "".join(f"P1,2024-01-01 00:{i:02d},1\n" for i in range(21))
    out = judge(csv(tmp_path, "point,ts,value\n" + good + "P1,-0001-01-01 00:00,1\nP1,0000-06-01 00:00,1\n"))
    assert out.counts["accepted"] == 21
    assert fates(out) == {23: ("RD-TIME", "too_early", "ts"), 24: ("RD-TIME", "too_early", "ts")}
    assert out.quarantined[0].reason("en") == (
        "time -0001-01-01 00:00 is before 1900-01-01, which no metering datum can be"
    )


@pytest.mark.parametrize(
    ("cell", "variant"),
    [
        ("2024-01-01 00:00+99:00", "offset"),
        ("2024-01-01 00:00+24:00", "offset"),
        ("2024-01-01 00:00-23:59", "offset"),
        ("2024-01-01 00:00+14:01", "offset"),
        ("2024-01-01 00:00+05:75", "offset"),
        ("2024-01-01 00:00 CST", "zone"),
        ("2024-01-01 00:00 EST", "zone"),
        ("2024-01-01T00:00:00 PRC", "zone"),
    ],
)
def test_impossible_offsets_and_ambiguous_zones_are_quarantined(
    tmp_path: Path, cell: str, variant: str
) -> None:
    out = judge(csv(tmp_path, f"point,ts,value\nP1,2024-01-01 01:00,1\nP1,{cell},1\n"))
    assert out.counts["accepted"] == 1
    assert fates(out) == {3: ("RD-TIME", variant, "ts")}
    assert cell in out.quarantined[0].reason("zh") and cell in out.quarantined[0].reason("en")


@pytest.mark.parametrize(
    ("cell", "utc"),
    [
        ("2024-01-01 08:00+08:00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01 08:00+0800", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01 14:00+14:00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2023-12-31 12:00-12:00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01 00:00 UTC", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01 08:00 Asia/Shanghai", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01 08:00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_real_offsets_and_named_zones_are_read(tmp_path: Path, cell: str, utc: datetime) -> None:
    out = judge(csv(tmp_path, f"point,ts,value\nP1,{cell},1\n"))
    assert out.quarantined == [] and out.accepted.column("ts").to_pylist() == [utc]


def test_rows_without_any_value_are_quarantined_not_a_crash() -> None:
    """A batch in which no row has a ``value`` once raised KeyError in the pipeline (HTTP 500, a dead MQTT
    subscriber): every row is quarantined with its reason."""
    rows = [{"point": "P1", "ts": "2024-01-01 00:00"}, {"point": "P1", "ts": "2024-01-01 01:00", "unit": "t"}]
    out = judge(ingest.from_rows(rows))
    assert fates(out) == {1: ("RD-MISSING", "cell", "value"), 2: ("RD-MISSING", "cell", "value")}
    assert judge(ingest.from_rows([{"unit": "t"}])).counts["quarantined"] == 1


def write(tmp_path: Path, data: bytes, name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_the_row_limit_counts_records_not_newline_bytes(tmp_path: Path) -> None:
    """CR-only line breaks once bypassed the limit (one "line"), quoted line breaks over-counted."""
    rows = b"".join(b"P1,2024-01-01 00:%02d,1\r" % i for i in range(12))
    path = write(tmp_path, b"point,ts,value\r" + rows)
    with pytest.raises(ingest.IngestError) as caught:
        ingest.read_source(path, max_rows=11)
    assert caught.value.variant == "too_many_rows" and caught.value.params["rows"] == "12"
    assert ingest.read_source(path, max_rows=12).rows == 12
    noted = b"".join(b'P1,2024-01-01 00:%02d,1,"a note\nover\r\nthree lines"\n' % i for i in range(5))
    quoted = write(tmp_path, b"point,ts,value,note\n" + noted, "quoted.csv")
    assert ingest.read_source(quoted, max_rows=5).rows == 5  # 5 records, 15 line breaks


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cells=st.lists(
        st.lists(st.text(alphabet='ab,"\r\n', max_size=6), min_size=1, max_size=3), min_size=0, max_size=8
    ),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    chunk=st.integers(1, 64),
)
def test_record_counting_agrees_with_the_csv_reader(
    cells: list[list[str]], terminator: str, chunk: int
) -> None:
    """Records as Python's csv module reads them, whatever the chunk size splits."""
    import csv as pycsv
    import io
    import tempfile

    from carbonmeter.readings import csvtext

    buffer = io.StringIO()
    pycsv.writer(buffer, lineterminator=terminator).writerows([["h"], *cells])
    text = buffer.getvalue()
    expected = sum(1 for _ in pycsv.reader(io.StringIO(text, newline="")))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        path.write_bytes(text.encode())
        old, csvtext.CHUNK = csvtext.CHUNK, chunk
        try:
            assert csvtext.count_records(path, csvtext.UTF8) == expected
            assert csvtext.at_most_records(path, csvtext.UTF8) >= expected
        finally:
            csvtext.CHUNK = old


@pytest.mark.parametrize("where", [100, 3 << 20])  # in the first MiB, and past it
def test_an_undecodable_byte_quarantines_its_row_only(tmp_path: Path, where: int) -> None:
    """One bad byte once refused the whole file, located by byte offset (by chunk past 1 MiB)."""
    line = b"P1,2024-01-01 00:00,1\n"
    before = where // len(line)
    bad = b"P1,2024-01-01 00:01,\xff2\n"
    path = write(tmp_path, b"point,ts,value\n" + line * before + bad + b"P1,2024-01-01 00:02,3\n")
    source = ingest.read_source(path)
    out = judge(source)
    row = before + 2  # the header is row 1, then ``before`` good rows
    assert fates(out) == {row: ("RD-PARSE", "encoding", "")}
    [q] = out.quarantined
    assert q.raw["text"] == "P1,2024-01-01 00:01,\\xff2"
    assert base64.b64decode(q.raw["bytes_base64"]) == bad  # the original bytes, exactly
    assert "\\xff" in q.reason("zh") and "UTF-8" in q.reason("en")
    assert out.counts["total"] == before + 2 and out.counts["quarantined"] == 1


def test_a_bad_byte_in_a_gb18030_file_and_in_a_quoted_cell(tmp_path: Path) -> None:
    chinese = "计量点,时间,数值,备注\nP1,2024-01-01 00:00,1,煤\n".encode("gb18030")
    path = write(tmp_path, chinese + b'P1,2024-01-01 00:01,2,"two\n\xfflines"\nP1,2024-01-01 00:02,3,x\n')
    out = judge(ingest.read_source(path))
    assert fates(out) == {3: ("RD-PARSE", "encoding", "")}
    assert out.counts["accepted"] == 2 and "GB18030" in out.quarantined[0].reason("en")


def test_a_header_that_does_not_decode_is_a_located_file_error(tmp_path: Path) -> None:
    with pytest.raises(ingest.IngestError, match=r"row 1 \(the header\) is not UTF-8 text: poi\\xffnt"):
        ingest.read_source(write(tmp_path, b"poi\xffnt,ts,value\nP1,2024-01-01 00:00,1\n"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-8-sig"])
def test_utf16_and_utf8_with_a_bom_are_read(tmp_path: Path, encoding: str) -> None:
    text = "计量点,时间,数值\nP1,2024-01-01 00:00,1\r\nP1,2024-01-01 00:01,2\n"
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    path = write(tmp_path, data)
    out = judge(ingest.read_source(path, max_rows=2))
    assert out.quarantined == [] and out.counts["accepted"] == 2
    assert out.source.headers["point"] == "计量点"
    with pytest.raises(ingest.IngestError, match=r"more than"):
        ingest.read_source(path, max_rows=1)


def test_a_bad_byte_in_a_utf16_file_quarantines_its_row(tmp_path: Path) -> None:
    data = "point,ts,value\nP1,2024-01-01 00:00,1\n".encode("utf-16")
    data += b"\x00\xd8P\x001\x00\n\x00"  # a lone high surrogate, then "P1\n"
    out = judge(ingest.read_source(write(tmp_path, data)))
    assert fates(out) == {3: ("RD-PARSE", "encoding", "")}
    assert out.counts["accepted"] == 1
