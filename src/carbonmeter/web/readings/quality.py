"""Point-month data quality (计量点数据质量): one point's stored readings of one month, judged.

The pure engines (:mod:`carbonmeter.readings.gaps`, ``substitution``, ``counters``, ``validity``, ``cems``)
decide; this module only feeds them what is stored and arranges their answers for the page:

* **readings** come from the Parquet lake (``settings.CARBONMETER_LAKE``) through DuckDB, restricted to the
  organization's own folder ``org=<credit code>/`` — the connection is sandboxed to it
  (``allowed_directories`` with external access off and the configuration locked), so a bug in a query
  cannot read another organization's data or any other file.  Where several batches hold the same
  (point, quantity, ts), the highest ``batch`` wins: a correction is a later batch (contract *Batches*);
* **gaps** against the profile's expected interval give availability and the missing runs;
* **substitution** fills the runs by the profile's rule, each filled slot keeping its rule and basis; the
  measured total, the substituted total and their sum are kept apart and a slot the rule cannot fill stays
  an unfilled gap — nothing is zero-filled;
* **totalizers** are differenced by :func:`carbonmeter.readings.counters.deltas` with the profile's modulus
  and the point's recorded counter events, and the deltas are apportioned into days;
* the **validity gate** judges every reading day against the profile instrument's calibration records and
  sizes the CO2 resting on flagged readings;
* **CEMS** points are read with the rest of their stream's CEMS set and turned into valid/insufficient
  hours and hourly CO2 mass.

A month that has not ended is judged up to the start of today (Asia/Shanghai): slots that have not happened
yet are not "missing".  The readings just outside the month are read too, because a gap at the month's edge
is filled from its neighbours and a totalizer delta that spans the month end belongs partly to this month;
they are looked for only in the neighbouring months' partitions — a value further away is not "adjacent".

Emission factor used to size the flagged tonnes (contract "validity gate"; issue 4 item 5): for an activity
point measured in tonnes, the mean of the same stream's carbon-content analyses in the month (mass %), as
``tCO2/t = cc / 100 × 44 / 12``.  No oxidation rate, no default: it answers "how much CO2 rests on these
readings", not the reported emissions.  Without measured carbon content the flagged activity is shown in its
own unit and the page says that no factor is available.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
from django.conf import settings
from django.utils import timezone

from carbonmeter.readings import cems, counters, gaps, substitution, validity
from carbonmeter.readings.lake import HIVE_TYPES
from carbonmeter.readings.model import Kind, quantities
from carbonmeter.readings.series import LOCAL, UTC, Sample, Span, period_key, period_span
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings.models import CounterEvent, PointProfile
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization

#: tCO2 per tC: molar masses of CO2 and C.
CO2_PER_C: Final = 44.0 / 12.0
#: The CEMS set of one stack (``cems.hourly`` needs all five); the order the page lists them in.
CEMS_SET: Final = ("co2_concentration", "flow_velocity", "temperature", "humidity", "pressure")
#: ``extra`` keys read for CEMS mass: the duct cross-section (m²) and whether CO2 is reported wet or dry.
DUCT_AREA_KEY: Final = "duct_area_m2"
CO2_BASIS_KEY: Final = "co2_basis"
#: Carbon-content quantity (mass %) the activity factor is computed from.
CARBON_CONTENT: Final = "carbon_content"

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=UTC)

FactorMissing = Literal[
    "not_activity_data", "not_mass_unit", "no_carbon_content_point", "no_carbon_content_data"
]
MassMissing = Literal["duct_area", "co2_basis", "cems_set"]
Problem = Literal["no_profile", "unknown_quantity", "not_started", "substitution_config"]
EventStatus = Literal["applied", "unused", "incomplete"]


# ------------------------------------------------------------------------------------------------------
# Reading the lake
# ------------------------------------------------------------------------------------------------------


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


def _shift_month(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _instant(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


@dataclass(frozen=True)
class Stored:
    """One point's effective readings of a span, and how many stored rows later batches superseded."""

    samples: tuple[Sample, ...]
    superseded: int


