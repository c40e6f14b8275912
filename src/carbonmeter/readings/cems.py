"""CEMS (烟气排放连续监测): minute data → valid hours → hourly CO2 mass in tonnes.

The calculation follows HJ 75-2017 (固定污染源烟气排放连续监测技术规范) and HJ 76-2017, as used by the
Chinese CO2 CEMS guidance:

1. Dry basis (HJ 75-2017 formula for 干基浓度): ``c_dry = c_wet / (1 − X_sw)`` with ``X_sw`` the flue-gas
   moisture as a volume fraction (humidity % / 100).
2. Actual flow (wet, at stack conditions): ``Q_s = v × F × 3600`` m³/h from the mean velocity ``v`` (m/s) and
   the duct cross-section ``F`` (m²).
3. Standard-condition dry flow (HJ 75-2017 标干流量, 273.15 K and 101.325 kPa):
   ``Q_snd = Q_s × 273.15 / (273.15 + t_s) × P_s / 101.325 × (1 − X_sw)`` with ``t_s`` in °C and ``P_s``
   the absolute stack pressure in kPa (HJ 75 writes it as B_a + P_s: barometric plus static pressure).
4. Hourly values (HJ 75-2017 小时均值): the mean of the valid minute values; an hour counts only when at
   least ``valid_fraction`` of its minutes are valid (HJ 75-2017: 0.75, i.e. 45 of 60 minutes; the value
   comes from the rule pack's ``cems_hour_valid_fraction`` or the point profile, never from here).  An
   hour short of that is *invalid*: it is flagged and left without values — never averaged from too few
   minutes — for :mod:`carbonmeter.readings.substitution` to deal with under a stated rule.
5. Hourly mass (HJ 75-2017 排放量 = 小时均值浓度 × 小时标干流量): with ``c`` in % (v/v) dry, the CO2 volume
   at standard conditions is ``c / 100 × Q_snd`` m³ per hour; times the CO2 density at standard conditions
   ``ρ`` (kg/m³) and ÷ 1000 for tonnes::

       m_CO2 [t/h] = c_dry [%] / 100 × Q_snd [m³/h] × ρ [kg/m³] / 1000

   The default ``ρ = 44.01 / 22.414 = 1.9635 kg/m³`` is the ideal-gas value (molar mass over the molar
   volume 22.414 L/mol at 273.15 K, 101.325 kPa), as HJ 75 converts volume to mass concentrations
   (M / 22.4).  The measured density of real CO2 at those conditions, 1.9768 kg/m³
   (:data:`CO2_DENSITY_REAL`), is 0.7 % higher; pass it as ``density`` where a method prescribes it.

A minute is valid when all five values are present, finite and physically possible (humidity in
[0, 100), absolute temperature above 0 K, pressure above 0, velocity and CO2 not negative).  Minute
records outside the hours asked for are returned, not dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Final, Literal

from msgspec import Struct

from carbonmeter.readings.series import Sample, Span

#: The CEMS set of one stack (:func:`hourly` needs all five quantities), in the order pages list them.
CEMS_SET: Final = ("co2_concentration", "flow_velocity", "temperature", "humidity", "pressure")

T0_K = 273.15
P0_KPA = 101.325
MOLAR_VOLUME_L = 22.414
CO2_MOLAR_MASS = 44.01
#: CO2 density at 273.15 K and 101.325 kPa, ideal gas (kg/m³).
CO2_DENSITY = CO2_MOLAR_MASS / MOLAR_VOLUME_L
#: CO2 density at 273.15 K and 101.325 kPa, measured (real gas) (kg/m³).
CO2_DENSITY_REAL = 1.9768

Basis = Literal["wet", "dry"]
HourFlag = Literal["valid", "insufficient"]
HourField = Literal["co2_dry_pct", "flow_std_dry_m3h", "co2_t"]

_HOUR = dt.timedelta(hours=1)
_MINUTE = dt.timedelta(minutes=1)


def dry_from_wet(c_wet: float, humidity_pct: float) -> float:
    """Concentration on a dry basis from one on a wet basis: ``c / (1 − X_sw)``."""
    return c_wet / (1 - humidity_pct / 100)


def flow_actual_m3h(velocity: float, duct_area: float) -> float:
    """Actual (stack-condition, wet) flow in m³/h from velocity (m/s) and duct area (m²)."""
    return velocity * duct_area * 3600


def flow_std_dry_m3h(
    velocity: float, duct_area: float, temperature_c: float, pressure_kpa: float, humidity_pct: float
) -> float:
    """Dry flow at 273.15 K, 101.325 kPa in m³/h (HJ 75-2017 标干流量)."""
    return (
        flow_actual_m3h(velocity, duct_area)
        * T0_K
        / (T0_K + temperature_c)
        * pressure_kpa
        / P0_KPA
        * (1 - humidity_pct / 100)
    )


def co2_mass_t(
    co2_dry_pct: float, flow_std_dry: float, *, hours: float = 1.0, density: float = CO2_DENSITY
) -> float:
    """CO2 mass in tonnes: ``c_dry/100 × Q_snd × hours × ρ / 1000`` (``Q_snd`` in m³/h, ``ρ`` in kg/m³)."""
    return co2_dry_pct / 100 * flow_std_dry * hours * density / 1000


class CemsMinute(Struct, frozen=True, kw_only=True, gc=False):
    """One minute record of a CEMS.  A missing value is None (it makes the minute invalid, never 0)."""

    ts: dt.datetime
    co2_pct: float | None
    velocity: float | None
    temperature_c: float | None
    pressure_kpa: float | None
    humidity_pct: float | None


def minute_valid(m: CemsMinute) -> bool:
    """All five values present, finite and physically possible."""
    values = (m.co2_pct, m.velocity, m.temperature_c, m.pressure_kpa, m.humidity_pct)
    if any(v is None or not math.isfinite(v) for v in values):
        return False
    assert m.co2_pct is not None and m.velocity is not None and m.temperature_c is not None
    assert m.pressure_kpa is not None and m.humidity_pct is not None
    return (
        m.co2_pct >= 0
        and m.velocity >= 0
        and m.temperature_c > -T0_K
        and m.pressure_kpa > 0
        and 0 <= m.humidity_pct < 100
    )


class CemsHour(Struct, frozen=True, kw_only=True):
    start: dt.datetime
    end: dt.datetime
    flag: HourFlag
    expected_minutes: int
    #: Minimum valid minutes for a valid hour (``ceil(valid_fraction × expected)``).
    needed_minutes: int
    valid_minutes: int
    #: Minute records present but invalid (missing or impossible values).
    invalid_minutes: int
    #: Minutes with more than one valid record (their values are averaged within the minute).
    duplicate_minutes: int
    #: Hourly means and mass; None for an invalid hour.
    co2_dry_pct: float | None = None
    flow_std_dry_m3h: float | None = None
    co2_t: float | None = None

    @property
    def valid(self) -> bool:
        return self.flag == "valid"


class CemsResult(Struct, frozen=True, kw_only=True):
    hours: tuple[CemsHour, ...]
    #: Minute records outside the hours asked for.
    outside: tuple[CemsMinute, ...] = ()

    @property
    def co2_t(self) -> float:
        """CO2 tonnes of the valid hours (invalid hours need a substitution rule, they are not in here)."""
        return math.fsum(h.co2_t for h in self.hours if h.co2_t is not None)

    @property
    def invalid_hours(self) -> tuple[CemsHour, ...]:
        return tuple(h for h in self.hours if not h.valid)


def _whole_hour(ts: dt.datetime, what: str) -> None:
    if ts.tzinfo is None or ts.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) != ts:
        raise ValueError(f"{what} {ts.isoformat()} must be a tz-aware whole hour")


def needed_minutes(valid_fraction: float, expected: int = 60) -> int:
    """Smallest count of valid minutes that reaches ``valid_fraction`` of ``expected``."""
    if not 0 < valid_fraction <= 1:
        raise ValueError(f"valid_fraction must be in (0, 1], got {valid_fraction}")
    return math.ceil(round(valid_fraction * expected, 9))


def _mean_of_minute_means(minutes: list[list[float]]) -> float:
    """Mean over minutes of each minute's mean (duplicate records weigh as one minute)."""
    return math.fsum(math.fsum(r) / len(r) for r in minutes) / len(minutes)


