"""Point-month data quality (计量点数据质量): availability, substitution, counter deltas, the validity gate
with the CO2 resting on flagged readings, CEMS hours — computed from real Parquet files in a temporary lake
and checked against numbers worked out here independently (sums of the rows the test wrote, HJ 75 by hand).

The lake files are written with pyarrow in the contract's layout (``org=/y=/m=/b<seq>-<part>.parquet``,
canonical columns), so these tests do not depend on the ingest; one end-to-end test loads the demo month
through the real ingest when it is available.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client

from carbonmeter.readings.lake import FILE_SCHEMA, _shift_month
from carbonmeter.readings.series import LOCAL, UTC, period_span
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings import quality
from carbonmeter.web.readings.models import CounterEvent, PointProfile
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization
from tests.web.conftest import login
from tests.web.readings.conftest import make_profile

MARCH = dt.date(2025, 3, 1)  # 31 days: 2976 quarter hours, 744 hours, 44640 minutes
QUARTER = 900
UNITS = {
    "consumption_mass": "t",
    "production": "t",
    "register_electricity": "MWh",
    "register_volume": "m^3",
    "carbon_content": "%",
    "co2_concentration": "%",
    "flow_velocity": "m/s",
    "temperature": "degC",
    "humidity": "%",
    "pressure": "kPa",
}

Row = tuple[str, str, dt.datetime, float]


def write_batch(lake: Path, org: Organization | str, batch: int, rows: Iterable[Row]) -> list[Path]:
    """One batch's rows as Parquet files, one per Asia/Shanghai month partition (contract layout)."""
    code = org if isinstance(org, str) else org.credit_code
    parts: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        local = row[2].astimezone(LOCAL)
        parts[(local.year, local.month)].append(row)
    out = []
    for part, ((y, m), chunk) in enumerate(sorted(parts.items())):
        table = pa.table(
            {
                "point": [r[0] for r in chunk],
                "quantity": [r[1] for r in chunk],
                "ts": [r[2].astimezone(UTC) for r in chunk],
                "value": [r[3] for r in chunk],
                "unit": [UNITS[r[1]] for r in chunk],
                "orig_value": [repr(r[3]) for r in chunk],
                "orig_unit": [UNITS[r[1]] for r in chunk],
                "factor": [1.0] * len(chunk),
                "offset": [0.0] * len(chunk),
                "sample_id": [None] * len(chunk),
                "analyzed_at": [None] * len(chunk),
                "laboratory": [None] * len(chunk),
                "batch": [batch] * len(chunk),
                "row": list(range(2, len(chunk) + 2)),
            },
            schema=FILE_SCHEMA,
        )
        path = lake / f"org={code}" / f"y={y:04d}" / f"m={m:02d}" / f"b{batch:08d}-{part}.parquet"
        assert not path.exists(), f"batch {batch} is already in the lake"  # the lake never overwrites
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        out.append(path)
    return out


def local(day: int, hour: int = 0, minute: int = 0, month: dt.date = MARCH) -> dt.datetime:
    return dt.datetime(month.year, month.month, day, hour, minute, tzinfo=LOCAL)


def slots(step: int, month: dt.date = MARCH) -> list[dt.datetime]:
    start = local(1, month=month)
    end = local(1, month=_shift_month(month, 1))
    n = int((end - start).total_seconds()) // step
    return [start + dt.timedelta(seconds=i * step) for i in range(n)]


def instrument(org: Organization, code: str) -> Instrument:
    return Instrument.objects.get(organization=org, code=code)


def calibrate(org: Organization, code: str, on: dt.date, result: str, until: dt.date | None = None) -> None:
    record = Calibration(
        instrument=instrument(org, code),
        kind="calibration",
        date=on,
        valid_until=until,
        result=result,
        certificate_no=f"T-{on:%Y%m%d}-{result}",
    )
    record._change_reason = "test record"
    record.save()


def judge(org: Organization, code: str, month: dt.date = MARCH) -> quality.PointQuality:
    point = MeasuringPoint.objects.select_related("stream").get(organization=org, code=code)
    return quality.point_month(org, point, month)


def day_row(result: quality.PointQuality, day: int) -> quality.DayRow:
    (row,) = [d for d in result.days if d.day == MARCH.replace(day=day)]
    return row