class LakeReader:
    """Effective readings of one organization from the lake, through a DuckDB sandboxed to its folder.

    DuckDB cannot open an in-memory database read-only; instead the connection may touch no file outside
    ``<lake>/org=<credit code>/`` and its configuration is locked, so it reads the organization's partitions
    and nothing else.  Use as a context manager (:func:`reader`).
    """

    def __init__(self, lake: Path, org_code: str) -> None:
        if not org_code or not org_code.isascii() or not org_code.isalnum():
            raise ValueError(f"organization code {org_code!r} cannot name a lake partition")
        self.org = org_code
        self.root = lake / f"org={org_code}"
        self.pattern = (self.root / "y=*" / "m=*" / "*.parquet").as_posix()
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def has_data(self) -> bool:
        return next(self.root.glob("y=*/m=*/*.parquet"), None) is not None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(config={"threads": 2})
            con.execute(f"SET allowed_directories = [{_sql_text(self.root.as_posix() + '/')}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _where(self) -> str:
        return (
            f"FROM read_parquet($pattern, hive_partitioning = true, hive_types = {HIVE_TYPES}) "
            "WHERE org = $org AND point = $point AND quantity = $quantity "
            "AND y * 100 + m BETWEEN $first_month AND $last_month "
        )

    def _params(self, point: str, quantity: str, first: dt.date, last: dt.date) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "org": self.org,
            "point": point,
            "quantity": quantity,
            "first_month": _month_key(first),
            "last_month": _month_key(last),
        }

    def effective(self, point: str, quantity: str, span: Span) -> Stored:
        """Readings in ``[span.start, span.end)`` in time order, the latest batch's value per instant."""
        if not self.has_data or span.end <= span.start:
            return Stored((), 0)
        first = period_key(span.start, "month")
        last = period_key(span.end - dt.timedelta(microseconds=1), "month")
        sql = (
            "SELECT epoch_us(ts) AS us, value, count(*) OVER (PARTITION BY ts) AS copies "
            + self._where()
            + "AND ts >= to_timestamp($lo) AND ts < to_timestamp($hi) "
            "QUALIFY row_number() OVER (PARTITION BY ts ORDER BY batch DESC) = 1 ORDER BY ts"
        )
        params = self._params(point, quantity, first, last)
        params |= {"lo": span.start.timestamp(), "hi": span.end.timestamp()}
        rows = self._connection().execute(sql, params).fetchall()
        return Stored(
            tuple(Sample(_instant(int(us)), float(v)) for us, v, _ in rows),
            sum(int(n) - 1 for _, _, n in rows),
        )

    def neighbour(
        self, point: str, quantity: str, ts: dt.datetime, side: Literal["before", "after"]
    ) -> Sample | None:
        """The effective reading just before ``ts`` (exclusive) or at/after it, within the adjacent month."""
        if not self.has_data:
            return None
        month = period_key(ts if side == "after" else ts - dt.timedelta(microseconds=1), "month")
        first, last = (
            (_shift_month(month, -1), month) if side == "before" else (month, _shift_month(month, 1))
        )
        cmp, order = (
            ("ts < to_timestamp($t)", "DESC") if side == "before" else ("ts >= to_timestamp($t)", "ASC")
        )
        sql = f"SELECT epoch_us(ts), value {self._where()} AND {cmp} ORDER BY ts {order}, batch DESC LIMIT 1"
        params = self._params(point, quantity, first, last) | {"t": ts.timestamp()}
        row = self._connection().execute(sql, params).fetchone()
        return None if row is None else Sample(_instant(int(row[0])), float(row[1]))

    def cems_minutes(self, members: Mapping[str, str], span: Span) -> list[cems.CemsMinute]:
        """One record per minute of ``span`` from the CEMS set ``members`` (quantity → point code).

        Each quantity's effective readings are keyed by the minute they fall in (loggers stamp a few
        seconds late) and averaged within it; a quantity without a reading in a minute is None, which makes
        the minute invalid — never 0.  Done in DuckDB: a month is 5 × 44 640 rows.
        """
        if not self.has_data or span.end <= span.start or set(members) != set(CEMS_SET):
            return []
        first = period_key(span.start, "month")
        last = period_key(span.end - dt.timedelta(microseconds=1), "month")
        pairs = " OR ".join(f"(point = $p{i} AND quantity = $q{i})" for i in range(len(CEMS_SET)))
        columns = ", ".join(
            f"avg(value) FILTER (WHERE quantity = $q{i}) AS c{i}" for i in range(len(CEMS_SET))
        )
        sql = (
            "WITH effective AS (SELECT quantity, ts, value "
            f"FROM read_parquet($pattern, hive_partitioning = true, hive_types = {HIVE_TYPES}) "
            f"WHERE org = $org AND ({pairs}) AND y * 100 + m BETWEEN $first_month AND $last_month "
            "AND ts >= to_timestamp($lo) AND ts < to_timestamp($hi) "
            "QUALIFY row_number() OVER (PARTITION BY point, quantity, ts ORDER BY batch DESC) = 1) "
            f"SELECT epoch_us(ts) // 60000000 AS minute, {columns} "
            "FROM effective GROUP BY minute ORDER BY minute"
        )
        params: dict[str, Any] = {
            "pattern": self.pattern,
            "org": self.org,
            "first_month": _month_key(first),
            "last_month": _month_key(last),
            "lo": span.start.timestamp(),
            "hi": span.end.timestamp(),
        }
        for i, quantity in enumerate(CEMS_SET):
            params |= {f"p{i}": members[quantity], f"q{i}": quantity}
        out = []
        for minute, *values in self._connection().execute(sql, params).fetchall():
            by_quantity = dict(zip(CEMS_SET, values, strict=True))
            out.append(
                cems.CemsMinute(
                    ts=_instant(int(minute) * 60_000_000),
                    co2_pct=by_quantity["co2_concentration"],
                    velocity=by_quantity["flow_velocity"],
                    temperature_c=by_quantity["temperature"],
                    pressure_kpa=by_quantity["pressure"],
                    humidity_pct=by_quantity["humidity"],
                )
            )
        return out


