"""The point-month data quality, pure (no Django): judged from a lake on disk and plain configuration, and
the ledger's day totals of a totalizer equal the quality page's on the same data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import aggregate, engines, quality
from carbonmeter.readings.lake import FILE_SCHEMA, OrgReader
from carbonmeter.readings.series import LOCAL, UTC
from carbonmeter.rules.loader import load_pack

ORG = "91500000000000000X"
POINT = "E1"
QUANTITY = "register_electricity"
QUARTER = 900
MARCH = dt.date(2025, 3, 1)
NOW = dt.datetime(2025, 6, 1, tzinfo=UTC)
WRAP = float(load_pack("cq-part1").settings.counter_max_wrap_fraction.value or 0)
MODULUS = 10_000.0


def write(
    lake: Path, batch: int, rows: Sequence[tuple[dt.datetime, float]], quantity: str = QUANTITY
) -> None:
    """One batch of ``POINT``'s readings, one file per local month (the contract's layout)."""
    parts: dict[tuple[int, int], list[tuple[dt.datetime, float]]] = {}
    for ts, value in rows:
        local = ts.astimezone(LOCAL)
        parts.setdefault((local.year, local.month), []).append((ts, value))
    for (y, m), chunk in parts.items():
        n = len(chunk)
        table = pa.table(
            {
                "point": [POINT] * n,
                "quantity": [quantity] * n,
                "ts": [ts.astimezone(UTC) for ts, _ in chunk],
                "value": [v for _, v in chunk],
                "unit": ["MWh"] * n,
                "orig_value": [repr(v) for _, v in chunk],
                "orig_unit": ["MWh"] * n,
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
        path = lake / f"org={ORG}" / f"y={y:04d}" / f"m={m:02d}" / f"b{batch:08d}-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)


def setup(events: tuple[quality.RecordedEvent, ...] = ()) -> quality.PointSetup:
    return quality.PointSetup(
        code=POINT,
        role="activity_data",
        quantity=QUANTITY,
        expected_interval=QUARTER,
        counter_modulus=MODULUS,
        max_wrap_fraction=WRAP,
        events=events,
    )


def quality_days(lake: Path, events: tuple[quality.RecordedEvent, ...] = ()) -> dict[dt.date, float]:
    with OrgReader(lake, ORG) as reader:
        result = quality.point_month(setup(events), MARCH, reader, now=NOW)
    return {d.day: d.measured for d in result.days if d.measured is not None}


def ledger_days(lake: Path, events: tuple[quality.RecordedEvent, ...] = ()) -> dict[dt.date, float]:
    con = engines.duckdb_backend(lake)
    expr = aggregate.totals(
        con,
        period="day",
        org=ORG,
        start=MARCH,
        end=dt.date(2025, 4, 1),
        profiles=[{"org": ORG, "point": POINT, "expected_interval": QUARTER, "counter_modulus": MODULUS}],
        events=[
            {
                "org": ORG,
                "point": POINT,
                "quantity": QUANTITY,
                "ts": e.ts,
                "old_end": e.old_end,
                "new_start": e.new_start,
            }
            for e in events
        ]
        or None,
        max_wrap_fraction=WRAP,
    )
    rows = aggregate.to_arrow(expr).to_pylist()
    return {r["period_start"]: r["total"] for r in rows if r["n"] or r["decreases"]}


def local(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=LOCAL)


def register_month(
    gaps: Sequence[tuple[dt.datetime, dt.datetime]],
    drop_at: dt.datetime | None,
    replaced: quality.RecordedEvent | None = None,
) -> list[tuple[dt.datetime, float]]:
    """2 MWh per quarter from 28 Feb 23:00 to 1 Apr 01:00 on a register wrapping at 10 000 MWh, with the
    given gaps, an implausible 3 000 MWh drop, and a meter replaced at ``replaced.ts`` (the old register
    ends at ``old_end``, the new one starts at ``new_start``)."""
    rows = []
    register = 3_000.0
    ts = dt.datetime(2025, 2, 28, 23, tzinfo=LOCAL)
    end = dt.datetime(2025, 4, 1, 1, tzinfo=LOCAL)
    while ts < end:
        register = (register + 2.0) % MODULUS
        if drop_at is not None and ts == drop_at:
            register = (register - 3_000.0) % MODULUS
        if replaced is not None and ts - dt.timedelta(seconds=QUARTER) < replaced.ts <= ts:
            # the old register ran until the event, the new one from new_start: 2 MWh in all this quarter
            before = (replaced.old_end or 0.0) - (register - 2.0)
            register = (replaced.new_start or 0.0) + 2.0 - before
        if not any(a <= ts < b for a, b in gaps):
            rows.append((ts, register))
        ts += dt.timedelta(seconds=QUARTER)
    return rows


def test_ledger_and_quality_page_give_the_same_day_totals(tmp_path: Path) -> None:
    """A gap over the midnight of the 25th, a rollover, an implausible drop (a decrease, excluded) and a
    meter replacement: every day's total is the same number on both paths."""
    gaps = [(local(25, 22), local(26, 3)), (local(12, 10), local(12, 11))]
    plain, replaced = tmp_path / "plain", tmp_path / "replaced"
    write(plain, 1, register_month(gaps, drop_at=local(8, 12)))
    # the old register ends 1 MWh after its 06:00 reading; the new one starts at 10
    at_six = next(v for ts, v in register_month(gaps, local(8, 12)) if ts == local(20, 6))
    event = quality.RecordedEvent(local(20, 6, 5).astimezone(UTC), "replacement", at_six + 1.0, 10.0, "new")
    write(replaced, 1, register_month(gaps, drop_at=local(8, 12), replaced=event))
    for lake, events in ((plain, ()), (replaced, (event,))):
        from_quality = quality_days(lake, events)
        from_ledger = ledger_days(lake, events)
        assert from_quality.keys() == from_ledger.keys()
        assert len(from_quality) == 31
        for day, total in from_quality.items():
            assert from_ledger[day] == pytest.approx(total, abs=1e-6), day
        # the gap's delta (21:45 → 03:00) is counted whole on the 25th on both paths
        assert from_quality[dt.date(2025, 3, 25)] == pytest.approx(87 * 2.0 + 21 * 2.0)
        assert from_quality[dt.date(2025, 3, 20)] == pytest.approx(96 * 2.0)
        assert from_quality[dt.date(2025, 3, 8)] == pytest.approx(95 * 2.0)  # the drop is excluded


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 40), st.floats(-3_000, 3_000, allow_nan=False)), min_size=2, max_size=40
    )
)
def test_both_paths_agree_on_random_registers(tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:
    """Random gaps (1–40 quarters) and random register moves (drops included, some wrapping)."""
    lake = tmp_path_factory.mktemp("lake")
    ts = dt.datetime(2025, 3, 1, tzinfo=LOCAL)
    register = 5_000.0
    rows = []
    for gap, move in steps:
        ts += dt.timedelta(seconds=QUARTER * gap)
        register = (register + move) % MODULUS
        rows.append((ts, register))
    write(lake, 1, rows)
    from_quality, from_ledger = quality_days(lake), ledger_days(lake)
    assert from_quality.keys() == from_ledger.keys()
    for day, total in from_quality.items():
        assert from_ledger[day] == pytest.approx(total, abs=1e-6), day


def test_point_month_runs_without_django(tmp_path: Path) -> None:
    """The judgement needs a lake and plain values: no settings, no database."""
    write(tmp_path, 1, register_month([], drop_at=None))
    with OrgReader(tmp_path, ORG) as reader:
        result = quality.point_month(setup(), MARCH, reader, now=NOW)
        none = quality.point_month(None, MARCH, reader, now=NOW)
    assert result.counter is not None and result.counter.total == pytest.approx(2 * 31 * 96)
    assert result.availability == 100.0 and none.problems == ("no_profile",)


def test_cli_prints_the_point_month_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``carbonmeter quality``: the same judgement from the lake alone, as JSON; a bad org is exit 2."""
    import json

    from carbonmeter.cli.main import main

    write(tmp_path, 1, register_month([(local(25, 22), local(26, 3))], drop_at=None))
    argv = ["quality", "--lake", str(tmp_path), "--org", ORG, "--point", POINT, "--quantity", QUANTITY]
    argv += ["--month", "2025-03", "--interval", str(QUARTER), "--modulus", str(MODULUS)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["readings"] == 2976 - 20 and out["missing_slots"] == 20
    days = {d["day"]: d["total"] for d in out["days"]}
    assert days["2025-03-25"] == pytest.approx(87 * 2.0 + 21 * 2.0)
    assert out["counter_total"] == pytest.approx(sum(days.values()))
    assert main([*argv[:3], "--org", "../x", *argv[5:]]) == 2