def hourly(
    minutes: Sequence[CemsMinute],
    *,
    start: dt.datetime,
    end: dt.datetime,
    duct_area: float,
    co2_basis: Basis,
    valid_fraction: float,
    density: float = CO2_DENSITY,
) -> CemsResult:
    """Hours ``[start, end)`` (whole hours) from minute records, each flagged valid or insufficient.

    ``co2_basis`` states whether the analyser reports CO2 wet or dry; it has no default on purpose.  A minute
    record belongs to the minute its instant falls in.
    """
    _whole_hour(start, "start")
    _whole_hour(end, "end")
    if end < start:
        raise ValueError("end is before start")
    if duct_area <= 0:
        raise ValueError(f"duct area must be positive, got {duct_area}")
    if co2_basis not in ("wet", "dry"):
        raise ValueError(f"co2_basis must be 'wet' or 'dry', got {co2_basis!r}")
    needed = needed_minutes(valid_fraction)
    span = Span(start, end)
    # (hour index, minute index) -> derived values of the valid records in that minute
    slots: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    invalid: dict[int, set[int]] = defaultdict(set)
    outside: list[CemsMinute] = []
    for m in minutes:
        if not span.contains(m.ts):
            outside.append(m)
            continue
        minute = (m.ts - start) // _MINUTE
        key = (minute // 60, minute % 60)
        if not minute_valid(m):
            invalid[key[0]].add(key[1])
            continue
        assert m.co2_pct is not None and m.humidity_pct is not None and m.velocity is not None
        assert m.temperature_c is not None and m.pressure_kpa is not None
        co2 = m.co2_pct if co2_basis == "dry" else dry_from_wet(m.co2_pct, m.humidity_pct)
        flow = flow_std_dry_m3h(m.velocity, duct_area, m.temperature_c, m.pressure_kpa, m.humidity_pct)
        slots[key].append((co2, flow))

    by_hour: dict[int, dict[int, list[tuple[float, float]]]] = defaultdict(dict)
    for (h, mi), records in slots.items():
        by_hour[h][mi] = records
    hours: list[CemsHour] = []
    for h in range((end - start) // _HOUR):
        minute_records = by_hour.get(h, {})
        valid_minutes = len(minute_records)
        valid = valid_minutes >= needed
        co2_mean = flow_mean = mass = None
        if valid:
            co2_mean = _mean_of_minute_means([[c for c, _ in r] for r in minute_records.values()])
            flow_mean = _mean_of_minute_means([[q for _, q in r] for r in minute_records.values()])
            mass = co2_mass_t(co2_mean, flow_mean, density=density)
        hours.append(
            CemsHour(
                start=start + h * _HOUR,
                end=start + (h + 1) * _HOUR,
                flag="valid" if valid else "insufficient",
                expected_minutes=60,
                needed_minutes=needed,
                valid_minutes=valid_minutes,
                invalid_minutes=len(invalid.get(h, set()) - minute_records.keys()),
                duplicate_minutes=sum(len(r) > 1 for r in minute_records.values()),
                co2_dry_pct=co2_mean,
                flow_std_dry_m3h=flow_mean,
                co2_t=mass,
            )
        )
    return CemsResult(hours=tuple(hours), outside=tuple(outside))


def hour_samples(result: CemsResult, field: HourField) -> list[Sample]:
    """One hourly field of the valid hours as samples stamped at the hour start.

    Invalid hours are absent, so ``gaps.detect(..., interval=3600)`` names them as missing and
    ``substitution.substitute`` can fill them by the point's rule.
    """
    out: list[Sample] = []
    for h in result.hours:
        value = getattr(h, field)
        if value is not None:
            out.append(Sample(h.start, float(value)))
    return out
