"""The demo month carries each situation the data-quality chain must show (issue 4, "Done when")."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime

import pytest

from carbonmeter.readings.demo import KWH_MODULUS, demo_readings

MONTH = date(2026, 10, 1)


@pytest.fixture(scope="module")
def demo():
    return demo_readings(MONTH)


def series(demo, point):
    rows = [r for rows in demo.files.values() for r in rows if r["point"] == point]
    return [(datetime.fromisoformat(r["ts"]), float(r["value"])) for r in rows]


def test_is_deterministic(demo) -> None:
    assert demo_readings(MONTH).files == demo.files


def test_refuses_a_month_that_does_not_start_on_day_one() -> None:
    with pytest.raises(ValueError, match="first day"):
        demo_readings(date(2026, 10, 2))


def test_line_ii_register_rolls_over_exactly_once_below_the_modulus(demo) -> None:
    values = [v for _, v in series(demo, "P22.2")]
    drops = [(a, b) for a, b in itertools.pairwise(values) if b < a]
    assert len(drops) == 1
    before, after = drops[0]
    assert before > 0.99 * KWH_MODULUS and after < 0.01 * KWH_MODULUS
    assert max(values) < KWH_MODULUS


def test_gas_meter_swap_event_matches_the_registers(demo) -> None:
    (event,) = demo.events
    readings = series(demo, "P13.1")
    last_old = max(v for ts, v in readings if ts < event.ts)
    first_new = min(v for ts, v in readings if ts >= event.ts)
    assert event.kind == "replacement" and event.new_start == 0.0
    assert last_old <= event.old_end < last_old + 200  # the old register moved on until the swap
    assert first_new < 200  # the new meter starts from zero


def test_gaps_are_where_the_docstring_says(demo) -> None:
    counts = Counter(r["point"] for r in demo.files["meters.csv"])
    assert counts["P01.1"] == 31 * 96
    assert counts["P01.1"] - counts["P02.1"] == 24  # six hours on day 17
    assert counts["P01.1"] - counts["P22.1"] == 20  # five hours across midnight of day 25
    missing = {ts for ts, _ in series(demo, "P01.1")} - {ts for ts, _ in series(demo, "P22.1")}
    assert {ts.day for ts in missing} == {25, 26}


def test_cems_hour_with_too_few_minutes(demo) -> None:
    minutes = [ts for ts, _ in series(demo, "P25.1") if ts.day == 12 and ts.hour == 2]
    assert len(minutes) == 40  # below the 45 minutes (75 %) a valid hour needs


def test_failed_calibration_is_followed_by_a_pass(demo) -> None:
    fail, passed = demo.calibrations
    assert (fail.instrument, fail.result, passed.result) == ("L2-01", "fail", "pass")
    assert fail.on.month == MONTH.month and passed.on > fail.on


def test_one_lab_value_is_out_of_range(demo) -> None:
    profile = {p.point: p for p in demo.profiles}["P05.2"]
    out = [v for _, v in series(demo, "P05.2") if not profile.min_value <= v <= profile.max_value]
    assert out == [165.0]
