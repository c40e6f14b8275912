"""Day sums beside the lake's data files (``carbonmeter.readings.sums``): their definition against a naive
group-by, how the writer publishes them with the batch, recovery rebuilding missing ones, ``ledger verify``
catching a missing, altered or orphaned one, and the aggregation reading them (and reading rows instead
when they are incomplete)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings import aggregate as ag
from carbonmeter.readings import ingest, sums
from carbonmeter.readings import lake as lake_mod
from carbonmeter.readings.engines import SUMS_TABLE, duckdb_backend, sums_usable
from carbonmeter.readings.ledger import verify
from tests.readings.test_lake import NOW, ORG, PLAN, add_batch, rows

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)  # 20:00 local: the local day ends 4 hours later


@st.composite
def files(draw: st.DrawFn) -> pa.Table:
    """Rows of one data file: a few points and quantities, times around a local midnight, eighths."""
    n = draw(st.integers(1, 40))
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(("P1", "P2")),
                st.sampled_from(("electricity", "production")),
                st.integers(0, 96),
            ),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    values = draw(st.lists(st.integers(0, 800).map(lambda i: i / 8), min_size=n, max_size=n))
    batch = draw(st.integers(1, 9))
    return pa.table(
        {
            "point": [k[0] for k in keys],
            "quantity": [k[1] for k in keys],
            "ts": pa.array([T0 + timedelta(minutes=15 * k[2]) for k in keys], pa.timestamp("us", tz="UTC")),
            "value": values,
            "batch": [batch] * n,
        }
    )


@settings(max_examples=60, deadline=None)
@given(table=files())
def test_summarize_equals_a_naive_group_by_on_shanghai_days(table: pa.Table) -> None:
    expected: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: {"total": 0.0, "n": 0, "ts": []})
    for r in table.to_pylist():
        key = (r["point"], r["quantity"], r["ts"].astimezone(SH).date(), r["batch"])
        expected[key]["total"] += r["value"]
        expected[key]["n"] += 1
        expected[key]["ts"].append(r["ts"])
    got = sums.summarize(table)
    assert got.schema == sums.FILE_SCHEMA
    found = {(r["point"], r["quantity"], r["day"], r["batch"]): r for r in got.to_pylist()}
    assert found.keys() == expected.keys()
    for key, e in expected.items():
        r = found[key]
        assert (r["total"], r["n"], r["t0"], r["t1"]) == (e["total"], e["n"], min(e["ts"]), max(e["ts"]))
    assert got.equals(sums.summarize(table))  # deterministic, bit for bit


def test_the_writer_publishes_sums_with_every_data_file(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record = add_batch(lake, rows("P1", "2024-01-31 23:30", [1.5, 2.0, 3.25, 4.0]), seq=1, publish=False)
    staged = [p for p in (lake / lake_mod.STAGING).rglob("*.parquet")]
    assert len(staged) == 2 * len(record.files)  # data + sums, both staged, neither visible
    assert sums.files(lake) == [] and lake_mod.data_files(lake) == []
    lake_mod.recover(lake, lambda asked: set(asked))
    paths = [f.path for f in record.files]
    assert sums.files(lake) == lake_mod.data_files(lake) == paths
    jan, feb = (pq.read_table(lake / sums.sums_path(p), partitioning=None).to_pylist() for p in paths)
    assert [(r["day"], r["total"], r["n"]) for r in jan] == [(date(2024, 1, 31), 3.5, 2)]
    assert [(r["day"], r["total"], r["n"]) for r in feb] == [(date(2024, 2, 1), 7.25, 2)]
    assert verify(lake, [record]).ok


def test_a_crash_between_sums_and_data_leaves_sums_recovery_completes(tmp_path: Path) -> None:
    """The sums move first; a crash before the data file follows leaves sums whose batch is committed:
    recovery moves the data file, and until then readers do not trust the sums (not complete)."""
    lake = tmp_path / "lake"
    outcome = ingest.validate(
        ingest.from_rows(rows("P1", "2024-02-01 00:00", [1.0, 2.0])), PLAN, lake=lake, now=NOW
    )
    staged = lake_mod.stage(lake, ORG, 1, outcome.accepted)
    (rel,) = [f.path for f in staged.files]
    (lake / sums.sums_path(rel)).parent.mkdir(parents=True)
    shutil.move(staged.dir / sums.sums_path(rel), lake / sums.sums_path(rel))
    assert sums.files(lake) == [rel] and lake_mod.data_files(lake) == []
    assert not sums_usable(lake)
    lake_mod.recover(lake, lambda asked: set(asked))
    assert lake_mod.data_files(lake) == [rel] and sums_usable(lake)


def test_recovery_builds_missing_sums(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    record = add_batch(lake, rows("P1", "2024-01-31 23:30", [1.0, 2.0, 3.0]), seq=1)
    first = lake / sums.sums_path(record.files[0].path)
    before = first.read_bytes()
    first.unlink()
    assert not sums_usable(lake)
    done = lake_mod.recover(lake, lambda asked: set())
    assert done.sums_built == [record.files[0].path]
    assert pq.read_table(first, partitioning=None).equals(
        pq.read_table(pa.BufferReader(before), partitioning=None)
    )
    assert sums_usable(lake) and lake_mod.recover(lake, lambda asked: set()).sums_built == []


def test_verify_names_missing_altered_and_orphaned_sums(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    one = add_batch(lake, rows("P1", "2024-01-31 23:30", [1.0, 2.0, 3.0]), seq=1)
    two = add_batch(lake, rows("P1", "2024-03-01 00:00", [4.0]), seq=2, prev=one.chain_hash)
    three = add_batch(lake, rows("P2", "2024-03-02 00:00", [5.0]), seq=3, prev=two.chain_hash)
    (lake / sums.sums_path(one.files[0].path)).unlink()
    altered = lake / sums.sums_path(two.files[0].path)
    table = pq.read_table(altered, partitioning=None)
    sums.write(altered, table.set_column(6, "total", pa.array([40.0])))
    orphan = f"org={ORG}/y=2024/m=04/b00000009-0.parquet"
    sums.write(lake / sums.sums_path(orphan), table)
    found = {(p.seq, p.kind, p.path) for p in verify(lake, [one, two, three]).problems}
    assert found == {
        (1, "sums_missing", sums.sums_path(one.files[0].path)),
        (2, "sums_altered", sums.sums_path(two.files[0].path)),
        (9, "sums_unnamed", sums.sums_path(orphan)),
    }


def _totals(lake: Path, **kw: Any) -> dict[tuple[str, date], float]:
    out = ag.to_arrow(ag.totals(duckdb_backend(lake), period="month", **kw)).to_pylist()
    return {(r["point"], r["period_start"]): r["total"] for r in out}


def test_totals_come_from_the_sums_and_from_rows_when_they_are_incomplete(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    one = add_batch(lake, rows("P1", "2024-03-01 00:00", [1.0, 2.0, 3.0]), seq=1)
    add_batch(lake, rows("P1", "2024-04-01 00:00", [4.0]), seq=2, prev=one.chain_hash)
    truth = {("P1", date(2024, 3, 1)): 6.0, ("P1", date(2024, 4, 1)): 4.0}
    assert duckdb_backend(lake).table(SUMS_TABLE) is not None
    assert _totals(lake) == _totals(lake, use_sums=False) == truth
    # the sums are what is read: a doctored sums file shows (and ledger verify names it, above)
    march = lake / sums.sums_path(one.files[0].path)
    table = pq.read_table(march, partitioning=None)
    sums.write(march, table.set_column(6, "total", pa.array([60.0])))
    assert _totals(lake)[("P1", date(2024, 3, 1))] == 60.0
    assert _totals(lake, use_sums=False) == truth
    # without a complete set of sums the table is not registered and every row is read
    march.unlink()
    assert not sums_usable(lake)
    assert _totals(lake) == truth


def test_a_correction_reads_only_the_overlapping_days_rows(tmp_path: Path) -> None:
    """A correction of one day: that day's sums of both batches are replaced by the rows (latest wins);
    every other day comes from the sums."""
    lake = tmp_path / "lake"
    day1 = rows("P1", "2024-03-01 00:00", [1.0] * 96)
    day2 = rows("P1", "2024-03-02 00:00", [2.0] * 96)
    one = add_batch(lake, day1 + day2, seq=1)
    fix = ingest.Correction(1, frozenset({1}))
    add_batch(lake, rows("P1", "2024-03-02 06:00", [5.0, 5.0]), seq=2, prev=one.chain_hash, correction=fix)
    expected = 96 * 1.0 + 94 * 2.0 + 2 * 5.0
    assert _totals(lake) == _totals(lake, use_sums=False) == {("P1", date(2024, 3, 1)): expected}
    daily = {date(2024, 3, 1): (96.0, 96), date(2024, 3, 2): (94 * 2.0 + 10.0, 96)}
    assert _days(lake) == _days(lake, use_sums=False) == daily
    # batch 1's first day overlaps nothing, so it is read from its sums: rewriting its rows in the data
    # file (behind the ledger's back) changes the row path only; the corrected day is read from rows
    path = lake / one.files[0].path
    table = pq.read_table(path, partitioning=None)
    bumped = [v + 100.0 if i < 96 else v for i, v in enumerate(table.column("value").to_pylist())]
    pq.write_table(table.set_column(table.schema.get_field_index("value"), "value", pa.array(bumped)), path)
    assert _days(lake) == daily
    assert _days(lake, use_sums=False)[date(2024, 3, 1)] == (96 * 101.0, 96)


def _days(lake: Path, **kw: Any) -> dict[date, tuple[float, int]]:
    out = ag.to_arrow(ag.totals(duckdb_backend(lake), period="day", **kw)).to_pylist()
    return {r["period_start"]: (r["total"], r["n"]) for r in out}


def test_a_batch_newer_than_the_snapshot_is_left_out_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest batch in the sums when the expression is built bounds what it reads."""
    lake = tmp_path / "lake"
    one = add_batch(lake, rows("P1", "2024-03-01 00:00", [1.0, 2.0]), seq=1)
    expr = ag.totals(duckdb_backend(lake), period="month")
    add_batch(lake, rows("P1", "2024-03-05 00:00", [7.0]), seq=2, prev=one.chain_hash)
    assert ag.to_arrow(expr).column("total").to_pylist() == [3.0]
    assert _totals(lake) == {("P1", date(2024, 3, 1)): 10.0}


