"""Ledger totals (``carbonmeter.readings.aggregate``) on DuckDB, against a naive pure-Python reference.

The lakes are written here with pyarrow in the contract's layout (``org=/y=/m=/b<batch>-0.parquet``), so the
tests exercise the real read path. The reference below is deliberately naive: a dict keyed by (point, ts)
for "latest batch wins", ``zoneinfo`` (not the +8 h arithmetic under test) for local periods, and a plain
loop over consecutive readings for totalizers. Values are multiples of 1/8, so every sum is exact in
float64 whatever order an engine adds in, and results are compared for equality, not closeness.
``test_portability.py`` imports the helpers to run the same checks on PySpark.
"""

from __future__ import annotations

import calendar
import itertools
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import aggregate as ag
from carbonmeter.readings import sums
from carbonmeter.readings.engines import READINGS_SCHEMA, SUMS_TABLE, duckdb_backend

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # inside ibis 12

SH = ZoneInfo("Asia/Shanghai")
ORG_A = "91500000MA0000001X"
ORG_B = "915000000000000002"  # all digits: must stay a string when read back from the partition path
FILE_SCHEMA = pa.schema([f for f in READINGS_SCHEMA if f.name not in ("org", "y", "m")])

Key = tuple[str, str, str, date]


@dataclass(frozen=True)
class Row:
    """One stored reading; ``part`` overrides the (y, m) partition it is filed in (to simulate misfiling)."""

    org: str
    point: str
    quantity: str
    ts: datetime
    value: float
    batch: int
    part: tuple[int, int] | None = None


@dataclass
class Lake:
    """A test lake's content: readings plus the side tables the aggregation takes."""

    rows: list[Row]
    profiles: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    validity: list[dict[str, Any]] | None = None
    streams: list[dict[str, Any]] = field(default_factory=list)


def local(text: str) -> datetime:
    """A UTC instant from an Asia/Shanghai wall time, e.g. ``local("2026-02-01 00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(UTC)


def write_lake(root: Path, rows: Iterable[Row], *, with_sums: bool = True) -> Path:
    """Write ``rows`` as the lake writer does: one file per (org, batch, local month partition), each with
    its day sums (``with_sums=False``: a lake from before the sums, read row by row)."""
    files: dict[tuple[str, int, int, int], list[Row]] = defaultdict(list)
    for r in rows:
        lt = r.ts.astimezone(SH)
        y, m = r.part or (lt.year, lt.month)
        files[(r.org, r.batch, y, m)].append(r)
    for (org, batch, y, m), part in files.items():
        folder = root / f"org={org}" / f"y={y:04d}" / f"m={m:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        n = len(part)
        table = pa.table(
            {
                "point": [r.point for r in part],
                "quantity": [r.quantity for r in part],
                "ts": [r.ts for r in part],
                "value": [r.value for r in part],
                "unit": ["t"] * n,
                "orig_value": [repr(r.value) for r in part],
                "orig_unit": ["t"] * n,
                "factor": [1.0] * n,
                "offset": [0.0] * n,
                "sample_id": [None] * n,
                "analyzed_at": [None] * n,
                "laboratory": [None] * n,
                "batch": [batch] * n,
                "row": list(range(2, n + 2)),
            },
            schema=FILE_SCHEMA,
        )
        pq.write_table(table, folder / f"b{batch:08d}-0.parquet", compression="zstd")
        if with_sums:
            sums.build(root, (folder / f"b{batch:08d}-0.parquet").relative_to(root).as_posix())
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def lake_dir(rows: Iterable[Row], *, with_sums: bool = True) -> Iterator[Path]:
    """A temporary lake (hypothesis examples cannot use ``tmp_path``, which is per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="cm-lake-") as tmp:
        yield write_lake(Path(tmp) / "lake", rows, with_sums=with_sums)


# ----------------------------------------------------------------------------------------------------------
# the naive reference


def _floor(period: str, d: date) -> date:
    return d if period == "day" else d.replace(day=1) if period == "month" else d.replace(month=1, day=1)