@contextmanager
def reader(org: Organization, lake: Path | None = None) -> Iterator[LakeReader]:
    """A :class:`LakeReader` of ``org`` over ``lake`` (default ``settings.CARBONMETER_LAKE``); closes it."""
    r = LakeReader(Path(lake if lake is not None else settings.CARBONMETER_LAKE), org.credit_code)
    try:
        yield r
    finally:
        r.close()


# ------------------------------------------------------------------------------------------------------
# What the page shows
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapRun:
    """A run of consecutive missing slots and what substitution made of it (one value per slot)."""

    start: dt.datetime
    end: dt.datetime
    slots: int
    rule: str
    basis: str
    #: The value put in each slot; None when the rule could not give one (the slots stay flagged gaps).
    value: float | None
    #: value × slots for additive quantities (the substituted amount), else None.
    total: float | None
    #: The measured samples the value rests on (adjacent values, the period maximum).
    inputs: tuple[Sample, ...]
    #: How many values a period statistic used.
    n: int
    #: Where a pack default comes from.
    source: str


@dataclass(frozen=True)
class SubstitutionSummary:
    #: The rule applied (``none`` when the configured one could not be applied).
    rule: str
    #: The rule the profile names.
    configured: str
    #: Why the configured rule could not be applied (a configuration error), or "".
    error: str
    runs: tuple[GapRun, ...]
    substituted_slots: int
    unfilled_slots: int


@dataclass(frozen=True)
class Totals:
    """An additive quantity's month: measured, substituted and their sum, never mixed up."""

    measured: float
    substituted: float
    unfilled_slots: int

    @property
    def with_substitution(self) -> float:
        return math.fsum((self.measured, self.substituted))


@dataclass(frozen=True)
class DayRow:
    """One Asia/Shanghai day of the month."""

    day: dt.date
    #: False for days after the judged span (a month still running): nothing is judged there.
    judged: bool
    expected: int | None = None
    present: int = 0
    missing: int = 0
    readings: int = 0
    #: Interval points: sum of measured values; totalizers: counted delta shares of the day (None: no data).
    measured: float | None = None
    substituted: float | None = None
    substituted_slots: int = 0
    unfilled: int = 0
    #: CEMS minute and lab points: mean of the day's measured values.
    mean: float | None = None
    #: Validity gate verdict of the day (None: no instrument to judge by).
    flag: str | None = None
    rollovers: int = 0
    across_events: int = 0
    decreases: int = 0
    excluded: float = 0.0
    apportioned: float = 0.0
    valid_hours: int = 0
    insufficient_hours: int = 0
    co2_t: float | None = None

    @property
    def total(self) -> float | None:
        """Measured plus substituted (interval points); the counted total (totalizers); None: no data."""
        parts = [v for v in (self.measured, self.substituted) if v is not None]
        return math.fsum(parts) if parts else None


@dataclass(frozen=True)
class EventRow:
    ts: dt.datetime
    kind: str
    old_end: float | None
    new_start: float | None
    reason: str
    #: applied: lies between two readings and entered a delta; unused: outside the readings' span;
    #: incomplete: no ``old_end``, so it cannot be applied (the delta across it stays a flagged decrease).
    status: EventStatus


@dataclass(frozen=True)
class CounterSummary:
    modulus: float | None
    deltas: int
    #: Deltas that are not plain (rollover, across_event, noise, decrease) touching the judged span.
    flagged: tuple[counters.Delta, ...]
    counts: Mapping[str, int]
    #: Counted consumption apportioned into the judged span; excluded decreases are not in it.
    total: float
    excluded: float
    decreases: int
    events: tuple[EventRow, ...]


@dataclass(frozen=True)
class FlagRow:
    flag: str
    readings: int
    #: Activity resting on readings with this flag, in the point's unit (None: not additive).
    amount: float | None
    #: CO2 tonnes resting on them (None: no factor / mass available).
    tonnes: float | None


@dataclass(frozen=True)
class Factor:
    """tCO2 per tonne of activity from the stream's measured carbon content."""

    point: str
    n: int
    carbon_content_pct: float

    @property
    def t_co2_per_t(self) -> float:
        return self.carbon_content_pct / 100 * CO2_PER_C


