"""CEMS minute → hour: validity threshold, dry/wet and standard-condition conversion, hourly CO2 mass."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings import cems
from carbonmeter.readings.cems import (
    CO2_DENSITY_REAL,
    CemsMinute,
    hour_samples,
    needed_minutes,
)
from carbonmeter.readings.gaps import detect
from carbonmeter.readings.series import LOCAL, Span
from carbonmeter.readings.substitution import substitute
from carbonmeter.rules.loader import load_pack

H0 = dt.datetime(2025, 7, 1, 8, tzinfo=LOCAL)
AREA = 7.5
#: The share of valid minutes the built-in pack states (HJ 75-2017); the engine itself has no default.
HJ75 = float(load_pack("cq-part1").settings.cems_hour_valid_fraction.value or 0)
hourly = functools.partial(cems.hourly, valid_fraction=HJ75)


def minute(i: int, **over: float | None) -> CemsMinute:
    values: dict[str, float | None] = {
        "co2_pct": 11.0,
        "velocity": 12.0,
        "temperature_c": 120.0,
        "pressure_kpa": 99.0,
        "humidity_pct": 9.0,
    }
    values.update(over)
    return CemsMinute(ts=H0 + dt.timedelta(minutes=i, seconds=3), **values)


def test_hourly_mass_matches_a_hand_calculation() -> None:
    r = hourly(
        [minute(i) for i in range(60)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
    )
    (h,) = r.hours
    # By hand: 11 % wet at 9 % moisture; 12 m/s over 7.5 m² at 120 °C and 99 kPa absolute.
    c_dry = 11.0 / (1 - 0.09)  # 12.0879 % dry
    q_actual = 12.0 * 7.5 * 3600  # 324 000 m³/h at stack conditions
    q_std_dry = q_actual * (273.15 / (273.15 + 120.0)) * (99.0 / 101.325) * (1 - 0.09)  # 200 146 m³/h
    tonnes = (c_dry / 100) * q_std_dry * (44.01 / 22.414) / 1000  # CO2 m³/h × kg/m³ → t/h
    assert h.flag == "valid" and h.valid_minutes == 60
    assert h.co2_dry_pct == pytest.approx(c_dry)
    assert h.flow_std_dry_m3h == pytest.approx(q_std_dry)
    assert h.co2_t == pytest.approx(tonnes)
    assert h.co2_t == pytest.approx(47.504, abs=1e-3)
    assert r.co2_t == pytest.approx(tonnes)
    real = hourly(
        [minute(i) for i in range(60)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
        density=CO2_DENSITY_REAL,
    )
    assert real.hours[0].co2_t == pytest.approx((c_dry / 100) * q_std_dry * 1.9768 / 1000)


def test_dry_basis_is_not_converted_again() -> None:
    r = hourly(
        [minute(i, co2_pct=12.0) for i in range(60)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="dry",
    )
    assert r.hours[0].co2_dry_pct == pytest.approx(12.0)


def test_hour_mean_is_the_mean_of_minutes() -> None:
    minutes = [minute(i, co2_pct=10.0 if i < 30 else 12.0, humidity_pct=0.0) for i in range(60)]
    r = hourly(minutes, start=H0, end=H0 + dt.timedelta(hours=1), duct_area=AREA, co2_basis="wet")
    assert r.hours[0].co2_dry_pct == pytest.approx(11.0)


@pytest.mark.parametrize(("count", "flag"), [(45, "valid"), (44, "insufficient"), (0, "insufficient")])
def test_three_quarters_of_the_minutes_make_a_valid_hour(count: int, flag: str) -> None:
    r = hourly(
        [minute(i) for i in range(count)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
    )
    h = r.hours[0]
    assert h.flag == flag and h.valid_minutes == count and h.needed_minutes == 45
    if flag == "insufficient":
        assert (h.co2_dry_pct, h.flow_std_dry_m3h, h.co2_t) == (None, None, None)
        assert r.co2_t == 0 and r.invalid_hours == (h,)
    else:
        assert h.co2_t is not None and h.co2_t > 0 and r.co2_t == h.co2_t and r.invalid_hours == ()


def test_threshold_is_configurable() -> None:
    r = hourly(
        [minute(i) for i in range(50)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
        valid_fraction=0.9,
    )
    assert r.hours[0].needed_minutes == 54 and r.hours[0].flag == "insufficient"
    with pytest.raises(ValueError, match="valid_fraction"):
        needed_minutes(0.0)


def test_missing_or_impossible_values_make_a_minute_invalid_not_zero() -> None:
    bad = [
        minute(0, co2_pct=None),
        minute(1, humidity_pct=100.0),
        minute(2, pressure_kpa=0.0),
        minute(3, velocity=float("nan")),
        minute(4, temperature_c=-300.0),
        minute(5, co2_pct=-1.0),
    ]
    good = [minute(i) for i in range(6, 60)]
    r = hourly(bad + good, start=H0, end=H0 + dt.timedelta(hours=1), duct_area=AREA, co2_basis="wet")
    h = r.hours[0]
    assert h.valid_minutes == 54 and h.invalid_minutes == 6
    ref = hourly(good, start=H0, end=H0 + dt.timedelta(hours=1), duct_area=AREA, co2_basis="wet")
    assert h.co2_t == ref.hours[0].co2_t  # the invalid minutes pulled nothing towards zero


def test_duplicate_records_in_a_minute_weigh_as_one_minute() -> None:
    minutes = [minute(i, co2_pct=10.0, humidity_pct=0.0) for i in range(60)]
    minutes.append(minute(0, co2_pct=40.0, humidity_pct=0.0))
    r = hourly(minutes, start=H0, end=H0 + dt.timedelta(hours=1), duct_area=AREA, co2_basis="wet")
    h = r.hours[0]
    assert h.duplicate_minutes == 1 and h.valid_minutes == 60
    assert h.co2_dry_pct == pytest.approx((59 * 10.0 + (10.0 + 40.0) / 2) / 60)


def test_minutes_outside_the_hours_are_returned() -> None:
    late = minute(75)
    r = hourly(
        [*(minute(i) for i in range(60)), late],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
    )
    assert r.outside == (late,)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="whole hour"):
        hourly(
            [],
            start=H0 + dt.timedelta(minutes=5),
            end=H0 + dt.timedelta(hours=1),
            duct_area=1,
            co2_basis="wet",
        )
    with pytest.raises(ValueError, match="duct area"):
        hourly([], start=H0, end=H0 + dt.timedelta(hours=1), duct_area=0, co2_basis="wet")
    with pytest.raises(ValueError, match="co2_basis"):
        hourly([], start=H0, end=H0 + dt.timedelta(hours=1), duct_area=1, co2_basis="moist")  # type: ignore[arg-type]


def test_an_invalid_hour_becomes_a_gap_for_substitution() -> None:
    # Hours 08, 09, 10: the middle one has 30 minutes only.
    minutes = [minute(i) for i in range(60)]
    minutes += [minute(60 + i, co2_pct=13.0) for i in range(30)]
    minutes += [minute(120 + i, co2_pct=15.0) for i in range(60)]
    end = H0 + dt.timedelta(hours=3)
    r = hourly(minutes, start=H0, end=end, duct_area=AREA, co2_basis="wet")
    assert [h.flag for h in r.hours] == ["valid", "insufficient", "valid"]
    conc = hour_samples(r, "co2_dry_pct")
    report = detect([s.ts for s in conc], Span(H0, end), 3600)
    assert report.missing == (Span(H0 + dt.timedelta(hours=1), H0 + dt.timedelta(hours=2)),)
    filled = substitute(conc, report, "mean_adjacent")
    (fill,) = filled.fills
    assert fill.value == pytest.approx((11.0 + 15.0) / 2 / (1 - 0.09))


# --- properties --------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    present=st.sets(st.integers(0, 59), max_size=60),
    fraction=st.sampled_from([0.5, 0.75, 0.8, 0.9, 1.0]),
)
def test_an_hour_below_the_threshold_is_invalid(present: set[int], fraction: float) -> None:
    r = hourly(
        [minute(i) for i in sorted(present)],
        start=H0,
        end=H0 + dt.timedelta(hours=1),
        duct_area=AREA,
        co2_basis="wet",
        valid_fraction=fraction,
    )
    h = r.hours[0]
    assert h.valid == (len(present) / 60 >= fraction)
    assert (h.co2_t is None) == (not h.valid)


@st.composite
def cems_minutes(draw: st.DrawFn) -> list[CemsMinute]:
    keep = draw(st.sets(st.integers(0, 119), min_size=80, max_size=120))
    return [
        minute(
            i,
            co2_pct=draw(st.floats(0, 25)),
            velocity=draw(st.floats(0.1, 40)),
            temperature_c=draw(st.floats(-20, 400)),
            pressure_kpa=draw(st.floats(80, 110)),
            humidity_pct=draw(st.floats(0, 40)),
        )
        for i in sorted(keep)
    ]


@settings(max_examples=150, deadline=None)
@given(cems_minutes(), st.floats(0.01, 100))
def test_scaling_flows_by_k_scales_hourly_mass_by_k(minutes: list[CemsMinute], k: float) -> None:
    end = H0 + dt.timedelta(hours=2)
    base = hourly(minutes, start=H0, end=end, duct_area=AREA, co2_basis="wet")
    scaled_minutes = [
        CemsMinute(
            ts=m.ts,
            co2_pct=m.co2_pct,
            velocity=None if m.velocity is None else m.velocity * k,
            temperature_c=m.temperature_c,
            pressure_kpa=m.pressure_kpa,
            humidity_pct=m.humidity_pct,
        )
        for m in minutes
    ]
    scaled = hourly(scaled_minutes, start=H0, end=end, duct_area=AREA, co2_basis="wet")
    for a, b in zip(base.hours, scaled.hours, strict=True):
        assert a.flag == b.flag
        if a.co2_t is not None:
            assert b.co2_t == pytest.approx(a.co2_t * k, rel=1e-9, abs=1e-12)
    # Scaling the duct area is the same as scaling the velocity.
    by_area = hourly(minutes, start=H0, end=end, duct_area=AREA * k, co2_basis="wet")
    assert by_area.co2_t == pytest.approx(scaled.co2_t, rel=1e-9, abs=1e-12)