def _next(period: str, d: date) -> date:
    if period == "day":
        return d + timedelta(days=1)
    if period == "month":
        return (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return d.replace(year=d.year + 1)


def _days(period: str, d: date) -> int:
    if period == "day":
        return 1
    if period == "month":
        return calendar.monthrange(d.year, d.month)[1]
    return 366 if calendar.isleap(d.year) else 365


def reference(
    lake: Lake,
    *,
    period: str,
    org: str | None = None,
    points: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    with_profiles: bool = True,
    with_events: bool = True,
    with_validity: bool = False,
) -> dict[Key, dict[str, Any]]:
    """Totals computed the obvious way, one reading at a time."""
    rows = [r for r in lake.rows if (org is None or r.org == org) and (points is None or r.point in points)]
    latest: dict[tuple[str, str, str, datetime], Row] = {}
    for r in rows:
        k = (r.org, r.point, r.quantity, r.ts)
        if k not in latest or r.batch > latest[k].batch:
            latest[k] = r
    profiles = {(p["org"], p["point"]): p for p in lake.profiles} if with_profiles else {}
    windows = lake.validity or []

    def period_of(ts: datetime) -> date:
        return _floor(period, ts.astimezone(SH).date())

    def unverified(r: Row) -> bool:
        return not any(
            w["org"] == r.org
            and w["point"] == r.point
            and w["valid_from"] <= r.ts
            and (w["valid_to"] is None or r.ts < w["valid_to"])
            for w in windows
        )

    out: dict[Key, dict[str, Any]] = defaultdict(
        lambda: {"total": 0.0, "n": 0, "decreases": 0, "total_unverified": 0.0, "n_unverified": 0}
    )
    series: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for r in latest.values():
        if r.quantity in ag.INTERVAL_QUANTITIES:
            acc = out[(r.org, r.point, r.quantity, period_of(r.ts))]
            acc["total"] += r.value
            acc["n"] += 1
            if unverified(r):
                acc["total_unverified"] += r.value
                acc["n_unverified"] += 1
        elif r.quantity in ag.TOTALIZER_QUANTITIES:
            series[(r.org, r.point, r.quantity)].append(r)
    for (o, p, q), readings in series.items():
        readings.sort(key=lambda r: r.ts)
        modulus = profiles.get((o, p), {}).get("counter_modulus")
        for prev, cur in itertools.pairwise(readings):
            adj = 0.0
            for e in lake.events if with_events else []:
                same = (e["org"], e["point"], e["quantity"]) == (o, p, q)
                if same and prev.ts < e["ts"] <= cur.ts and e["old_end"] is not None:
                    adj += e["old_end"] - (e["new_start"] or 0.0)
            raw = cur.value - prev.value + adj
            acc = out[(o, p, q, period_of(prev.ts))]
            if raw >= 0:
                delta = raw
            elif modulus is not None:
                delta = raw + modulus
            else:
                acc["decreases"] += 1
                continue
            acc["total"] += delta
            acc["n"] += 1
            if unverified(prev) or unverified(cur):
                acc["total_unverified"] += delta
                acc["n_unverified"] += 1
    lo = None if start is None else _floor(period, start)
    hi = None if end is None else _next(period, _floor(period, end - timedelta(days=1)))
    result = {}
    for key, acc in out.items():
        if (lo is not None and key[3] < lo) or (hi is not None and key[3] >= hi):
            continue
        interval = profiles.get((key[0], key[1]), {}).get("expected_interval")
        expected = _days(period, key[3]) * 86_400 // interval if interval else None
        acc["expected"] = expected
        acc["availability"] = acc["n"] / expected if expected else None
        if not with_validity:
            del acc["total_unverified"], acc["n_unverified"]
        result[key] = acc
    return result


def as_dict(table: pa.Table) -> dict[Key, dict[str, Any]]:
    """An aggregation result keyed like the reference."""
    out = {}
    for row in table.to_pylist():
        key = (row.pop("org"), row.pop("point"), row.pop("quantity"), row.pop("period_start"))
        out[key] = row
    return out


def run_totals(con: Any, lake: Lake, *, with_validity: bool = False, **kw: Any) -> pa.Table:
    """``aggregate.totals`` with the lake's side tables, executed and sorted."""
    return ag.to_arrow(
        ag.totals(
            con,
            profiles=lake.profiles,
            events=lake.events,
            validity=lake.validity if with_validity else None,
            **kw,
        )
    )


# ----------------------------------------------------------------------------------------------------------
# a hand-made lake: month boundary, gap, correction, rollover, replacement, decrease


def scenario() -> Lake:
    """Readings across the 2026-01/02 local month boundary. Expected figures are in the tests."""
    rows: list[Row] = []
    # E1 electricity every 15 min, 22:00 Jan 31 to 01:45 Feb 1 local, gap at 23:00 and 23:15
    t = local("2026-01-31 22:00")
    for _ in range(16):
        if t not in (local("2026-01-31 23:00"), local("2026-01-31 23:15")):
            rows.append(Row(ORG_A, "E1", "electricity", t, 0.5, 1))
        t += timedelta(minutes=15)
    rows.append(Row(ORG_A, "E1", "electricity", local("2026-01-31 23:45"), 2.5, 3))  # corrections
    rows.append(Row(ORG_A, "E1", "electricity", local("2026-02-01 00:00"), 4.0, 3))
    rows.append(Row(ORG_A, "E2", "electricity", local("2026-01-31 22:00"), 0.25, 2))
    # R1 totalizer, modulus 10000: 9990 → 9996 → 6 (rollover: +10) → 12
    for text, v in (
        ("2026-01-31 23:00", 9990),
        ("2026-01-31 23:30", 9996),
        ("2026-02-01 00:00", 6),
        ("2026-02-01 00:30", 12),
    ):
        rows.append(Row(ORG_A, "R1", "register_electricity", local(text), float(v), 1))
    # R2 totalizer, meter replaced at 00:10 (old_end 115, new_start 0)
    for text, v in (
        ("2026-01-31 23:40", 100),
        ("2026-01-31 23:50", 110),
        ("2026-02-01 00:20", 3),
        ("2026-02-01 00:30", 8),
    ):
        rows.append(Row(ORG_A, "R2", "register_mass", local(text), float(v), 1))
    # R3 totalizer without modulus or event: 50 → 60 → 55 (a decrease) → 65
    for text, v in (
        ("2026-02-03 08:00", 50),
        ("2026-02-03 09:00", 60),
        ("2026-02-03 10:00", 55),
        ("2026-02-03 11:00", 65),
    ):
        rows.append(Row(ORG_A, "R3", "register_volume", local(text), float(v), 2))
    # CEMS concentration: not an amount, never totalled
    rows.append(Row(ORG_A, "C1", "co2_concentration", local("2026-01-31 22:00"), 11.0, 1))
    # org B, a production point either side of midnight local (= 16:00 UTC)
    rows.append(Row(ORG_B, "E1", "production", datetime(2026, 1, 31, 15, 45, tzinfo=UTC), 2.0, 4))
    rows.append(Row(ORG_B, "E1", "production", datetime(2026, 1, 31, 16, 0, tzinfo=UTC), 1.0, 4))
    return Lake(
        rows=rows,
        profiles=[
            {"org": ORG_A, "point": "E1", "expected_interval": 900, "counter_modulus": None},
            {"org": ORG_A, "point": "R1", "expected_interval": 1800, "counter_modulus": 10000.0},
            {"org": ORG_A, "point": "R3", "expected_interval": 3600, "counter_modulus": None},
        ],
        events=[
            {
                "org": ORG_A,
                "point": "R2",
                "quantity": "register_mass",
                "ts": local("2026-02-01 00:10"),
                "old_end": 115.0,
                "new_start": 0.0,
            }
        ],
        validity=[
            {"org": ORG_A, "point": "E1", "valid_from": local("2026-02-01 00:00"), "valid_to": None},
            {
                "org": ORG_A,
                "point": "R1",
                "valid_from": local("2025-01-01 00:00"),
                "valid_to": local("2026-02-01 00:00"),
            },
        ],
        streams=[
            {"org": ORG_A, "point": "E1", "stream": "boiler"},
            {"org": ORG_A, "point": "E2", "stream": "boiler"},
            {"org": ORG_A, "point": "R2", "stream": "boiler"},
            {"org": ORG_A, "point": "R3", "stream": "kiln"},
            {"org": ORG_A, "point": "R1", "stream": "kiln"},
        ],
    )


JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)