@dataclass(frozen=True)
class ValiditySummary:
    instrument: Instrument | None
    records: tuple[Calibration, ...]
    runs: tuple[validity.Run, ...]
    flags: tuple[FlagRow, ...]
    factor: Factor | None
    factor_missing: FactorMissing | None
    #: after_failed tonnes (or activity, without a factor) per failed record date.
    by_failed_record: Mapping[str, float]
    #: "tonnes": CO2 t are known; "activity": only the activity amount; "count": only reading counts.
    basis: Literal["tonnes", "activity", "count"]

    @property
    def flagged_readings(self) -> int:
        return sum(f.readings for f in self.flags if f.flag != "valid")

    @property
    def flagged_tonnes(self) -> float | None:
        values = [f.tonnes for f in self.flags if f.flag != "valid"]
        return None if any(v is None for v in values) else math.fsum(v for v in values if v is not None)

    @property
    def flagged_amount(self) -> float | None:
        values = [f.amount for f in self.flags if f.flag != "valid"]
        return None if any(v is None for v in values) else math.fsum(v for v in values if v is not None)


@dataclass(frozen=True)
class HourRow:
    start: dt.datetime
    end: dt.datetime
    flag: str
    valid_minutes: int
    needed_minutes: int
    #: Hourly mean CO2 (%): dry when the basis is known, else as measured.
    co2_pct: float | None
    flow_std_dry_m3h: float | None
    co2_t: float | None


@dataclass(frozen=True)
class CemsSummary:
    #: quantity → point code of the stream's CEMS set.
    set_points: Mapping[str, str]
    missing_points: tuple[str, ...]
    duct_area_m2: float | None
    duct_area_from: str
    co2_basis: str | None
    co2_basis_from: str
    valid_fraction: float
    #: Where ``valid_fraction`` comes from: the point profile, or the rule pack (id@version) with its note.
    valid_fraction_from: str
    hours: tuple[HourRow, ...]
    #: Why no mass is computed (empty when it is).
    mass_missing: tuple[MassMissing, ...]

    @property
    def valid_hours(self) -> int:
        return sum(h.flag == "valid" for h in self.hours)

    @property
    def insufficient(self) -> tuple[HourRow, ...]:
        return tuple(h for h in self.hours if h.flag != "valid")

    @property
    def co2_t(self) -> float | None:
        """CO2 of the valid hours (insufficient hours are gaps, not in here); None without mass."""
        if self.mass_missing:
            return None
        return math.fsum(h.co2_t for h in self.hours if h.co2_t is not None)


@dataclass(frozen=True)
class PointQuality:
    """Everything the point-month page shows."""

    organization: Organization
    point: MeasuringPoint
    profile: PointProfile | None
    month: dt.date
    month_span: Span
    #: The span judged: the month, or its elapsed whole days when it is still running.
    judged: Span
    quantity: str
    unit: str
    kind: Kind | None
    problems: tuple[Problem, ...] = ()
    readings: int = 0
    superseded: int = 0
    report: gaps.GapReport | None = None
    substitution: SubstitutionSummary | None = None
    totals: Totals | None = None
    days: tuple[DayRow, ...] = ()
    counter: CounterSummary | None = None
    validity: ValiditySummary | None = None
    cems: CemsSummary | None = None

    @property
    def complete(self) -> bool:
        return self.judged == self.month_span

    @property
    def availability(self) -> float | None:
        return None if self.report is None else self.report.availability

    @property
    def additive(self) -> bool:
        return self.kind in (Kind.INTERVAL, Kind.TOTAL)


# ------------------------------------------------------------------------------------------------------
# The computation
# ------------------------------------------------------------------------------------------------------


def _day_span(day: dt.date) -> Span:
    return period_span(day, "day")


def _month_days(month: dt.date) -> list[dt.date]:
    out = []
    d = month
    while d.month == month.month:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def judged_span(month: dt.date, now: dt.datetime | None = None) -> Span:
    """The month, or — while it runs — its days before today (Asia/Shanghai); empty before it starts."""
    whole = period_span(month, "month")
    today = period_span((now or timezone.now()).astimezone(LOCAL).date(), "day").start
    end = min(whole.end, max(whole.start, today))
    return Span(whole.start, end)


