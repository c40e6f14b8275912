"""Annual point values (年度值): a measuring point's readings of a reporting year become the one quantity the
snapshot carries for it (contract v1.1 §6.1, ``measuring_points[].value``/``unit``/``availability``/
``substituted_share``) — pure: no Django, no files.

The figures come from the engines that already total the readings, so the snapshot, the data ledger and the
point-month quality page cannot disagree:

* **Activity amounts** (interval quantities summed, totalizers differenced): the year's total is the sum of
  the data ledger's monthly totals (:func:`carbonmeter.readings.aggregate.totals`, ``period="month"``: day
  sums, corrections resolved "latest batch wins", totalizer deltas with rollovers and recorded counter
  events as :mod:`carbonmeter.readings.counters` defines them, each delta in the month its interval starts
  in) plus, for a month with gaps, what the point's substitution rule put in them (the quality page's
  ``Totals.substituted`` of that month). A month without any reading is **not** filled: a whole month
  invented from one neighbour is not substitution; it stays out of the value and lowers the availability.
  Totalizers need no substitution (a delta over a gap spans it).
* **Laboratory factors** (role ``emission_factor``: ncv, carbon content, CaO …): the year's mean weighted by
  the same stream's monthly activity amount. Each month's analyses are averaged (arithmetic mean, every
  analysis weighing alike); the year's value is ``Σ_m A_m · x̄_m / Σ_m A_m`` over the months that have both
  analyses and activity (``A_m`` the stream's activity in month ``m``: its activity points' monthly amounts
  summed, those of the first activity point's unit). That is the factor which, multiplied by the annual
  activity, gives the sum of the monthly products — the emissions month by month. A month with activity
  but no analysis is left out of the mean (the mean of the analysed months stands in for it); the share of
  the activity that rests on analysed months is the factor's *availability*. Without any activity data the
  mean of the monthly means is taken (basis ``unweighted_mean``; availability = months analysed / 12).
  Analyses are never substituted (``substituted_share`` 0).
* **CEMS**: the stack's hourly CO2 masses (:mod:`carbonmeter.readings.cems`: valid hours only; an hour short
  of the valid-minute share has no mass) summed to the year's ``co2_t``; the CO2 concentration point's own
  value is the flow-weighted mean dry concentration of the valid hours, ``Σ c_h·Q_h / Σ Q_h`` (%), the one
  concentration that with the year's flow gives the year's mass. Availability = valid hours / hours of the
  year.

**Availability** is the share of the year's expected intervals (the profile's ``expected_interval``; hours
for CEMS) with a measured value: ``n / slots of the whole year``, at most 1. **Substituted share** is the
share of the value resting on substituted data: ``substituted / (measured + substituted)``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from carbonmeter.readings.series import Sample, period_key, period_span

Basis = Literal[
    "interval_sum",  # interval readings summed (+ substituted gaps)
    "totalizer_deltas",  # totalizer deltas summed
    "activity_weighted_mean",  # lab analyses: monthly means weighted by the stream's monthly activity
    "unweighted_mean",  # lab analyses without activity data: mean of the monthly means
    "cems_hourly_mass",  # CEMS: valid hours' CO2 masses summed, flow-weighted mean concentration
]
BASES: tuple[Basis, ...] = (
    "interval_sum",
    "totalizer_deltas",
    "activity_weighted_mean",
    "unweighted_mean",
    "cems_hourly_mass",
)


@dataclass(frozen=True)
class PointValue:
    """A point's annual value and how much of it rests on data (contract v1.1 §6.1)."""

    point: str
    value: float
    #: Canonical unit of the value (pint spelling, ``readings/quantities.yaml``).
    unit: str
    #: Share (0–1) of the year's expected intervals (hours, months) with measured data; None: nothing is
    #: expected (no interval configured).
    availability: float | None
    #: Share (0–1) of the value resting on substituted data.
    substituted_share: float
    basis: Basis
    #: Readings, totalizer intervals, analyses or valid hours the value rests on.
    n: int
    #: CEMS: the year's CO2 mass of the stack from the hourly masses (t); None elsewhere.
    co2_t: float | None = None


@dataclass(frozen=True)
class MonthAmount:
    """One month of an activity point: the ledger's measured total and count, and the substituted amount."""

    month: date
    measured: float
    n: int
    substituted: float = 0.0


@dataclass(frozen=True)
class ActivityProfile:
    """What an activity point's annual value needs besides its months."""

    unit: str
    #: Seconds between expected readings; None: no expectation (availability is then None).
    expected_interval: int | None
    totalizer: bool = False
    #: Totalizers: the register rolls over at this value (canonical unit); None: never.
    counter_modulus: float | None = None


class HourLike(Protocol):
    """A CEMS hour (:class:`carbonmeter.readings.cems.CemsHour` or the quality page's ``HourRow``)."""

    @property
    def co2_t(self) -> float | None: ...

    @property
    def flow_std_dry_m3h(self) -> float | None: ...