@settings(max_examples=200, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.sampled_from(("A", "B")), st.integers(0, 20), st.integers(0, 6)), min_size=0, max_size=12
    )
)
def test_file_level_overlap_flags_exactly_the_overlapping_files(spans: list[tuple[str, int, int]]) -> None:
    """The planner's file-level screen (``aggregate._overlapping``) against the pairwise definition: two
    files of one organization overlap when neither ends before the other starts."""
    files = [
        {
            "org": org,
            "batch": i + 1,
            "t0": T0 + timedelta(hours=start),
            "t1": T0 + timedelta(hours=start + length),
        }
        for i, (org, start, length) in enumerate(spans)
    ]
    expected = {
        f["batch"]
        for f in files
        for g in files
        if f is not g and f["org"] == g["org"] and f["t0"] <= g["t1"] and g["t0"] <= f["t1"]
    }
    assert ag._overlapping(files) == sorted(expected)


def test_the_snapshot_bounds_the_totalizer_rows_too(tmp_path: Path) -> None:
    """Totalizers are read row by row from the partitions the sums name, and no batch newer than the
    snapshot: a register reading published after the expression was built does not add a delta to it."""
    from tests.readings.test_aggregate import ORG_A, Row, local, write_lake

    first = [
        Row(ORG_A, "R1", "register_energy", local("2026-03-01 00:00"), 100.0, 1),
        Row(ORG_A, "R1", "register_energy", local("2026-03-01 01:00"), 110.0, 1),
        Row(ORG_A, "E1", "electricity", local("2026-03-01 00:00"), 2.0, 1),
    ]
    root = write_lake(tmp_path / "lake", first)
    expr = ag.totals(duckdb_backend(root), period="month")
    write_lake(root, [Row(ORG_A, "R1", "register_energy", local("2026-03-01 02:00"), 125.0, 2)])
    got = {r["point"]: r["total"] for r in ag.to_arrow(expr).to_pylist()}
    assert got == {"R1": 10.0, "E1": 2.0}
    now = {
        r["point"]: r["total"]
        for r in ag.to_arrow(ag.totals(duckdb_backend(root), period="month")).to_pylist()
    }
    assert now == {"R1": 25.0, "E1": 2.0}