def coal(ts: dt.datetime) -> float:
    """A varying but reproducible quarter-hour coal mass (t), so a wrong pairing would show."""
    return 4.0 + (ts.hour * 4 + ts.minute // 15) % 7 * 0.125


# ------------------------------------------------------------------------------------------------------
# Interval points: gaps, substitution, totals kept apart, corrections
# ------------------------------------------------------------------------------------------------------


def test_gap_is_filled_by_mean_adjacent_and_totals_are_kept_apart(lake: Path, org_a: Organization) -> None:
    make_profile(org_a, "P02.1", "consumption_mass", expected_interval=QUARTER, substitution="mean_adjacent")
    gap = (local(17, 8), local(17, 14))
    kept = [ts for ts in slots(QUARTER) if not gap[0] <= ts < gap[1]]
    write_batch(lake, org_a, 1, [("P02.1", "consumption_mass", ts, coal(ts)) for ts in kept])

    result = judge(org_a, "P02.1")

    assert result.readings == 2976 - 24
    assert result.availability == pytest.approx(100 * (2976 - 24) / 2976)
    assert result.report is not None
    assert [(s.start, s.end) for s in result.report.missing] == [gap]
    assert result.substitution is not None
    (run,) = result.substitution.runs
    before, after = coal(gap[0] - dt.timedelta(minutes=15)), coal(gap[1])
    assert (run.slots, run.rule, run.basis) == (24, "mean_adjacent", "both_sides")
    assert run.value == pytest.approx((before + after) / 2)
    assert [s.ts for s in run.inputs] == [gap[0] - dt.timedelta(minutes=15), gap[1]]
    measured = math.fsum(coal(ts) for ts in kept)
    assert result.totals is not None
    assert result.totals.measured == pytest.approx(measured)
    assert result.totals.substituted == pytest.approx(24 * (before + after) / 2)
    assert result.totals.with_substitution == pytest.approx(measured + 24 * (before + after) / 2)
    assert result.totals.unfilled_slots == 0
    day = day_row(result, 17)
    assert (day.expected, day.missing, day.present, day.readings, day.substituted_slots) == (
        96,
        24,
        72,
        72,
        24,
    )
    assert day.measured == pytest.approx(math.fsum(coal(ts) for ts in kept if ts.day == 17))
    assert day.total == pytest.approx(
        math.fsum(coal(ts) for ts in kept if ts.day == 17) + 12 * (before + after)
    )
    d16 = day_row(result, 16)
    assert (d16.missing, d16.substituted_slots, d16.substituted) == (0, 0, None)
    assert len(result.days) == 31 and all(d.judged for d in result.days)


def test_gaps_at_the_month_edges_use_the_neighbouring_months(lake: Path, org_a: Organization) -> None:
    """The first hour of March is missing: its before-value is February's last reading (a neighbour, not
    counted in March); the last two hours are missing and April holds nothing: only the before side."""
    make_profile(org_a, "P02.1", "consumption_mass", expected_interval=QUARTER, substitution="mean_adjacent")
    kept = [ts for ts in slots(QUARTER) if local(1, 1) <= ts < local(31, 22)]
    rows = [("P02.1", "consumption_mass", ts, coal(ts)) for ts in kept]
    february = local(28, 23, 45, month=dt.date(2025, 2, 1))
    rows.append(("P02.1", "consumption_mass", february, 9.0))
    write_batch(lake, org_a, 1, rows)

    result = judge(org_a, "P02.1")

    assert result.readings == len(kept)
    assert result.substitution is not None
    first, last = result.substitution.runs
    assert (first.start, first.end, first.slots, first.basis) == (local(1), local(1, 1), 4, "both_sides")
    assert first.value == pytest.approx((9.0 + coal(local(1, 1))) / 2)
    assert (last.slots, last.basis) == (8, "before_only")
    assert last.value == pytest.approx(coal(local(31, 21, 45)))
    assert result.totals is not None
    assert result.totals.measured == pytest.approx(math.fsum(coal(ts) for ts in kept))  # no February value


def test_the_latest_batch_wins_and_superseded_rows_are_counted(lake: Path, org_a: Organization) -> None:
    make_profile(org_a, "P01.1", "consumption_mass", expected_interval=3600, substitution="none")
    hours = slots(3600)
    write_batch(lake, org_a, 7, [("P01.1", "consumption_mass", ts, 5.0) for ts in hours])
    # A correction (batch 9) of two hours, and an older batch (3) for one of them: 9 wins, 3 loses.
    write_batch(lake, org_a, 9, [("P01.1", "consumption_mass", ts, 6.5) for ts in hours[10:12]])
    write_batch(lake, org_a, 3, [("P01.1", "consumption_mass", hours[10], 99.0)])

    result = judge(org_a, "P01.1")

    assert result.readings == 744
    assert result.superseded == 3
    assert result.totals is not None
    assert result.totals.measured == pytest.approx(742 * 5.0 + 2 * 6.5)
    assert day_row(result, 1).measured == pytest.approx(22 * 5.0 + 2 * 6.5)


def test_rule_none_and_pack_default_never_zero_fill(lake: Path, org_a: Organization) -> None:
    profile = make_profile(org_a, "P01.1", "consumption_mass", expected_interval=3600, substitution="none")
    kept = [ts for ts in slots(3600) if ts.day != 5]
    write_batch(lake, org_a, 1, [("P01.1", "consumption_mass", ts, 5.0) for ts in kept])

    none = judge(org_a, "P01.1")
    assert none.substitution is not None and none.totals is not None
    assert (none.substitution.substituted_slots, none.substitution.unfilled_slots) == (0, 24)
    assert none.totals.substituted == 0 and none.totals.unfilled_slots == 24
    assert none.totals.with_substitution == pytest.approx(720 * 5.0)
    day5 = day_row(none, 5)  # no readings, nothing filled: no data, not zero
    assert (day5.unfilled, day5.measured, day5.substituted, day5.total) == (24, None, None, None)

    # A default without its source is a configuration error: said so, and nothing is filled.
    profile.substitution, profile.default_value, profile.default_source = "pack_default", 4.2, ""
    profile._change_reason = "test"
    profile.save()
    unsourced = judge(org_a, "P01.1")
    assert "substitution_config" in unsourced.problems
    assert unsourced.substitution is not None and unsourced.substitution.rule == "none"
    assert "source" in unsourced.substitution.error
    assert unsourced.substitution.unfilled_slots == 24

    profile.default_source = "《指南》附表 2.1"
    profile.save()
    sourced = judge(org_a, "P01.1")
    assert sourced.problems == ()
    assert sourced.substitution is not None and sourced.totals is not None
    (run,) = sourced.substitution.runs
    assert (run.rule, run.value, run.source, run.slots) == ("pack_default", 4.2, "《指南》附表 2.1", 24)
    assert sourced.totals.substituted == pytest.approx(24 * 4.2)
    day5 = day_row(sourced, 5)
    assert (day5.measured, day5.substituted_slots) == (None, 24)
    assert day5.total == pytest.approx(24 * 4.2)


# ------------------------------------------------------------------------------------------------------
# Totalizers: rollover, gap over midnight on its first day, unexplained decrease excluded, meter replacement
# ------------------------------------------------------------------------------------------------------


def test_register_rollover_gap_and_decrease(lake: Path, org_a: Organization) -> None:
    """2 MWh per quarter on a register that wraps at 10 000 MWh; a 5-hour gap over the midnight of day 25;
    one unexplained drop of 500 MWh on day 8 (no event recorded)."""
    make_profile(org_a, "P22.2", "register_electricity", expected_interval=QUARTER, counter_modulus=10_000.0)
    gap = (local(25, 22), local(26, 3))
    drop_at = local(8, 12)
    rows = []
    register = 5_000.0  # wraps on day 29, long after the drop
    for i, ts in enumerate(slots(QUARTER)):
        if i:
            register += 2.0
        if ts == drop_at:
            register -= 502.0  # reads 500 below the previous reading: a decrease nobody explained
        register %= 10_000.0
        if not gap[0] <= ts < gap[1]:
            rows.append(("P22.2", "register_electricity", ts, register))
    write_batch(lake, org_a, 1, rows)

    result = judge(org_a, "P22.2")

    counter = result.counter
    assert counter is not None and result.totals is None and result.substitution is None
    assert counter.counts["rollover"] == 1 and counter.counts["decrease"] == 1
    assert counter.counts["across_event"] == 0
    # 2975 quarter steps of 2 MWh, less the one step whose reading fell: it is excluded, not summed.
    assert counter.total == pytest.approx(2 * 2975 - 2)
    assert counter.excluded == pytest.approx(-500.0)
    (decrease,) = [d for d in counter.flagged if d.flag == "decrease"]
    assert decrease.end == drop_at.astimezone(UTC)
    # The delta over the gap (21:45 → 03:00, 21 steps) belongs to the day it starts in, as in the ledger.
    d25, d26 = day_row(result, 25), day_row(result, 26)
    assert d25.spanning == pytest.approx(42.0) and d26.spanning == 0
    assert d25.measured == pytest.approx(2 * (88 - 1) + 42.0)  # 88 readings before the gap: 87 steps
    assert d26.measured == pytest.approx(2 * 84)
    assert day_row(result, 8).decreases == 1
    assert math.fsum(d.measured or 0.0 for d in result.days) == pytest.approx(counter.total)
    assert result.availability == pytest.approx(100 * (2976 - 20) / 2976)


def test_meter_replacement_event_is_applied(lake: Path, org_a: Organization) -> None:
    make_profile(org_a, "P13.1", "register_volume", expected_interval=QUARTER)
    point = MeasuringPoint.objects.get(organization=org_a, code="P13.1")
    swap = local(10, 10)
    rows, register, old_end = [], 1_283_400.0, 0.0
    for i, ts in enumerate(slots(QUARTER)):
        if ts == swap:
            old_end = register + 2.0  # the old meter ran 2 m³ more before it came off
            register = 3.0 - 5.0  # the new meter reads 3 m³ at 10:00
        if i:
            register += 5.0
        rows.append(("P13.1", "register_volume", ts, register))
    write_batch(lake, org_a, 1, rows)
    for ts, old, new, reason in [
        (swap, old_end, 0.0, "燃气公司换表"),
        (local(2, 1), None, None, "只记了时间的清零"),  # no old_end: cannot be applied
        (local(5, 1, month=dt.date(2025, 4, 1)), 10.0, 0.0, "四月的事件"),  # outside the readings
    ]:
        event = CounterEvent(
            organization=org_a,
            point=point,
            ts=ts,
            kind="replacement" if old is not None else "reset",
            old_end=old,
            new_start=new,
            reason=reason,
        )
        event._change_reason = "test"
        event.save()

    result = judge(org_a, "P13.1")

    counter = result.counter
    assert counter is not None
    assert counter.counts["across_event"] == 1 and counter.counts["decrease"] == 0
    (across,) = counter.flagged
    assert across.flag == "across_event" and across.delta == pytest.approx(2.0 + 3.0)
    assert [(e.reason, e.status) for e in counter.events] == [
        ("只记了时间的清零", "incomplete"),
        ("燃气公司换表", "applied"),
        ("四月的事件", "unused"),
    ]
    assert counter.total == pytest.approx(5.0 * 2975 - 5.0 + 5.0)  # every step 5 m³, the swap's too
    assert day_row(result, 10).across_events == 1


# ------------------------------------------------------------------------------------------------------
# Validity gate and the CO2 resting on flagged readings
# ------------------------------------------------------------------------------------------------------


def test_failed_calibration_flags_readings_and_sizes_the_co2(lake: Path, org_a: Organization) -> None:
    """L2-01 passed on 2024-08-26 (valid to 2025-08-25, demo register) and fails on 20 March: every reading
    since the last pass is suspect (days 1–20); it passes again after repair on the 21st."""
    make_profile(
        org_a,
        "P03.1",
        "consumption_mass",
        expected_interval=3600,
        substitution="period_max",
        instrument=instrument(org_a, "L2-01"),
    )
    calibrate(org_a, "L2-01", dt.date(2025, 3, 20), "fail")
    calibrate(org_a, "L2-01", dt.date(2025, 3, 21), "pass", dt.date(2026, 3, 20))
    hours = slots(3600)
    write_batch(lake, org_a, 1, [("P03.1", "consumption_mass", ts, 10.0 + ts.day / 10) for ts in hours])
    lab = [local(d, 8) for d in (3, 13, 23)]
    write_batch(
        lake,
        org_a,
        2,
        [("P03.3", "carbon_content", ts, cc) for ts, cc in zip(lab, (60.0, 62.0, 64.0), strict=True)],
    )

    result = judge(org_a, "P03.1")

    gate = result.validity
    assert gate is not None and result.instrument is not None and result.instrument.code == "L2-01"
    flagged = [ts for ts in hours if ts.day <= 20]
    factor = 0.62 * 44 / 12
    assert gate.factor is not None
    assert (gate.factor.point, gate.factor.n, gate.factor.carbon_content_pct) == ("P03.3", 3, 62.0)
    assert gate.factor.t_co2_per_t == pytest.approx(factor)
    rows = {f.flag: f for f in gate.flags}
    assert rows["after_failed"].readings == len(flagged) == 480
    assert rows["valid"].readings == 744 - 480 and rows["no_valid_calibration"].readings == 0
    amount = math.fsum(10.0 + ts.day / 10 for ts in flagged)
    assert rows["after_failed"].amount == pytest.approx(amount)
    assert rows["after_failed"].tonnes == pytest.approx(amount * factor)
    assert gate.flagged_tonnes == pytest.approx(amount * factor)
    assert gate.by_failed_record == {"2025-03-20": pytest.approx(amount * factor)}
    assert [(r.first.day, r.last.day, r.verdict.flag) for r in gate.runs] == [
        (1, 20, "after_failed"),
        (21, 31, "valid"),
    ]
    assert day_row(result, 20).flag == "after_failed" and day_row(result, 21).flag == "valid"


@pytest.mark.parametrize(
    ("code", "quantity", "missing"),
    [
        ("P05.1", "production", "no_carbon_content_point"),  # S05 measures CaO, not carbon
        ("P01.1", "consumption_mass", "no_carbon_content_data"),  # P01.3 exists, no analyses this month
    ],
)
def test_without_measured_carbon_content_no_factor_is_invented(
    lake: Path, org_a: Organization, code: str, quantity: str, missing: str
) -> None:
    make_profile(org_a, code, quantity, expected_interval=3600, instrument=instrument(org_a, "L2-01"))
    calibrate(org_a, "L2-01", dt.date(2025, 3, 20), "fail")
    write_batch(lake, org_a, 1, [(code, quantity, ts, 8.0) for ts in slots(3600)])

    gate = judge(org_a, code).validity

    assert gate is not None and gate.factor is None and gate.factor_missing == missing
    assert gate.basis == "activity" and gate.flagged_tonnes is None
    assert gate.flagged_amount == pytest.approx(8.0 * 744)  # every March day is after the failure window
    assert {f.flag: f.tonnes for f in gate.flags} == dict.fromkeys(
        ("valid", "after_failed", "no_valid_calibration")
    )


def test_electricity_is_not_converted_with_a_carbon_content(lake: Path, org_a: Organization) -> None:
    make_profile(
        org_a,
        "P22.2",
        "register_electricity",
        expected_interval=3600,
        counter_modulus=10_000.0,
        instrument=instrument(org_a, "ZJ-03"),
    )
    write_batch(
        lake, org_a, 1, [("P22.2", "register_electricity", ts, i * 3.0) for i, ts in enumerate(slots(3600))]
    )

    gate = judge(org_a, "P22.2").validity

    assert gate is not None and gate.factor_missing == "not_mass_unit" and gate.factor is None
    assert math.fsum(f.amount or 0 for f in gate.flags) == pytest.approx(743 * 3.0)


def test_a_point_without_instrument_is_not_gated(lake: Path, org_a: Organization) -> None:
    make_profile(org_a, "P01.1", "consumption_mass", expected_interval=3600)
    write_batch(lake, org_a, 1, [("P01.1", "consumption_mass", ts, 1.0) for ts in slots(3600)])
    result = judge(org_a, "P01.1")
    assert result.validity is None and all(d.flag is None for d in result.days)


# ------------------------------------------------------------------------------------------------------
# CEMS
# ------------------------------------------------------------------------------------------------------

CEMS = {
    "P25.1": ("co2_concentration", 20.0),
    "P25.2": ("flow_velocity", 10.0),
    "P25.3": ("temperature", 150.0),
    "P25.4": ("humidity", 10.0),
    "P25.5": ("pressure", 100.0),
}


def cems_day(lake: Path, org: Organization, batch: int = 1) -> None:
    """Day 12 of March, minute by minute, with 02:00–02:20 missing (40 of 60 minutes); no other day."""
    rows = []
    for code, (quantity, value) in CEMS.items():
        make_profile(org, code, quantity, expected_interval=60, substitution="mean_adjacent")
        for i in range(1440):
            ts = local(12) + dt.timedelta(minutes=i)
            if not local(12, 2) <= ts < local(12, 2, 20):
                rows.append((code, quantity, ts + dt.timedelta(seconds=7), value))  # loggers stamp late
    write_batch(lake, org, batch, rows)


def set_extra(org: Organization, code: str, **extra: Any) -> None:
    point = MeasuringPoint.objects.get(organization=org, code=code)
    point.extra = {**point.extra, **extra}
    point._change_reason = "test"
    point.save()


def test_cems_hours_and_hourly_co2_mass(lake: Path, org_a: Organization) -> None:
    cems_day(lake, org_a)
    set_extra(org_a, "P25.2", duct_area_m2=3.14)
    set_extra(org_a, "P25.1", co2_basis="wet")

    result = judge(org_a, "P25.1")

    c = result.cems
    assert c is not None and c.mass_missing == () and c.missing_points == ()
    assert (c.duct_area_m2, c.duct_area_from, c.co2_basis, c.co2_basis_from) == (
        3.14,
        "P25.2",
        "wet",
        "P25.1",
    )
    assert len(c.hours) == 744 and c.valid_hours == 23
    bad = [h for h in c.insufficient if h.start == local(12, 2).astimezone(UTC)]
    assert len(bad) == 1 and bad[0].valid_minutes == 40 and bad[0].needed_minutes == 45
    # HJ 75-2017 by hand: dry CO2, standard dry flow, mass with ρ = 44.01 / 22.414 kg/m³.
    dry = 20.0 / (1 - 0.10)
    flow = 10.0 * 3.14 * 3600 * 273.15 / (273.15 + 150.0) * 100.0 / 101.325 * (1 - 0.10)
    hourly = dry / 100 * flow * (44.01 / 22.414) / 1000
    assert c.co2_t == pytest.approx(23 * hourly)
    day = day_row(result, 12)
    assert (day.valid_hours, day.insufficient_hours, day.missing, day.readings) == (23, 1, 20, 1420)
    assert day.co2_t == pytest.approx(23 * hourly)
    assert day_row(result, 11).insufficient_hours == 24 and day_row(result, 11).co2_t == 0
    assert result.availability == pytest.approx(100 * 1420 / 44640)


def test_cems_hour_validity_comes_from_the_pack_unless_the_profile_sets_it(
    client: Client, users: dict[str, Any], lake: Path, org_a: Organization
) -> None:
    """HJ 75's 0.75 is the rule pack's ``cems_hour_valid_fraction`` (with its provenance on the page); a
    point profile may state its own: at 0.6 the hour with 40 of 60 minutes becomes valid."""
    cems_day(lake, org_a)
    pack = load_pack(org_a.pack_ref)
    c = judge(org_a, "P25.1").cems
    assert c is not None and c.valid_fraction == pack.settings.cems_hour_valid_fraction.value
    assert c.valid_fraction_from == quality.pure.Provenance(
        pack_title={"zh": pack.title.zh, "en": pack.title.en}, pack_version=pack.version, tag="provisional"
    )
    # The page says where the value comes from in its language, never the pack author's note (which read
    # "issue 4: configurable per point") nor the pack's id.
    point = MeasuringPoint.objects.get(organization=org_a, code="P25.1")
    html = page(login(client, users["admin_a"]), point)
    source = html.split('id="valid-fraction-source">', 1)[1].split("</small>", 1)[0]
    assert source == f"(规则包 {pack.title.zh}（{pack.version}）的默认值，暂定值)"
    assert "issue" not in html and "configurable" not in html and f"{pack.id}@" not in html
    english = client.get(f"/readings/quality/{point.pk}/?month=2025-03", HTTP_ACCEPT_LANGUAGE="en")
    source = english.content.decode().split('id="valid-fraction-source">', 1)[1].split("</small>", 1)[0]
    assert source == f"(default of the rule pack {pack.title.en} ({pack.version}), provisional)"
    two = local(12, 2).astimezone(UTC)
    assert c.valid_hours == 23 and [h.needed_minutes for h in c.insufficient if h.start == two] == [45]
    profile = PointProfile.objects.get(point__organization=org_a, point__code="P25.1")
    profile.cems_valid_fraction = 0.6
    profile._change_reason = "test"
    profile.save()
    c = judge(org_a, "P25.1").cems
    assert c is not None and c.valid_fraction == 0.6
    assert c.valid_fraction_from.text("zh") == "计量点 P25.1 的数据配置"
    assert c.valid_fraction_from.text("en") == "data profile of point P25.1"
    assert c.valid_hours == 24 and all(h.start != two for h in c.insufficient)


def test_cems_without_duct_area_shows_validity_only(lake: Path, org_a: Organization) -> None:
    cems_day(lake, org_a)

    result = judge(org_a, "P25.3")

    c = result.cems
    assert c is not None and c.mass_missing == ("duct_area", "co2_basis") and c.co2_t is None
    assert c.valid_hours == 23 and all(h.co2_t is None and h.flow_std_dry_m3h is None for h in c.hours)
    (valid,) = [h for h in c.hours if h.start == local(12, 5).astimezone(UTC)]
    assert valid.co2_pct == pytest.approx(20.0)  # as measured: the basis is not known
    assert day_row(result, 12).co2_t is None


@pytest.mark.parametrize(
    ("stated", "basis"),
    [("干基", "dry"), (" 湿基 ", "wet"), ("Dry basis", "dry"), ("wet", "wet"), ("damp", None), (1, None)],
)
def test_the_co2_basis_is_read_in_the_words_the_page_offers(stated: Any, basis: str | None) -> None:
    assert quality.pure.co2_basis(stated) == basis


def test_the_co2_basis_hint_names_dry_and_wet_basis_in_the_pages_language(
    client: Client, users: dict[str, Any], lake: Path, org_a: Organization
) -> None:
    """Issue 9: the hint asked for ``co2_basis (dry 或 wet)``, codes on a Chinese page; it offers 干基/湿基
    (dry basis/wet basis in English), and what it offers is read."""
    cems_day(lake, org_a)
    point = MeasuringPoint.objects.get(organization=org_a, code="P25.3")
    login(client, users["admin_a"])
    hint = page(client, point).split("data-mass-missing>")[2].split("</div>", 1)[0]
    assert "“干基”或“湿基”" in hint and "dry" not in hint and "wet" not in hint
    english = client.get(f"/readings/quality/{point.pk}/?month=2025-03", HTTP_ACCEPT_LANGUAGE="en")
    hint = english.content.decode().split("data-mass-missing>")[2].split("</div>", 1)[0]
    assert "“dry basis” or “wet basis”" in hint and "干基" not in hint
    set_extra(org_a, "P25.3", co2_basis="湿基")
    c = judge(org_a, "P25.3").cems
    assert c is not None and (c.co2_basis, c.co2_basis_from) == ("wet", "P25.3")
    assert "co2_basis" not in c.mass_missing


# ------------------------------------------------------------------------------------------------------
# Tenancy of the lake and edge cases
# ------------------------------------------------------------------------------------------------------


def test_another_organizations_rows_are_never_read(
    lake: Path, org_a: Organization, org_b: Organization
) -> None:
    make_profile(org_a, "P01.1", "consumption_mass", expected_interval=3600)
    write_batch(lake, org_a, 1, [("P01.1", "consumption_mass", ts, 1.0) for ts in slots(3600)[:10]])
    other = write_batch(lake, org_b, 2, [("P01.1", "consumption_mass", ts, 50.0) for ts in slots(3600)])

    result = judge(org_a, "P01.1")
    assert result.readings == 10 and result.totals is not None and result.totals.measured == 10.0

    # The connection itself cannot open a file outside the organization's folder.
    with quality.reader(org_a) as r:
        assert r.effective("P01.1", "consumption_mass", period_span(MARCH, "month")).superseded == 0
        with pytest.raises(duckdb.Error):
            r._connection().execute("SELECT count(*) FROM read_parquet($p)", {"p": str(other[0])}).fetchall()
        with pytest.raises(duckdb.Error):
            r._connection().execute("SET enable_external_access = true")


def test_empty_lake_no_profile_and_running_month(lake: Path, org_a: Organization) -> None:
    assert judge(org_a, "P01.1").problems == ("no_profile",)
    make_profile(org_a, "P01.1", "consumption_mass", expected_interval=3600, substitution="mean_adjacent")
    empty = judge(org_a, "P01.1")
    assert empty.readings == 0 and empty.availability == 0
    assert empty.substitution is not None and empty.substitution.unfilled_slots == 744
    assert empty.substitution.runs[0].basis == "no_adjacent_value"

    point = MeasuringPoint.objects.get(organization=org_a, code="P01.1")
    now = local(10, 15)
    running = quality.point_month(org_a, point, MARCH, now=now)
    assert running.judged.end == local(10).astimezone(UTC) and not running.complete
    assert running.report is not None and running.report.expected == 9 * 24
    assert [d.judged for d in running.days] == [True] * 9 + [False] * 22
    future = quality.point_month(org_a, point, dt.date(2025, 4, 1), now=now)
    assert future.problems == ("not_started",) and future.report is None

    other = MeasuringPoint.objects.exclude(organization=org_a).first()
    assert other is not None
    with pytest.raises(ValueError):
        quality.point_month(org_a, other, MARCH)


# ------------------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------------------


def number(html: str, element_id: str) -> float:
    """The ``data-value`` of the element with ``element_id``: the unrounded number behind the display."""
    match = re.search(rf'id="{element_id}"[^>]*data-value="([^"]+)"', html)
    assert match, element_id
    return float(match.group(1))


def page(client: Client, point: MeasuringPoint, month: str = "2025-03") -> str:
    response = client.get(f"/readings/quality/{point.pk}/?month={month}")
    assert response.status_code == 200
    return response.content.decode()


def test_page_shows_gaps_substitution_and_flagged_tonnes(
    client: Client, lake: Path, users: dict[str, Any], org_a: Organization
) -> None:
    make_profile(
        org_a,
        "P03.1",
        "consumption_mass",
        expected_interval=QUARTER,
        substitution="mean_adjacent",
        instrument=instrument(org_a, "L2-01"),
    )
    calibrate(org_a, "L2-01", dt.date(2025, 3, 20), "fail")
    gap = (local(17, 8), local(17, 14))
    write_batch(
        lake,
        org_a,
        1,
        [("P03.1", "consumption_mass", ts, 5.0) for ts in slots(QUARTER) if not gap[0] <= ts < gap[1]],
    )
    write_batch(lake, org_a, 2, [("P03.3", "carbon_content", local(4, 8), 60.0)])
    point = MeasuringPoint.objects.get(organization=org_a, code="P03.1")

    html = page(login(client, users["verifier_a"]), point)

    assert "计量点数据质量" in html and "P03.1" in html
    assert number(html, "availability") == pytest.approx(100 * (2976 - 24) / 2976)
    assert f'data-gap="{gap[0].isoformat()}"' in html and 'data-basis="both_sides"' in html
    assert "前后有效值的平均值" in html  # the rule, in Chinese
    assert '<span id="substituted-slots">24</span>' in html
    # The failure on 20 March flags from the day after the last pass before it (2024-08-26) until the next
    # pass (2025-08-18, demo register): all of March.  Factor from P03.3: 60 % C → 0.6 × 44/12 tCO2/t.
    assert 'data-flag="after_failed" data-readings="2952"' in html
    assert number(html, "flagged-tonnes") == pytest.approx(5.0 * 2952 * 0.6 * 44 / 12)
    assert "P03.3" in html
    assert 'data-day="2025-03-17"' in html and 'data-missing="24"' in html


def test_page_of_a_totalizer_and_a_cems_point(
    client: Client, lake: Path, users: dict[str, Any], org_a: Organization
) -> None:
    make_profile(org_a, "P22.2", "register_electricity", expected_interval=QUARTER, counter_modulus=100.0)
    write_batch(
        lake,
        org_a,
        1,
        [("P22.2", "register_electricity", ts, (i * 0.5) % 100.0) for i, ts in enumerate(slots(QUARTER))],
    )
    cems_day(lake, org_a, batch=2)
    login(client, users["admin_a"])

    html = page(client, MeasuringPoint.objects.get(organization=org_a, code="P22.2"))
    assert html.count('data-delta-flag="rollover"') == 14  # 0.5 × 2975 = 1487.5 → 14 wraps of 100
    assert "计数器翻转" in html

    html = page(client, MeasuringPoint.objects.get(organization=org_a, code="P25.2"))
    assert f'data-hour="{local(12, 2).isoformat()}"' in html
    assert "需要烟道截面积" in html and 'data-insufficient="1"' in html


def test_page_tenancy_and_defaults(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    point = MeasuringPoint.objects.get(organization=org_a, code="P03.1")
    url = f"/readings/quality/{point.pk}/"
    assert client.get(url).status_code == 302  # to the login page

    login(client, users["admin_b"])
    assert client.get(url).status_code == 404
    assert client.get(url + "?month=2025-03").status_code == 404
    index = client.get("/readings/quality/").content.decode()
    assert "P03.1" not in index

    login(client, users["expired_verifier"])
    assert client.get(url).status_code == 404

    login(client, users["regulator_cq"])
    html = client.get(url + "?month=not-a-month").content.decode()
    assert 'data-problem="no_profile"' in html  # readable, with the last complete month by default

    make_profile(org_a, "P03.1", "consumption_mass", expected_interval=QUARTER)
    login(client, users["admin_a"])
    index = client.get("/readings/quality/?month=2025-03").content.decode()
    assert f'href="/readings/quality/{point.pk}/?month=2025-03"' in index
    assert client.post(url).status_code == 405


# ------------------------------------------------------------------------------------------------------
# End to end: the demo month through the real ingest
# ------------------------------------------------------------------------------------------------------


def test_demo_month_end_to_end(
    client: Client, lake: Path, users: dict[str, Any], org_a: Organization
) -> None:
    from carbonmeter.readings.demo import demo_readings
    from carbonmeter.web.readings.demo_loader import load_demo_readings

    month = dt.date(2025, 12, 1)
    load_demo_readings(org_a, month)
    demo = demo_readings(month)
    meters = demo.files["meters.csv"]

    def judged(code: str) -> quality.PointQuality:
        return judge(org_a, code, month)

    line2 = [float(r["value"]) / 1000 for r in meters if r["point"] == "P22.2"]
    p222 = judged("P22.2")
    assert p222.counter is not None and p222.counter.counts["rollover"] == 1
    assert p222.counter.total == pytest.approx(line2[-1] + 10_000.0 - line2[0], abs=1e-6)

    p131 = judged("P13.1")
    assert p131.counter is not None and p131.counter.counts["across_event"] == 1
    assert [e.kind for e in p131.counter.events] == ["replacement"]

    p021 = judged("P02.1")
    assert p021.availability == pytest.approx(100 * (2976 - 24) / 2976)
    assert p021.substitution is not None and p021.substitution.substituted_slots == 24
    assert {r.rule for r in p021.substitution.runs} == {"mean_adjacent"}

    p031 = judged("P03.1")
    assert p031.validity is not None
    flags = {f.flag: f for f in p031.validity.flags}
    assert flags["after_failed"].readings > 0
    assert (flags["after_failed"].tonnes or 0) > 0

    for code in ("P25.1", "P25.2"):
        cems = judged(code).cems
        assert cems is not None
        (hour,) = [h for h in cems.hours if h.start == dt.datetime(2025, 12, 12, 2, tzinfo=LOCAL)]
        assert hour.flag == "insufficient" and hour.valid_minutes == 40
        # The loader records the flue's cross-section on P25.2 and the analyser's dry basis on P25.1.
        assert cems.duct_area_from == "P25.2" and cems.duct_area_m2 is not None
        assert cems.co2_basis == "dry" and cems.mass_missing == ()
        assert cems.co2_t is not None and cems.co2_t > 0

    # The pages of the same month: the flagged tonnes of P03.1, the short CEMS hour, the swap of P13.1.
    login(client, users["verifier_a"])
    point = MeasuringPoint.objects.get(organization=org_a, code="P03.1")
    assert number(page(client, point, "2025-12"), "flagged-tonnes") == pytest.approx(
        p031.validity.flagged_tonnes
    )
    html = page(client, MeasuringPoint.objects.get(organization=org_a, code="P25.1"), "2025-12")
    assert 'data-hour="2025-12-12T02:00:00+08:00" data-hour-flag="insufficient"' in html
    html = page(client, MeasuringPoint.objects.get(organization=org_a, code="P13.1"), "2025-12")
    assert 'data-event="replacement" data-status="applied"' in html
