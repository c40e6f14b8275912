"""The demo month carries each situation the data-quality chain must show (issue 4, "Done when")."""

from __future__ import annotations

import itertools
import math
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


def test_the_mine_network_is_significant_in_the_demo_month_only_and_names_the_line_meter(demo) -> None:
    """The network's hourly registers, totalled per month as register deltas (credited to the month of
    the later reading), judged with each meter's class MPE/√3 (KS-02, KS-03 class 1.0; KS-04 0.5S) and
    k = 2: the two months before balance within U95, the demo month does not and names KS-02."""
    from carbonmeter.quant.balance import Meter, judge
    from carbonmeter.readings.demo import NETWORK_FACTORS

    rows = demo.files["network.csv"]
    assert {r["point"] for r in rows} == {"P22.3", "P22.7", "P22.8"}
    assert [p.code for p in demo.points] == ["P22.7", "P22.8"]
    assert demo.network == {"KS-04": "KS-02", "KS-03": "KS-02"}
    months: dict[str, dict[tuple[int, int], float]] = {}
    for point in ("P22.3", "P22.7", "P22.8"):
        readings = series(demo, point)
        totals: dict[tuple[int, int], float] = {}
        for (_, a), (ts, b) in itertools.pairwise(readings):
            totals[(ts.year, ts.month)] = totals.get((ts.year, ts.month), 0.0) + (b - a) / 1000  # MWh
        months[point] = totals
    assert sorted(months["P22.3"]) == [(2026, 8), (2026, 9), (2026, 10)]
    u_class_1, u_05s = 0.01 / math.sqrt(3), 0.005 / math.sqrt(3)
    verdicts = {}
    for month in sorted(months["P22.3"]):
        b = judge(
            Meter("KS-02", months["P22.3"][month], u_class_1),
            [
                Meter("KS-04", months["P22.7"][month], u_05s),
                Meter("KS-03", months["P22.8"][month], u_class_1),
            ],
            k=2.0,
        )
        verdicts[month] = (b.significant, b.suspect)
        # ~1,250 kW for a month is ~900 MWh on the line
        assert 800 < months["P22.3"][month] < 1000
    assert verdicts == {(2026, 8): (False, None), (2026, 9): (False, None), (2026, 10): (True, "KS-02")}
    assert NETWORK_FACTORS["KS-02"][-1] == 1.03  # the planted fault