#: The scenario's monthly figures, worked out by hand (docstring of ``scenario``).
HAND_MONTHLY: dict[Key, dict[str, Any]] = {
    (ORG_A, "E1", "electricity", JAN): {"total": 5 * 0.5 + 2.5, "n": 6, "expected": 31 * 96},
    (ORG_A, "E1", "electricity", FEB): {"total": 7 * 0.5 + 4.0, "n": 8, "expected": 28 * 96},
    (ORG_A, "E2", "electricity", JAN): {"total": 0.25, "n": 1, "expected": None},
    (ORG_A, "R1", "register_electricity", JAN): {"total": 6 + 10, "n": 2, "expected": 31 * 48},
    (ORG_A, "R1", "register_electricity", FEB): {"total": 6, "n": 1, "expected": 28 * 48},
    (ORG_A, "R2", "register_mass", JAN): {"total": 10 + (115 - 110) + (3 - 0), "n": 2, "expected": None},
    (ORG_A, "R2", "register_mass", FEB): {"total": 5, "n": 1, "expected": None},
    (ORG_A, "R3", "register_volume", FEB): {"total": 20, "n": 2, "decreases": 1, "expected": 28 * 24},
    (ORG_B, "E1", "production", JAN): {"total": 2.0, "n": 1, "expected": None},
    (ORG_B, "E1", "production", FEB): {"total": 1.0, "n": 1, "expected": None},
}


