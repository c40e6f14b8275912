"""Annual point values (``carbonmeter.readings.values``): hand-worked figures, the ledger path on a real lake,
CEMS from minute data, and properties."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings import cems
from carbonmeter.readings.engines import duckdb_backend
from carbonmeter.readings.series import LOCAL, UTC, Sample
from carbonmeter.readings.values import (
    ActivityProfile,
    MonthAmount,
    PointValue,
    activity_value,
    activity_values,
    cems_value,
    factor_value,
    gap_months,
    month_slots,
    stream_activity,
    year_span_slots,
)
from tests.readings.test_aggregate import Row, local, write_lake

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # inside ibis 12

QUARTER = ActivityProfile(unit="t", expected_interval=900)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL).astimezone(UTC)


def test_year_slots() -> None:
    assert year_span_slots(2025, 3600) == 365 * 24 == 8760
    assert year_span_slots(2024, 900) == 366 * 96 == 35136  # a leap year
    with pytest.raises(ValueError, match="positive"):
        year_span_slots(2025, 0)


def test_activity_total_availability_and_substituted_share_by_hand() -> None:
    months = [
        MonthAmount(date(2025, 1, 1), measured=100.0, n=2976),
        MonthAmount(date(2025, 2, 1), measured=50.0, n=2600, substituted=10.0),
        MonthAmount(date(2024, 12, 1), measured=999.0, n=2976),  # another year: not counted
    ]
    v = activity_value("P1", months, QUARTER, year=2025)
    # 100 + 50 + 10 = 160 t; (2976 + 2600) / 35,040 quarter hours of 2025; 10 of 160 substituted
    assert v.value == pytest.approx(160.0)
    assert v.unit == "t" and v.basis == "interval_sum" and v.n == 5576
    assert v.availability == pytest.approx(5576 / 35040)
    assert v.substituted_share == pytest.approx(10 / 160)


def test_activity_without_expected_interval_has_no_availability() -> None:
    v = activity_value("P1", [MonthAmount(date(2025, 3, 1), 7.0, 3)], ActivityProfile("t", None), year=2025)
    assert v.value == 7.0 and v.availability is None and v.substituted_share == 0.0


def test_factor_weighted_by_monthly_activity_by_hand() -> None:
    analyses = [
        Sample(at("2025-01-05 08:00"), 20.0),
        Sample(at("2025-01-20 08:00"), 22.0),  # January's mean 21
        Sample(at("2025-02-10 08:00"), 24.0),  # February's mean 24
        Sample(at("2025-03-10 08:00"), 30.0),  # March: no activity, so no weight
        Sample(at("2024-12-31 23:00"), 99.0),  # 2024 in Shanghai: not counted
    ]
    activity = {date(2025, 1, 1): 100.0, date(2025, 2, 1): 300.0, date(2025, 4, 1): 100.0}
    v = factor_value("P1.2", analyses, activity, year=2025, unit="GJ/t")
    assert v is not None
    # (100 × 21 + 300 × 24) / 400 = 9300 / 400 = 23.25; 400 of 500 t of activity analysed
    assert v.value == pytest.approx(23.25)
    assert v.basis == "activity_weighted_mean" and v.unit == "GJ/t"
    assert v.availability == pytest.approx(0.8)
    assert v.substituted_share == 0.0 and v.n == 4


def test_factor_without_activity_is_the_mean_of_monthly_means() -> None:
    analyses = [
        Sample(at("2025-01-05 08:00"), 20.0),
        Sample(at("2025-01-20 08:00"), 22.0),
        Sample(at("2025-02-10 08:00"), 24.0),
        Sample(at("2025-03-10 08:00"), 30.0),
    ]
    v = factor_value("P1.2", analyses, {}, year=2025, unit="%")
    assert v is not None
    # (21 + 24 + 30) / 3 = 25; 3 of 12 months analysed
    assert v.value == pytest.approx(25.0)
    assert v.basis == "unweighted_mean" and v.availability == pytest.approx(3 / 12)
    assert factor_value("P1.2", [], {date(2025, 1, 1): 1.0}, year=2025, unit="%") is None


def test_gap_months_are_those_short_of_the_profiles_slots() -> None:
    rows = [
        {"point": "P1", "period_start": date(2025, 2, 1), "n": 28 * 96, "total": 1.0},  # complete February
        {"point": "P1", "period_start": date(2025, 3, 1), "n": 31 * 96 - 1, "total": 1.0},  # one short
        {"point": "P2", "period_start": date(2025, 3, 1), "n": 1, "total": 1.0},  # no interval: no gap
        {"point": "P9", "period_start": date(2025, 3, 1), "n": 1, "total": 1.0},  # not profiled
    ]
    profiles = {"P1": QUARTER, "P2": ActivityProfile("t", None)}
    assert gap_months(rows, profiles, year=2025) == [("P1", date(2025, 3, 1))]
    assert month_slots(date(2025, 2, 1), 900) == 2688


def test_stream_activity_sums_points_and_substitution() -> None:
    a = [MonthAmount(date(2025, 1, 1), 10.0, 1, 2.0), MonthAmount(date(2025, 2, 1), 5.0, 1)]
    b = [MonthAmount(date(2025, 1, 1), 1.0, 1)]
    assert stream_activity([a, b]) == {date(2025, 1, 1): 13.0, date(2025, 2, 1): 5.0}


@dataclass(frozen=True)
class Hour:
    co2_t: float | None
    flow_std_dry_m3h: float | None
    co2_pct: float | None


def test_cems_flow_weighted_concentration_and_mass_by_hand() -> None:
    hours = [Hour(2.0, 1000.0, 20.0), Hour(3.0, 3000.0, 10.0), Hour(None, None, None)]
    v = cems_value("P25.1", hours, year=2025)
    assert v is not None
    # (20 × 1000 + 10 × 3000) / 4000 = 12.5 %; 2 + 3 = 5 t; 2 valid of 8,760 hours
    assert v.value == pytest.approx(12.5) and v.unit == "%"
    assert v.co2_t == pytest.approx(5.0)
    assert v.availability == pytest.approx(2 / 8760) and v.basis == "cems_hourly_mass"
    assert cems_value("P25.1", [Hour(None, None, None)], year=2025) is None


def test_cems_from_minute_data() -> None:
    """One valid hour of constant minutes: 10 % dry CO2, 10 m/s in a 1 m² duct at 0 °C, 101.325 kPa, dry gas:
    Q = 10 × 1 × 3600 = 36,000 m³/h standard dry; m = 0.10 × 36,000 × 44.01 / 22.414 / 1000 = 7.0686 t."""
    start = at("2025-06-01 10:00")
    minutes = [
        cems.CemsMinute(
            ts=start + dt.timedelta(minutes=i),
            co2_pct=10.0,
            velocity=10.0,
            temperature_c=0.0,
            pressure_kpa=101.325,
            humidity_pct=0.0,
        )
        for i in range(60)
    ]
    result = cems.hourly(
        minutes,
        start=start,
        end=start + dt.timedelta(hours=2),  # the second hour has no minute: insufficient
        duct_area=1.0,
        co2_basis="dry",
        valid_fraction=0.75,
    )
    v = cems_value("P25.1", result.hours, year=2025)
    assert v is not None
    assert v.co2_t == pytest.approx(0.10 * 36000 * 44.01 / 22.414 / 1000)
    assert v.co2_t == pytest.approx(7.0686, abs=1e-4)
    assert v.value == pytest.approx(10.0) and v.n == 1


def test_activity_values_from_the_ledger(tmp_path: Path) -> None:
    org = "91500000MA0000001X"
    rows = [
        Row(org, "P1", "consumption_mass", local("2025-01-01 00:00"), 1.0, 1),
        Row(org, "P1", "consumption_mass", local("2025-01-01 00:15"), 2.0, 1),
        Row(org, "P1", "consumption_mass", local("2025-02-01 00:00"), 3.0, 1),
        Row(org, "P1", "consumption_mass", local("2025-01-01 00:15"), 4.0, 2),  # a correction: 2 → 4
        Row(org, "P1", "consumption_mass", local("2024-12-31 23:45"), 50.0, 1),  # 2024: not counted
        # A register rolling over at 100: 90 → 95 (5, January: where the interval starts) → 5 (10, February)
        Row(org, "P2", "register_electricity", local("2025-01-31 23:45"), 90.0, 1),
        Row(org, "P2", "register_electricity", local("2025-02-01 00:00"), 95.0, 1),
        Row(org, "P2", "register_electricity", local("2025-02-01 00:15"), 5.0, 1),
    ]
    con = duckdb_backend(write_lake(tmp_path / "lake", rows))
    profiles = {
        "P1": QUARTER,
        "P2": ActivityProfile("MWh", 900, totalizer=True, counter_modulus=100.0),
    }
    values, gaps = activity_values(
        con, org=org, year=2025, profiles=profiles, substituted={("P1", date(2025, 1, 1)): 2.0}
    )
    p1, p2 = values["P1"], values["P2"]
    # P1: 1 + 4 (the correction wins) + 3 = 8 t measured, + 2 t substituted in January = 10 t
    assert p1.value == pytest.approx(10.0) and p1.n == 3
    assert p1.substituted_share == pytest.approx(0.2)
    assert p1.availability == pytest.approx(3 / 35040)
    # P2: 5 + 10 = 15 MWh over two counted intervals
    assert p2.value == pytest.approx(15.0) and p2.n == 2 and p2.basis == "totalizer_deltas"
    assert p2.unit == "MWh" and p2.substituted_share == 0.0
    # Every month here is short of its 2,976 / 2,688 quarter hours: each is a gap month.
    assert ("P1", date(2025, 1, 1)) in gaps and ("P1", date(2025, 2, 1)) in gaps


# ------------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------------

amount = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def month_amounts(draw: st.DrawFn) -> list[MonthAmount]:
    months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=12, unique=True))
    return [
        MonthAmount(date(2025, m, 1), draw(amount), draw(st.integers(0, 2976)), draw(amount)) for m in months
    ]


@settings(max_examples=200, deadline=None)
@given(month_amounts(), st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_every_reading_scales_the_total(months: list[MonthAmount], k: float) -> None:
    base = activity_value("P", months, QUARTER, year=2025)
    scaled_months = [MonthAmount(m.month, m.measured * k, m.n, m.substituted * k) for m in months]
    scaled = activity_value("P", scaled_months, QUARTER, year=2025)
    assert scaled.value == pytest.approx(base.value * k, rel=1e-9, abs=1e-9)
    assert scaled.availability == base.availability  # counts do not change with the values
    assert scaled.substituted_share == pytest.approx(base.substituted_share, rel=1e-9, abs=1e-9)
    assert 0.0 <= base.substituted_share <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.integers(1, 12),
        st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=4),
        min_size=1,
    ),
    st.dictionaries(st.integers(1, 12), st.floats(min_value=0.0, max_value=1e5), min_size=0),
)
def test_weighted_mean_lies_between_the_monthly_means(
    analyses: dict[int, list[float]], activity: dict[int, float]
) -> None:
    samples = [
        Sample(at(f"2025-{m:02d}-{1 + i:02d} 08:00"), v)
        for m, values in analyses.items()
        for i, v in enumerate(values)
    ]
    weights = {date(2025, m, 1): a for m, a in activity.items()}
    v = factor_value("P", samples, weights, year=2025, unit="%")
    assert isinstance(v, PointValue)
    means = [math.fsum(values) / len(values) for values in analyses.values()]
    assert min(means) - 1e-9 <= v.value <= max(means) + 1e-9
    assert v.availability is not None and 0.0 <= v.availability <= 1.0