def year_span_slots(year: int, interval: int) -> int:
    """Slots of ``interval`` seconds in the Asia/Shanghai calendar year (8,760 hours, 35,040 quarters)."""
    if interval <= 0:
        raise ValueError(f"expected interval must be positive, got {interval}")
    span = period_span(date(year, 1, 1), "year")
    return -(-int(span.seconds) // interval)


def _share(part: float, whole: float) -> float:
    return min(max(part / whole, 0.0), 1.0) if whole > 0 else 0.0


def activity_value(
    point: str, months: Iterable[MonthAmount], profile: ActivityProfile, *, year: int
) -> PointValue:
    """The year's activity total of ``point`` from its monthly amounts (months of other years are ignored)."""
    own = [m for m in months if m.month.year == year]
    measured = math.fsum(m.measured for m in own)
    substituted = math.fsum(m.substituted for m in own)
    value = math.fsum((measured, substituted))
    n = sum(m.n for m in own)
    availability = None
    if profile.expected_interval:
        availability = min(n / year_span_slots(year, profile.expected_interval), 1.0)
    return PointValue(
        point=point,
        value=value,
        unit=profile.unit,
        availability=availability,
        substituted_share=_share(substituted, value),
        basis="totalizer_deltas" if profile.totalizer else "interval_sum",
        n=n,
    )


def ledger_months(rows: Iterable[Mapping[str, Any]], *, year: int) -> dict[str, list[MonthAmount]]:
    """Monthly amounts per point from the data ledger's rows (``aggregate.totals(period="month")``: ``point,
    period_start, total, n``) of ``year``; a month whose total is null or NaN has no amount."""
    out: dict[str, list[MonthAmount]] = defaultdict(list)
    for r in rows:
        start = r.get("period_start")
        total = r.get("total")
        if not isinstance(start, date) or start.year != year or total is None:
            continue
        number = float(total)
        if math.isnan(number):
            continue
        out[str(r["point"])].append(MonthAmount(start, number, int(r.get("n") or 0)))
    return dict(out)


def month_slots(month: date, interval: int) -> int:
    """Slots of ``interval`` seconds in the Asia/Shanghai month starting ``month`` (the ledger's
    ``expected``)."""
    return -(-int(period_span(month, "month").seconds) // interval)


def gap_months(
    rows: Iterable[Mapping[str, Any]], profiles: Mapping[str, ActivityProfile], *, year: int
) -> list[tuple[str, date]]:
    """(point, month) of ``year`` whose ledger row counts fewer readings than the profile's interval expects:
    the only months whose substitution needs the readings themselves."""
    out = []
    for r in rows:
        start, point = r.get("period_start"), str(r.get("point"))
        profile = profiles.get(point)
        if not isinstance(start, date) or start.year != year or profile is None:
            continue
        if profile.expected_interval and int(r.get("n") or 0) < month_slots(start, profile.expected_interval):
            out.append((point, start))
    return sorted(out)


def with_substitution(months: Sequence[MonthAmount], substituted: Mapping[date, float]) -> list[MonthAmount]:
    """``months`` with the substituted amount of each month that has one."""
    return [
        MonthAmount(m.month, m.measured, m.n, math.fsum((m.substituted, substituted.get(m.month, 0.0))))
        for m in months
    ]


def monthly_means(analyses: Iterable[Sample], *, year: int) -> dict[date, tuple[float, int]]:
    """Per Asia/Shanghai month of ``year``: the mean of the month's analyses and their count."""
    by_month: dict[date, list[float]] = defaultdict(list)
    for s in analyses:
        month = period_key(s.ts, "month")
        if month.year == year and math.isfinite(s.value):
            by_month[month].append(s.value)
    return {m: (math.fsum(v) / len(v), len(v)) for m, v in sorted(by_month.items())}


def factor_value(
    point: str,
    analyses: Iterable[Sample],
    activity: Mapping[date, float],
    *,
    year: int,
    unit: str,
) -> PointValue | None:
    """The year's activity-weighted mean of ``point``'s analyses (see the module docstring); None without any
    analysis in ``year``. ``activity`` maps a month to the stream's activity amount in it."""
    means = monthly_means(analyses, year=year)
    if not means:
        return None
    n = sum(count for _, count in means.values())
    weights = {m: a for m, a in activity.items() if m.year == year and a > 0 and math.isfinite(a)}
    covered = {m: weights[m] for m in means if m in weights}
    if covered:
        total_weight = math.fsum(covered.values())
        value = math.fsum(covered[m] * means[m][0] for m in covered) / total_weight
        availability = _share(total_weight, math.fsum(weights.values()))
        basis: Basis = "activity_weighted_mean"
    else:
        value = math.fsum(mean for mean, _ in means.values()) / len(means)
        availability = len(means) / 12
        basis = "unweighted_mean"
    return PointValue(
        point=point,
        value=value,
        unit=unit,
        availability=availability,
        substituted_share=0.0,
        basis=basis,
        n=n,
    )


def stream_activity(months: Iterable[Sequence[MonthAmount]]) -> dict[date, float]:
    """A stream's monthly activity: its activity points' monthly amounts (measured + substituted) summed."""
    out: dict[date, float] = defaultdict(float)
    for point_months in months:
        for m in point_months:
            out[m.month] += m.measured + m.substituted
    return dict(out)


def cems_value(
    point: str, hours: Iterable[HourLike], *, year: int, hours_in_year: int | None = None
) -> PointValue | None:
    """The stack's year from its hours (the CO2 concentration point's value, see the module docstring);
    None when no hour has a mass. ``hours_in_year`` defaults to the calendar year's hours."""
    valid = [
        h for h in hours if h.co2_t is not None and h.flow_std_dry_m3h is not None and h.flow_std_dry_m3h > 0
    ]
    if not valid:
        return None
    flow = math.fsum(h.flow_std_dry_m3h or 0.0 for h in valid)
    co2_t = math.fsum(h.co2_t or 0.0 for h in valid)
    # The flow-weighted mean: with the year's flow and the CO2 density it gives the year's mass.
    weighted = math.fsum(_co2_pct(h) * (h.flow_std_dry_m3h or 0.0) for h in valid) / flow
    expected = hours_in_year if hours_in_year is not None else year_span_slots(year, 3600)
    return PointValue(
        point=point,
        value=weighted,
        unit="%",
        availability=min(len(valid) / expected, 1.0),
        substituted_share=0.0,
        basis="cems_hourly_mass",
        n=len(valid),
        co2_t=co2_t,
    )


def _co2_pct(hour: HourLike) -> float:
    for name in ("co2_pct", "co2_dry_pct"):
        value = getattr(hour, name, None)
        if value is not None:
            return float(value)
    raise ValueError("a CEMS hour with a mass has no CO2 concentration")


def ledger_rows(
    source: Any,
    *,
    org: str,
    year: int,
    profiles: Mapping[str, ActivityProfile],
    events: Sequence[Mapping[str, Any]] = (),
    max_wrap_fraction: float | None = None,
) -> list[dict[str, Any]]:
    """The data ledger's monthly rows of ``year`` for ``org``'s activity points (those in ``profiles`` are
    the ones valued; their moduli enter the totalizer deltas): the one query,
    ``aggregate.totals(period="month")`` (day sums where the lake has them), run on ``source`` (an Ibis
    backend with the lake as ``readings``, :func:`carbonmeter.readings.engines.duckdb_backend`). ``events``
    are counter events with ``aggregate.EVENT_SCHEMA``'s columns."""
    from carbonmeter.readings import aggregate

    # Only the rollover moduli are needed from the profiles (the expected slots are computed here): no side
    # table and no point filter when there are none, which spares Ibis a join and a filter to compile.
    side = [
        {"org": org, "point": p, "expected_interval": None, "counter_modulus": prof.counter_modulus}
        for p, prof in profiles.items()
        if prof.counter_modulus is not None
    ]
    expr = aggregate.totals(
        source,
        period="month",
        org=org,
        start=date(year, 1, 1),
        end=date(year + 1, 1, 1),
        profiles=side or None,
        events=list(events) or None,
        max_wrap_fraction=max_wrap_fraction,
    )
    rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
    return rows


def point_months(
    rows: Iterable[Mapping[str, Any]],
    *,
    year: int,
    substituted: Mapping[tuple[str, date], float] | None = None,
) -> dict[str, list[MonthAmount]]:
    """Each point's months of ``year`` from the ledger rows, with its gap months' substituted amounts."""
    by_point: dict[str, dict[date, float]] = defaultdict(dict)
    for (point, month), amount in (substituted or {}).items():
        by_point[point][month] = amount
    return {
        point: with_substitution(ms, by_point.get(point, {}))
        for point, ms in ledger_months(rows, year=year).items()
    }


def annual_activity(
    months: Mapping[str, Sequence[MonthAmount]], profiles: Mapping[str, ActivityProfile], *, year: int
) -> dict[str, PointValue]:
    """:func:`activity_value` of every point of ``months`` that has a profile."""
    return {
        point: activity_value(point, ms, profiles[point], year=year)
        for point, ms in months.items()
        if point in profiles
    }


def activity_values(
    source: Any,
    *,
    org: str,
    year: int,
    profiles: Mapping[str, ActivityProfile],
    events: Sequence[Mapping[str, Any]] = (),
    max_wrap_fraction: float | None = None,
    substituted: Mapping[tuple[str, date], float] | None = None,
) -> tuple[dict[str, PointValue], list[tuple[str, date]]]:
    """Annual activity values of ``org``'s points in ``profiles`` from the data ledger on ``source``
    (:func:`ledger_rows`), and the (point, month) pairs with gaps — those whose substituted amount, given in
    ``substituted``, enters the value."""
    rows = ledger_rows(
        source, org=org, year=year, profiles=profiles, events=events, max_wrap_fraction=max_wrap_fraction
    )
    months = point_months(rows, year=year, substituted=substituted)
    return annual_activity(months, profiles, year=year), gap_months(rows, profiles, year=year)