def _slots_in(period: Span, interval: int, span: Span) -> int:
    """Slots of ``period`` (anchored at its start) whose start lies in ``span``."""
    step = dt.timedelta(seconds=interval)
    lo = max(span.start, period.start)
    hi = min(span.end, period.end)
    if hi <= lo:
        return 0
    return -(-(hi - period.start) // step) - -(-(lo - period.start) // step)


def _day_of(ts: dt.datetime) -> dt.date:
    return ts.astimezone(LOCAL).date()


def _calibrations(instrument: Instrument | None) -> tuple[Calibration, ...]:
    if instrument is None:
        return ()
    rows = Calibration.objects.filter(instrument=instrument, archived=False).order_by("date", "pk")
    return tuple(rows)


def _profile(point: MeasuringPoint) -> PointProfile | None:
    profile = PointProfile.objects.filter(point=point, archived=False).select_related("instrument").first()
    return profile


def _substitute(
    profile: PointProfile, measured: Sequence[Sample], report: gaps.GapReport
) -> tuple[substitution.SubstitutionResult, str]:
    """Fill by the profile's rule; a rule that cannot be applied as configured leaves every gap unfilled
    (rule ``none``) and says why, rather than guessing a value."""
    try:
        return (
            substitution.substitute(
                measured,
                report,
                profile.substitution,
                default=profile.default_value,
                default_source=profile.default_source,
            ),
            "",
        )
    except ValueError as error:  # UnknownRuleError is a ValueError too
        return substitution.substitute(measured, report, "none"), str(error)


def _summarise_fills(
    result: substitution.SubstitutionResult, configured: str, error: str, additive: bool
) -> SubstitutionSummary:
    runs: dict[Span, list[substitution.Fill]] = defaultdict(list)
    for fill in result.fills:
        runs[fill.gap].append(fill)
    out = []
    for gap, fills in sorted(runs.items(), key=lambda item: item[0].start):
        first = fills[0]
        total = None
        if additive and first.value is not None:
            total = math.fsum(f.value for f in fills if f.value is not None)
        out.append(
            GapRun(
                start=gap.start,
                end=gap.end,
                slots=len(fills),
                rule=first.rule,
                basis=first.basis,
                value=first.value,
                total=total,
                inputs=first.inputs,
                n=first.n,
                source=first.source,
            )
        )
    return SubstitutionSummary(
        rule=result.rule,
        configured=configured,
        error=error,
        runs=tuple(out),
        substituted_slots=len(result.substituted),
        unfilled_slots=len(result.unfilled),
    )


def _events(point: MeasuringPoint) -> tuple[list[CounterEvent], list[counters.CounterEvent]]:
    """The point's recorded events, and those that can be applied (``old_end`` known; a missing
    ``new_start`` is a register starting from 0, as the aggregations read it)."""
    rows = list(CounterEvent.objects.filter(point=point, archived=False).order_by("ts", "pk"))
    usable = [
        counters.CounterEvent(
            ts=e.ts.astimezone(UTC),
            kind="replacement" if e.kind == "replacement" else "reset",
            old_end=e.old_end,
            new_start=e.new_start if e.new_start is not None else 0.0,
            note=e.reason,
        )
        for e in rows
        if e.old_end is not None
    ]
    return rows, usable


def _counter_summary(
    profile: PointProfile,
    rows: list[CounterEvent],
    result: counters.CounterResult,
    judged: Span,
    day_totals: Mapping[dt.date, counters.PeriodTotal],
) -> CounterSummary:
    unused = {(e.ts, e.old_end) for e in result.unused_events}
    events = []
    for e in rows:
        status: EventStatus
        if e.old_end is None:
            status = "incomplete"
        elif (e.ts.astimezone(UTC), e.old_end) in unused:
            status = "unused"
        else:
            status = "applied"
        events.append(EventRow(e.ts, e.kind, e.old_end, e.new_start, e.reason, status))
    touching = [d for d in result.deltas if d.end > judged.start and d.start < judged.end]
    counts: dict[str, int] = {flag: 0 for flag in ("normal", "rollover", "across_event", "noise", "decrease")}
    for d in touching:
        counts[d.flag] += 1
    return CounterSummary(
        modulus=profile.counter_modulus,
        deltas=len(touching),
        flagged=tuple(d for d in touching if d.flag != "normal"),
        counts=counts,
        total=math.fsum(t.total for t in day_totals.values()),
        excluded=math.fsum(t.excluded for t in day_totals.values()),
        decreases=sum(d.flag == "decrease" for d in touching),
        events=tuple(events),
    )


def _factor(
    org: Organization, point: MeasuringPoint, unit: str, lake: LakeReader, judged: Span
) -> tuple[Factor | None, FactorMissing | None]:
    """The stream's measured carbon content as tCO2 per tonne, or why there is none."""
    if point.role != "activity_data":
        return None, "not_activity_data"
    if unit != "t":
        return None, "not_mass_unit"
    candidates = MeasuringPoint.objects.filter(
        organization=org, stream_id=point.stream_id, parameter=CARBON_CONTENT, archived=False
    ).order_by("code")
    if not candidates.exists():
        return None, "no_carbon_content_point"
    for candidate in candidates:
        values = [s.value for s in lake.effective(candidate.code, CARBON_CONTENT, judged).samples]
        if values:
            return Factor(candidate.code, len(values), statistics.fmean(values)), None
    return None, "no_carbon_content_data"


def _flag_rows(
    verdicts: Sequence[validity.Verdict],
    amounts: Sequence[float] | None,
    reading_flags: Mapping[str, int],
    tonnes_per_unit: float | None,
    tonnes: Sequence[float] | None = None,
) -> tuple[tuple[FlagRow, ...], Mapping[str, float]]:
    """Per flag: readings, activity and tonnes; and the after-failed share per failed record."""
    amount_impact = None if amounts is None else validity.impact(verdicts, amounts)
    tonne_impact = None
    if tonnes is not None:
        tonne_impact = validity.impact(verdicts, tonnes)
    elif amounts is not None and tonnes_per_unit is not None:
        tonne_impact = validity.impact(verdicts, amounts, factor=tonnes_per_unit)
    rows = tuple(
        FlagRow(
            flag=flag,
            readings=reading_flags.get(flag, 0),
            amount=None if amount_impact is None else amount_impact.tonnes[flag],
            tonnes=None if tonne_impact is None else tonne_impact.tonnes[flag],
        )
        for flag in validity.FLAGS
    )
    chosen = tonne_impact if tonne_impact is not None else amount_impact
    return rows, ({} if chosen is None else chosen.by_failed_record)


def _extra_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _valid_fraction(point: MeasuringPoint, profile: PointProfile) -> tuple[float, str]:
    """The share of valid minutes a CEMS hour needs: the point profile's own, else the organization's rule
    pack's ``cems_hour_valid_fraction`` (data with provenance), and where it comes from."""
    if profile.cems_valid_fraction is not None:
        return profile.cems_valid_fraction, f"profile {point.code}"
    pack = load_pack(point.organization.pack_ref)
    tagged = pack.settings.cems_hour_valid_fraction
    assert tagged.value is not None  # the pack schema requires it
    return float(tagged.value), f"{pack.id}@{pack.version} ({tagged.tag}: {tagged.note})"


def _cems(point: MeasuringPoint, profile: PointProfile, lake: LakeReader, judged: Span) -> CemsSummary:
    """The stack's hours from its CEMS set: the points of the same stream measuring the five quantities."""
    members = (
        MeasuringPoint.objects.filter(
            organization_id=point.organization_id, stream_id=point.stream_id, archived=False
        )
        .select_related("data_profile", "stream")
        .order_by("code")
    )
    set_points: dict[str, MeasuringPoint] = {}
    for member in members:
        member_profile = getattr(member, "data_profile", None)
        quantity = (
            member_profile.quantity if member_profile and not member_profile.archived else member.parameter
        )
        if quantity in CEMS_SET and quantity not in set_points:
            set_points[quantity] = member
    missing = tuple(q for q in CEMS_SET if q not in set_points)

    # The duct area and the CO2 basis: the point's own extra, then its set's, then the stream's.
    sources = [point, *(p for p in set_points.values() if p.pk != point.pk)]
    duct_area: float | None = None
    duct_from = ""
    basis: str | None = None
    basis_from = ""
    for source in sources:
        extra = source.extra if isinstance(source.extra, dict) else {}
        if duct_area is None and (area := _extra_float(extra.get(DUCT_AREA_KEY))) is not None:
            duct_area, duct_from = area, source.code
        if basis is None and extra.get(CO2_BASIS_KEY) in ("wet", "dry"):
            basis, basis_from = str(extra[CO2_BASIS_KEY]), source.code
    stream_extra = point.stream.extra if isinstance(point.stream.extra, dict) else {}
    if duct_area is None and (area := _extra_float(stream_extra.get(DUCT_AREA_KEY))) is not None:
        duct_area, duct_from = area, point.stream.code
    if basis is None and stream_extra.get(CO2_BASIS_KEY) in ("wet", "dry"):
        basis, basis_from = str(stream_extra[CO2_BASIS_KEY]), point.stream.code

    fraction, fraction_from = _valid_fraction(point, profile)
    mass_missing: list[MassMissing] = []
    if missing:
        mass_missing.append("cems_set")
    if duct_area is None:
        mass_missing.append("duct_area")
    if basis is None:
        mass_missing.append("co2_basis")

    hours: tuple[HourRow, ...] = ()
    if not missing and judged.end > judged.start:
        minutes = lake.cems_minutes({q: p.code for q, p in set_points.items()}, judged)
        # Without duct area or basis the flags are still right (they depend on the minutes only); the
        # flow and mass of that run are discarded below, and CO2 is shown "as measured".
        result = cems.hourly(
            minutes,
            start=judged.start,
            end=judged.end,
            duct_area=duct_area or 1.0,
            co2_basis="dry" if basis is None else ("wet" if basis == "wet" else "dry"),
            valid_fraction=fraction,
        )
        with_mass = not mass_missing
        hours = tuple(
            HourRow(
                start=h.start,
                end=h.end,
                flag=h.flag,
                valid_minutes=h.valid_minutes,
                needed_minutes=h.needed_minutes,
                co2_pct=h.co2_dry_pct,
                flow_std_dry_m3h=h.flow_std_dry_m3h if duct_area is not None else None,
                co2_t=h.co2_t if with_mass else None,
            )
            for h in result.hours
        )
    return CemsSummary(
        set_points={q: set_points[q].code for q in CEMS_SET if q in set_points},
        missing_points=missing,
        duct_area_m2=duct_area,
        duct_area_from=duct_from,
        co2_basis=basis,
        co2_basis_from=basis_from,
        valid_fraction=fraction,
        valid_fraction_from=fraction_from,
        hours=hours,
        mass_missing=tuple(mass_missing),
    )


def point_month(
    organization: Organization,
    point: MeasuringPoint,
    month: dt.date,
    *,
    lake: Path | None = None,
    now: dt.datetime | None = None,
) -> PointQuality:
    """Data quality of ``point`` (of ``organization``) for the Asia/Shanghai month starting ``month``.

    The caller has checked that the user may read the organization; ``point`` must belong to it.
    """
    if point.organization_id != organization.pk:
        raise ValueError(f"point {point.code} does not belong to {organization.credit_code}")
    month = month.replace(day=1)
    month_span = period_span(month, "month")
    judged = judged_span(month, now)
    profile = _profile(point)
    base: dict[str, Any] = {
        "organization": organization,
        "point": point,
        "profile": profile,
        "month": month,
        "month_span": month_span,
        "judged": judged,
    }
    if profile is None:
        return PointQuality(quantity="", unit="", kind=None, problems=("no_profile",), **base)
    q = quantities().get(profile.quantity)
    if q is None:
        return PointQuality(
            quantity=profile.quantity, unit="", kind=None, problems=("unknown_quantity",), **base
        )
    base |= {"quantity": q.code, "unit": q.unit, "kind": q.kind}
    days = _month_days(month)
    if judged.end <= judged.start:
        return PointQuality(
            problems=("not_started",), days=tuple(DayRow(day=d, judged=False) for d in days), **base
        )

    with reader(organization, lake) as lake_reader:
        stored = lake_reader.effective(point.code, q.code, judged)
        measured = list(stored.samples)
        before = lake_reader.neighbour(point.code, q.code, judged.start, "before")
        after = lake_reader.neighbour(point.code, q.code, judged.end, "after")
        neighbours = [s for s in (before,) if s is not None], [s for s in (after,) if s is not None]
        report = gaps.detect([s.ts for s in measured], judged, profile.expected_interval)
        problems: list[Problem] = []

        sub_result: substitution.SubstitutionResult | None = None
        sub_summary: SubstitutionSummary | None = None
        totals: Totals | None = None
        if q.kind in (Kind.INTERVAL, Kind.CEMS):
            sub_result, error = _substitute(profile, [*neighbours[0], *measured, *neighbours[1]], report)
            if error:
                problems.append("substitution_config")
            sub_summary = _summarise_fills(sub_result, profile.substitution, error, q.kind == Kind.INTERVAL)
            if q.kind == Kind.INTERVAL:
                totals = Totals(
                    measured=math.fsum(s.value for s in measured),
                    substituted=math.fsum(f.value for f in sub_result.substituted if f.value is not None),
                    unfilled_slots=len(sub_result.unfilled),
                )

        counter_result: counters.CounterResult | None = None
        day_totals: dict[dt.date, counters.PeriodTotal] = {}
        counter_summary: CounterSummary | None = None
        if q.kind == Kind.TOTAL:
            event_rows, usable = _events(point)
            counter_result = counters.deltas(
                [*neighbours[0], *measured, *neighbours[1]], modulus=profile.counter_modulus, events=usable
            )
            day_totals = {
                t.period: t
                for t in counters.period_totals(counter_result, "day")
                if judged.contains(_day_span(t.period).start)
            }
            counter_summary = _counter_summary(profile, event_rows, counter_result, judged, day_totals)

        cems_summary = _cems(point, profile, lake_reader, judged) if q.kind == Kind.CEMS else None

        # The validity gate: every measured reading's day against the instrument's records.
        instrument = profile.instrument
        records = _calibrations(instrument)
        gate = validity.Gate(records) if instrument is not None else None
        validity_summary: ValiditySummary | None = None
        factor: Factor | None = None
        factor_missing: FactorMissing | None = None
        if gate is not None:
            verdicts = [gate.day(_day_of(s.ts)) for s in measured]
            reading_flags: dict[str, int] = defaultdict(int)
            for v in verdicts:
                reading_flags[v.flag] += 1
            last_day = _day_of(judged.end - dt.timedelta(microseconds=1))
            runs = validity.gate_period(_day_of(judged.start), last_day, records)
            basis: Literal["tonnes", "activity", "count"] = "count"
            if q.kind == Kind.INTERVAL:
                factor, factor_missing = _factor(organization, point, q.unit, lake_reader, judged)
                rows, by_failed = _flag_rows(
                    verdicts,
                    [s.value for s in measured],
                    reading_flags,
                    factor.t_co2_per_t if factor else None,
                )
                basis = "tonnes" if factor else "activity"
            elif q.kind == Kind.TOTAL:
                factor, factor_missing = _factor(organization, point, q.unit, lake_reader, judged)
                shares = sorted(day_totals.values(), key=lambda t: t.period)
                rows, by_failed = _flag_rows(
                    [gate.day(t.period) for t in shares],
                    [t.total for t in shares],
                    reading_flags,
                    factor.t_co2_per_t if factor else None,
                )
                basis = "tonnes" if factor else "activity"
            elif q.kind == Kind.CEMS and cems_summary is not None and cems_summary.co2_t is not None:
                valid_hours = [h for h in cems_summary.hours if h.co2_t is not None]
                rows, by_failed = _flag_rows(
                    [gate.day(_day_of(h.start)) for h in valid_hours],
                    None,
                    reading_flags,
                    None,
                    tonnes=[h.co2_t or 0.0 for h in valid_hours],
                )
                basis = "tonnes"
            else:
                rows, by_failed = _flag_rows(verdicts, None, reading_flags, None)
            validity_summary = ValiditySummary(
                instrument=instrument,
                records=records,
                runs=runs,
                flags=rows,
                factor=factor,
                factor_missing=factor_missing,
                by_failed_record=by_failed,
                basis=basis,
            )

    day_rows = _days(
        days, judged, profile, q.kind, measured, report, sub_result, day_totals, cems_summary, gate
    )
    return PointQuality(
        problems=tuple(problems),
        readings=len(measured),
        superseded=stored.superseded,
        report=report,
        substitution=sub_summary,
        totals=totals,
        days=day_rows,
        counter=counter_summary,
        validity=validity_summary,
        cems=cems_summary,
        **base,
    )


def _days(
    days: Iterable[dt.date],
    judged: Span,
    profile: PointProfile,
    kind: Kind,
    measured: Sequence[Sample],
    report: gaps.GapReport,
    sub: substitution.SubstitutionResult | None,
    day_totals: Mapping[dt.date, counters.PeriodTotal],
    cems_summary: CemsSummary | None,
    gate: validity.Gate | None,
) -> tuple[DayRow, ...]:
    """The per-day table: slots, readings, measured and substituted amounts, flags, counter and CEMS."""
    values: dict[dt.date, list[float]] = defaultdict(list)
    for s in measured:
        values[_day_of(s.ts)].append(s.value)
    missing: dict[dt.date, int] = defaultdict(int)
    for slot in report.missing_slots():
        missing[_day_of(slot.start)] += 1
    filled: dict[dt.date, list[float]] = defaultdict(list)
    unfilled: dict[dt.date, int] = defaultdict(int)
    for fill in sub.fills if sub is not None else ():
        if fill.value is None:
            unfilled[_day_of(fill.slot.start)] += 1
        else:
            filled[_day_of(fill.slot.start)].append(fill.value)
    hours: dict[dt.date, list[HourRow]] = defaultdict(list)
    for h in cems_summary.hours if cems_summary is not None else ():
        hours[_day_of(h.start)].append(h)
    mass = cems_summary is not None and not cems_summary.mass_missing
    interval = profile.expected_interval

    out = []
    for day in days:
        span = _day_span(day)
        if not judged.contains(span.start):
            out.append(DayRow(day=day, judged=False))
            continue
        expected = _slots_in(judged, interval, span) if interval else None
        vals = values.get(day, [])
        row: dict[str, Any] = {
            "day": day,
            "judged": True,
            "expected": expected,
            "missing": missing.get(day, 0),
            "present": (expected - missing.get(day, 0)) if expected is not None else len(vals),
            "readings": len(vals),
            "flag": gate.day(day).flag if gate is not None else None,
        }
        if kind == Kind.INTERVAL:
            # None, not 0, for a day without readings or fills: no data is not zero consumption.
            row["measured"] = math.fsum(vals) if vals else None
            row["substituted"] = math.fsum(filled[day]) if filled.get(day) else None
        elif kind in (Kind.CEMS, Kind.LAB):
            row["mean"] = statistics.fmean(vals) if vals else None
        if kind in (Kind.INTERVAL, Kind.CEMS):
            row["substituted_slots"] = len(filled.get(day, []))
            row["unfilled"] = unfilled.get(day, 0)
        if kind == Kind.TOTAL:
            # A day no delta covers has no data (None), which is not the same as no consumption (0).
            t = day_totals.get(day)
            if t is not None:
                row |= {
                    "measured": t.total,
                    "rollovers": t.rollovers,
                    "across_events": t.across_events,
                    "decreases": t.decreases,
                    "excluded": t.excluded,
                    "apportioned": t.apportioned,
                }
        if cems_summary is not None:
            day_hours = hours.get(day, [])
            row["valid_hours"] = sum(h.flag == "valid" for h in day_hours)
            row["insufficient_hours"] = sum(h.flag != "valid" for h in day_hours)
            row["co2_t"] = math.fsum(h.co2_t for h in day_hours if h.co2_t is not None) if mass else None
        out.append(DayRow(**row))
    return tuple(out)