@pytest.fixture(scope="module")
def scenario_con(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return duckdb_backend(write_lake(tmp_path_factory.mktemp("scenario") / "lake", scenario().rows))


def test_reference_agrees_with_the_hand_figures() -> None:
    ref = reference(scenario(), period="month")
    assert set(ref) == set(HAND_MONTHLY)
    for key, hand in HAND_MONTHLY.items():
        for col, value in hand.items():
            assert ref[key][col] == value, (key, col)
        assert ref[key]["decreases"] == hand.get("decreases", 0)


@pytest.mark.parametrize("period", ["day", "month", "year"])
def test_scenario_equals_reference(scenario_con: Any, period: str) -> None:
    lake = scenario()
    got = run_totals(scenario_con, lake, period=period)
    assert got.column_names == list(ag.TOTAL_COLUMNS)
    assert as_dict(got) == reference(lake, period=period)


def test_scenario_monthly_hand_figures(scenario_con: Any) -> None:
    got = as_dict(run_totals(scenario_con, scenario(), period="month"))
    for key, hand in HAND_MONTHLY.items():
        assert {c: got[key][c] for c in hand} == hand, key
    assert got[(ORG_A, "E1", "electricity", JAN)]["availability"] == 6 / (31 * 96)
    assert got[(ORG_A, "R3", "register_volume", FEB)]["decreases"] == 1


def test_month_boundary_is_shanghai_midnight(scenario_con: Any) -> None:
    """2026-01-31T15:45Z is 23:45 on Jan 31 in Shanghai; 16:00Z is Feb 1."""
    got = as_dict(run_totals(scenario_con, scenario(), period="day", org=ORG_B))
    assert {k[3]: v["total"] for k, v in got.items()} == {date(2026, 1, 31): 2.0, date(2026, 2, 1): 1.0}


def test_correction_batch_wins_and_gap_is_not_filled(scenario_con: Any) -> None:
    got = as_dict(run_totals(scenario_con, scenario(), period="day", points=["E1"], org=ORG_A))
    jan31 = got[(ORG_A, "E1", "electricity", date(2026, 1, 31))]
    assert (jan31["total"], jan31["n"]) == (5 * 0.5 + 2.5, 6)  # 8 slots, 2 missing, 23:45 corrected


def test_cems_quantities_are_not_totalled(scenario_con: Any) -> None:
    got = run_totals(scenario_con, scenario(), period="year")
    assert "co2_concentration" not in got.column("quantity").to_pylist()


@pytest.mark.parametrize(
    ("start", "end", "period", "expected_periods"),
    [
        (date(2026, 2, 1), None, "month", {FEB}),
        (None, date(2026, 2, 1), "month", {JAN}),
        (date(2026, 1, 15), date(2026, 1, 16), "month", {JAN}),  # a whole month, never a part
        (date(2026, 2, 1), date(2026, 2, 2), "day", {FEB}),
        (date(2026, 2, 3), date(2026, 2, 4), "day", {date(2026, 2, 3)}),
    ],
)
def test_start_end_select_whole_periods(
    scenario_con: Any, start: date | None, end: date | None, period: str, expected_periods: set[date]
) -> None:
    lake = scenario()
    got = as_dict(run_totals(scenario_con, lake, period=period, start=start, end=end))
    assert {k[3] for k in got} == expected_periods
    assert got == reference(lake, period=period, start=start, end=end)


def test_last_totalizer_interval_of_a_range_closes_in_the_next_period(scenario_con: Any) -> None:
    """R1's 23:30 → 00:00 interval is January's even when only January is asked for."""
    got = as_dict(run_totals(scenario_con, scenario(), period="month", end=FEB, points=["R1"]))
    assert got[(ORG_A, "R1", "register_electricity", JAN)]["total"] == 16


def test_validity_splits_unverified(scenario_con: Any) -> None:
    lake = scenario()
    got = run_totals(scenario_con, lake, period="month", with_validity=True)
    assert got.column_names == [*ag.TOTAL_COLUMNS, *ag.UNVERIFIED_COLUMNS]
    d = as_dict(got)
    assert d == reference(lake, period="month", with_validity=True)
    e1 = d[(ORG_A, "E1", "electricity", JAN)]
    assert (e1["total_unverified"], e1["n_unverified"]) == (5.0, 6)  # before the window opened
    r1_jan, r1_feb = (
        d[(ORG_A, "R1", "register_electricity", JAN)],
        d[(ORG_A, "R1", "register_electricity", FEB)],
    )
    assert (r1_jan["total_unverified"], r1_jan["n_unverified"]) == (10.0, 1)  # closing reading at 00:00
    assert (r1_feb["total_unverified"], r1_feb["n_unverified"]) == (6.0, 1)


def test_without_profiles_expected_is_null(scenario_con: Any) -> None:
    got = ag.to_arrow(ag.totals(scenario_con, period="month", org=ORG_A, points=["R1"]))
    assert got.column("expected").null_count == got.num_rows
    assert got.column("availability").null_count == got.num_rows
    # and without a modulus the rollover is a decrease, excluded and counted
    jan = as_dict(got)[(ORG_A, "R1", "register_electricity", JAN)]
    assert (jan["total"], jan["n"], jan["decreases"]) == (6.0, 1, 1)


def reference_streams(lake: Lake, *, period: str) -> dict[tuple[str, str, str, date], dict[str, Any]]:
    """Stream totals the naive way: the reference point totals summed over the mapping."""
    per_point = reference(lake, period=period)
    out: dict[tuple[str, str, str, date], dict[str, Any]] = {}
    for m in lake.streams:
        for (o, p, q, d), acc in per_point.items():
            if (o, p) != (m["org"], m["point"]):
                continue
            s = out.setdefault(
                (o, m["stream"], q, d), {"points": 0, "total": 0.0, "n": 0, "expected": None, "decreases": 0}
            )
            s["points"] += 1
            s["total"] += acc["total"]
            s["n"] += acc["n"]
            s["decreases"] += acc["decreases"]
            if acc["expected"] is not None:
                s["expected"] = (s["expected"] or 0) + acc["expected"]
    for s in out.values():
        s["availability"] = s["n"] / s["expected"] if s["expected"] else None
    return out


def as_stream_dict(table: pa.Table) -> dict[tuple[str, str, str, date], dict[str, Any]]:
    out = {}
    for row in table.to_pylist():
        out[(row.pop("org"), row.pop("stream"), row.pop("quantity"), row.pop("period_start"))] = row
    return out


def test_stream_totals(scenario_con: Any) -> None:
    lake = scenario()
    got = ag.to_arrow(
        ag.stream_totals(
            scenario_con, period="month", streams=lake.streams, profiles=lake.profiles, events=lake.events
        )
    )
    assert got.column_names == list(ag.STREAM_COLUMNS)
    d = as_stream_dict(got)
    assert d == reference_streams(lake, period="month")
    boiler = d[(ORG_A, "boiler", "electricity", JAN)]
    assert (boiler["points"], boiler["total"], boiler["n"]) == (2, 5.25, 7)
    assert (ORG_A, "boiler", "register_mass", JAN) in d  # quantities are never mixed


def test_misfiled_rows_still_land_in_their_local_month(tmp_path: Path) -> None:
    """A row filed under the wrong month partition is re-assigned from its ts, not from the path."""
    ts = datetime(2026, 1, 31, 16, 0, tzinfo=UTC)  # Feb 1 local
    rows = [
        Row(ORG_B, "E1", "production", ts, 1.0, 1, part=(2026, 1)),
        Row(ORG_B, "E1", "production", ts - timedelta(minutes=15), 2.0, 1, part=(2026, 1)),
    ]
    con = duckdb_backend(write_lake(tmp_path / "lake", rows))
    got = as_dict(ag.to_arrow(ag.totals(con, period="month")))
    assert {k[3]: v["total"] for k, v in got.items()} == {JAN: 2.0, FEB: 1.0}


def test_staging_and_empty_lakes(tmp_path: Path) -> None:
    empty = duckdb_backend(tmp_path / "nothing")
    got = ag.to_arrow(ag.totals(empty, period="month"))
    assert got.num_rows == 0
    assert got.column_names == list(ag.TOTAL_COLUMNS)
    lake = write_lake(tmp_path / "lake", [Row(ORG_A, "E1", "electricity", local("2026-03-01 00:00"), 1.0, 1)])
    write_lake(lake / "_staging" / "u1", [Row(ORG_A, "E1", "electricity", local("2026-03-01 00:15"), 9.0, 2)])
    got = ag.to_arrow(ag.totals(duckdb_backend(lake), period="month"))
    assert got.column("total").to_pylist() == [1.0]


@pytest.mark.parametrize("period", ["day", "month", "year"])
@pytest.mark.parametrize("validity", [False, True])
def test_the_lake_is_never_a_shared_cte(scenario_con: Any, period: str, validity: bool) -> None:
    """DuckDB materializes a CTE that is used twice: a CTE over the lake would hold every reading in memory
    (8 GB for the benchmark's 100 M rows). Only aggregated relations may be shared: between a shared CTE and
    every read of the lake inside it there must be a GROUP BY."""
    lake = scenario()
    expr = ag.totals(
        scenario_con,
        period=period,
        profiles=lake.profiles,
        events=lake.events,
        validity=lake.validity if validity else None,
    )
    tree = sqlglot.parse_one(str(scenario_con.compile(expr)), read="duckdb")
    for cte in tree.find_all(sqlglot.exp.CTE):
        for table in cte.this.find_all(sqlglot.exp.Table):
            if table.name != "readings":
                continue
            node: sqlglot.exp.Expression | None = table
            grouped = False
            while node is not None and node is not cte:
                grouped = grouped or (
                    isinstance(node, sqlglot.exp.Select) and node.args.get("group") is not None
                )
                node = node.parent
            assert grouped, f"CTE {cte.alias} shares raw readings"


def test_duckdb_keeps_join_sides_as_written(scenario_con: Any) -> None:
    setting = scenario_con.raw_sql("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    assert "build_side_probe_side" in setting


def test_bad_period_is_refused(scenario_con: Any) -> None:
    with pytest.raises(ValueError, match="period"):
        ag.totals(scenario_con, period="week")  # type: ignore[arg-type]


def test_plain_float_sums_agree_within_rounding(tmp_path: Path) -> None:
    """With arbitrary decimals (not multiples of 1/8) float addition depends on the order the engine adds
    in, so this one compares with a relative tolerance of 1e-12."""
    rows = [
        Row(
            ORG_A,
            "E1",
            "electricity",
            local("2026-03-01 00:00") + timedelta(minutes=15 * i),
            0.1 * (i % 7) + 0.01,
            1,
        )
        for i in range(3000)
    ]
    got = as_dict(ag.to_arrow(ag.totals(duckdb_backend(write_lake(tmp_path / "lake", rows)), period="month")))
    ref = reference(Lake(rows), period="month")
    assert got.keys() == ref.keys()
    for k in ref:
        assert got[k]["total"] == pytest.approx(ref[k]["total"], rel=1e-12)
        assert got[k]["n"] == ref[k]["n"]


# ----------------------------------------------------------------------------------------------------------
# random lakes

#: Local midnights just before a month end, a year end and a leap day: 200 slots of 15 min cross them.
BASES = (
    local("2026-01-31 00:00"),
    local("2025-12-31 00:00"),
    local("2024-02-28 00:00"),
    local("2026-06-30 00:00"),
)
QUANTITIES = ("electricity", "production", "register_energy", "register_volume", "co2_concentration")


def eighths(lo: int, hi: int) -> st.SearchStrategy[float]:
    """Multiples of 1/8: exact in float64, so sums do not depend on the order of addition."""
    return st.integers(lo, hi).map(lambda i: i / 8)


@st.composite
def lakes(draw: st.DrawFn) -> Lake:
    """A small random lake: a few points of both kinds, batches in blocks or interleaved, corrections,
    gaps, rollovers, decreases, counter events, validity windows."""
    base = draw(st.sampled_from(BASES))
    lake = Lake(rows=[], validity=[])
    for i in range(draw(st.integers(1, 4))):
        org = draw(st.sampled_from((ORG_A, ORG_B)))
        point = f"P{i}"
        quantity = draw(st.sampled_from(QUANTITIES))
        totalizer = quantity in ag.TOTALIZER_QUANTITIES
        modulus = draw(st.sampled_from((None, 1000.0))) if totalizer else None
        if draw(st.booleans()):
            interval = draw(st.sampled_from((900, 3600, None)))
            lake.profiles.append(
                {"org": org, "point": point, "expected_interval": interval, "counter_modulus": modulus}
            )
        slots = sorted(draw(st.lists(st.integers(0, 200), max_size=25, unique=True)))
        cuts = sorted(draw(st.lists(st.integers(0, 200), min_size=2, max_size=2)))
        interleaved = draw(st.booleans())
        register = draw(eighths(0, 7000))
        for s in slots:
            batch = draw(st.integers(1, 3)) if interleaved else 1 + (s >= cuts[0]) + (s >= cuts[1])
            ts = base + timedelta(minutes=15 * s)
            if totalizer:
                register += draw(eighths(-40, 400))
                if modulus is not None:
                    register %= modulus
                value = register
            else:
                value = draw(eighths(0, 800))
            lake.rows.append(Row(org, point, quantity, ts, value, batch))
            for correction in draw(st.lists(st.sampled_from((4, 5)), max_size=2, unique=True)):
                lake.rows.append(Row(org, point, quantity, ts, draw(eighths(0, 8000)), correction))
        if totalizer:
            for _ in range(draw(st.integers(0, 2))):
                lake.events.append(
                    {
                        "org": org,
                        "point": point,
                        "quantity": quantity,
                        "ts": base + timedelta(minutes=draw(st.integers(0, 200 * 15))),
                        "old_end": draw(st.none() | eighths(0, 8000)),
                        "new_start": draw(st.none() | eighths(0, 80)),
                    }
                )
        for _ in range(draw(st.integers(0, 2))):
            a = draw(st.integers(0, 200))
            b = draw(st.none() | st.integers(a, 220))
            assert lake.validity is not None
            lake.validity.append(
                {
                    "org": org,
                    "point": point,
                    "valid_from": base + timedelta(minutes=15 * a),
                    "valid_to": None if b is None else base + timedelta(minutes=15 * b),
                }
            )
    return lake


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    """Period and filters of one totals call."""
    q: dict[str, Any] = {"period": draw(st.sampled_from(("day", "month", "year")))}
    if draw(st.booleans()):
        q["start"] = draw(st.dates(date(2024, 2, 26), date(2026, 7, 3)))
    if draw(st.booleans()):
        q["end"] = draw(st.dates(date(2024, 2, 26), date(2026, 7, 3)))
    if draw(st.booleans()):
        q["org"] = draw(st.sampled_from((ORG_A, ORG_B)))
    if draw(st.booleans()):
        q["points"] = draw(st.lists(st.sampled_from(("P0", "P1", "P2", "P3")), min_size=1, unique=True))
    return q


def check_against_reference(con: Any, lake: Lake, query: Mapping[str, Any], with_validity: bool) -> pa.Table:
    """Run totals on ``con`` and assert it equals the reference; return the result."""
    got = run_totals(con, lake, with_validity=with_validity, **query)
    assert as_dict(got) == reference(lake, with_validity=with_validity, **query)
    return got


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(lake=lakes(), query=queries(), with_validity=st.booleans())
def test_random_lakes_equal_reference_on_duckdb(
    lake: Lake, query: dict[str, Any], with_validity: bool
) -> None:
    """Both paths, the day sums (used unless validity windows are given) and every row, equal the reference
    and each other exactly."""
    with lake_dir(lake.rows) as root:
        con = duckdb_backend(root)
        if lake.rows:  # the sums path is taken
            assert con.table(SUMS_TABLE).count().to_pyarrow().as_py() > 0
        summed = check_against_reference(con, lake, query, with_validity)
        rows = run_totals(con, lake, with_validity=with_validity, use_sums=False, **query)
        assert summed.to_pylist() == rows.to_pylist()
