"""Point-month data quality (计量点数据质量): one point's stored readings of one month, judged — pure.

The engines (:mod:`carbonmeter.readings.gaps`, ``substitution``, ``counters``, ``validity``, ``cems``)
decide; this module feeds them one point's effective readings (:class:`carbonmeter.readings.lake.OrgReader`)
and its configuration (:class:`PointSetup`, plain values a caller reads from wherever it keeps them — the
web app from its models, a test from literals) and arranges their answers as :class:`PointMonth`:

* **gaps** against the profile's expected interval give availability and the missing runs;
* **substitution** fills the runs by the profile's rule, each filled slot keeping its rule and basis; the
  measured total, the substituted total and their sum are kept apart and a slot the rule cannot fill stays
  an unfilled gap — nothing is zero-filled;
* **totalizers** are differenced by :func:`carbonmeter.readings.counters.deltas` with the profile's modulus
  and the point's recorded counter events; each delta belongs to the day its interval starts in
  (:func:`carbonmeter.readings.counters.period_totals`), the rule the ledger's aggregation follows;
* the **validity gate** judges every reading day against the instrument's calibration records and
  sizes the CO2 resting on flagged readings;
* **CEMS** points are read with the rest of their stream's CEMS set and turned into valid/insufficient
  hours and hourly CO2 mass.

A month that has not ended is judged up to the start of the day of ``now`` (Asia/Shanghai): slots that
have not happened yet are not "missing". The readings just outside the month are read too, because a gap
at the month's edge is filled from its neighbours and a totalizer delta that spans the month start belongs
to the previous month; they are looked for only in the neighbouring months' partitions — a value further
away is not "adjacent".

Emission factor used to size the flagged tonnes (contract "validity gate"; issue 4 item 5): for an activity
point measured in tonnes, the mean of the same stream's carbon-content analyses in the month (mass %), as
``tCO2/t = cc / 100 × CO2_PER_C``. No oxidation rate, no default: it answers "how much CO2 rests on these
readings", not the reported emissions. Without measured carbon content the flagged activity is shown in its
own unit and the page says that no factor is available.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from carbonmeter.quant.formulas import CO2_PER_C
from carbonmeter.readings import cems, counters, gaps, substitution, validity
from carbonmeter.readings.lake import OrgReader
from carbonmeter.readings.model import Kind, quantities
from carbonmeter.readings.series import LOCAL, UTC, Sample, Span, period_span
from carbonmeter.rules.messages import Lang, text

#: ``extra`` keys read for CEMS mass: the duct cross-section (m²) and whether CO2 is reported wet or dry.
DUCT_AREA_KEY: Final = "duct_area_m2"
CO2_BASIS_KEY: Final = "co2_basis"
#: What ``co2_basis`` may say (case and surrounding spaces aside): the words the page offers in Chinese
#: (干基/湿基) and English (dry basis/wet basis), and the codes themselves.
CO2_BASIS_WORDS: Final[Mapping[str, cems.Basis]] = {
    "干基": "dry",
    "湿基": "wet",
    "dry basis": "dry",
    "wet basis": "wet",
    "dry": "dry",
    "wet": "wet",
}
#: Carbon-content quantity (mass %) the activity factor is computed from.
CARBON_CONTENT: Final = "carbon_content"

FactorMissing = Literal[
    "not_activity_data", "not_mass_unit", "no_carbon_content_point", "no_carbon_content_data"
]
MassMissing = Literal["duct_area", "co2_basis", "cems_set"]
Problem = Literal["no_profile", "unknown_quantity", "not_started", "substitution_config"]
EventStatus = Literal["applied", "unused", "incomplete"]


# ------------------------------------------------------------------------------------------------------
# What the computation is given
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedEvent:
    """A counter event as recorded for the point (reset or meter replacement)."""

    ts: dt.datetime
    kind: str
    #: The register's last value before the event; None: not recorded, so the event cannot be applied.
    old_end: float | None
    #: The register's first value after it; None: started from 0.
    new_start: float | None
    reason: str = ""


@dataclass(frozen=True)
class ExtraSource:
    """A place the CEMS duct area and CO2 basis may be stated: a point's or a stream's ``extra``."""

    code: str
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class Provenance:
    """Where a setting's value comes from, as a reader is told: the data profile of a point (``point``), or
    the default of a rule pack (its title in both languages, its version and the value's tag).  The pack's
    own note on the value is for the pack's maintainers and is not part of it."""

    point: str = ""
    pack_title: Mapping[str, str] | None = None
    pack_version: str = ""
    tag: str = ""

    def text(self, lang: Lang) -> str:
        """The message catalogue's ``provenance`` text in ``lang``."""
        if self.point:
            return text("provenance", "profile", lang, point=self.point)
        return text(
            "provenance",
            "pack",
            lang,
            pack=dict(self.pack_title or {}),
            version=self.pack_version,
            tag={"label": f"tag.{self.tag}"},
        )


@dataclass(frozen=True)
class CemsSetup:
    """A CEMS point's set and configuration."""

    #: quantity → point code of the stream's CEMS set, as found (:func:`cems_set`).
    set_points: Mapping[str, str]
    #: Where to look for the duct area and the basis, first match wins: the point, its set, its stream.
    sources: Sequence[ExtraSource]
    valid_fraction: float
    #: Where ``valid_fraction`` comes from (the point profile, or the rule pack).
    valid_fraction_from: Provenance


@dataclass(frozen=True)
class PointSetup:
    """One point's data profile and what the judgement needs besides the readings."""

    code: str
    #: The point's role (``activity_data`` gets an emission factor for the flagged tonnes).
    role: str
    quantity: str
    expected_interval: int | None
    substitution: str = "none"
    default_value: float | None = None
    default_source: str = ""
    counter_modulus: float | None = None
    #: The rule pack's plausible-wrap share of the modulus (``settings.counter_max_wrap_fraction``).
    max_wrap_fraction: float | None = None
    events: tuple[RecordedEvent, ...] = ()
    #: The profile instrument's calibration records; None: the profile names no instrument.
    records: tuple[validity.CalibrationLike, ...] | None = None
    #: Carbon-content points of the point's stream, in the order to try them.
    carbon_content_points: tuple[str, ...] = ()
    cems: CemsSetup | None = None


def cems_set(members: Iterable[tuple[str, str]]) -> dict[str, str]:
    """quantity → point code of a stream's CEMS set from its points ``(code, quantity)`` in code order:
    the first point measuring each of :data:`carbonmeter.readings.cems.CEMS_SET`."""
    out: dict[str, str] = {}
    for code, quantity in members:
        if quantity in cems.CEMS_SET and quantity not in out:
            out[quantity] = code
    return out


# ------------------------------------------------------------------------------------------------------
# What comes out
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
    #: Totalizers: the part of ``measured`` from deltas over a gap that runs past the day's end.
    spanning: float = 0.0
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
    #: The instrument's records the gate judged by (as given: the page lists them).
    records: tuple[validity.CalibrationLike, ...]
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
    #: Where ``valid_fraction`` comes from: the point profile, or the rule pack.
    valid_fraction_from: Provenance
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


@dataclass(frozen=True, kw_only=True)
class PointMonth:
    """Everything known about one point's month of readings: what the data-quality page shows."""

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


def day_span(day: dt.date) -> Span:
    return period_span(day, "day")


def month_days(month: dt.date) -> list[dt.date]:
    out = []
    d = month
    while d.month == month.month:
        out.append(d)
        d += dt.timedelta(days=1)
    return out


def judged_span(month: dt.date, now: dt.datetime) -> Span:
    """The month, or — while it runs — its days before the day of ``now`` (Asia/Shanghai); empty before it
    starts."""
    whole = period_span(month, "month")
    today = period_span(now.astimezone(LOCAL).date(), "day").start
    end = min(whole.end, max(whole.start, today))
    return Span(whole.start, end)


def slots_in(period: Span, interval: int, span: Span) -> int:
    """Slots of ``period`` (anchored at its start) whose start lies in ``span``."""
    step = dt.timedelta(seconds=interval)
    lo = max(span.start, period.start)
    hi = min(span.end, period.end)
    if hi <= lo:
        return 0
    return -(-(hi - period.start) // step) - -(-(lo - period.start) // step)


def _day_of(ts: dt.datetime) -> dt.date:
    return ts.astimezone(LOCAL).date()


def _substitute(
    setup: PointSetup, measured: Sequence[Sample], report: gaps.GapReport
) -> tuple[substitution.SubstitutionResult, str]:
    """Fill by the profile's rule; a rule that cannot be applied as configured leaves every gap unfilled
    (rule ``none``) and says why, rather than guessing a value."""
    try:
        return (
            substitution.substitute(
                measured,
                report,
                setup.substitution,
                default=setup.default_value,
                default_source=setup.default_source,
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


def usable_events(events: Sequence[RecordedEvent]) -> list[counters.CounterEvent]:
    """The recorded events that can be applied (``old_end`` known; a missing ``new_start`` is a register
    starting from 0, as the aggregations read it)."""
    return [
        counters.CounterEvent(
            ts=e.ts.astimezone(UTC),
            kind="replacement" if e.kind == "replacement" else "reset",
            old_end=e.old_end,
            new_start=e.new_start if e.new_start is not None else 0.0,
            note=e.reason,
        )
        for e in events
        if e.old_end is not None
    ]


def day_totals(
    readings: Sequence[Sample], setup: PointSetup, judged: Span
) -> tuple[counters.CounterResult, dict[dt.date, counters.PeriodTotal]]:
    """A totalizer's deltas and its day totals in ``judged`` (``readings`` include the neighbours just
    outside it): each delta counted in the day its interval starts in."""
    result = counters.deltas(
        readings,
        modulus=setup.counter_modulus,
        events=usable_events(setup.events),
        max_wrap_fraction=setup.max_wrap_fraction,
    )
    totals = {
        t.period: t
        for t in counters.period_totals(result, "day")
        if judged.contains(day_span(t.period).start)
    }
    return result, totals


def _counter_summary(
    setup: PointSetup,
    result: counters.CounterResult,
    judged: Span,
    totals: Mapping[dt.date, counters.PeriodTotal],
) -> CounterSummary:
    unused = {(e.ts, e.old_end) for e in result.unused_events}
    events = []
    for e in setup.events:
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
        modulus=setup.counter_modulus,
        deltas=len(touching),
        flagged=tuple(d for d in touching if d.flag != "normal"),
        counts=counts,
        total=math.fsum(t.total for t in totals.values()),
        excluded=math.fsum(t.excluded for t in totals.values()),
        decreases=sum(d.flag == "decrease" for d in touching),
        events=tuple(events),
    )


def _factor(
    setup: PointSetup, unit: str, lake: OrgReader, judged: Span
) -> tuple[Factor | None, FactorMissing | None]:
    """The stream's measured carbon content as tCO2 per tonne, or why there is none."""
    if setup.role != "activity_data":
        return None, "not_activity_data"
    if unit != "t":
        return None, "not_mass_unit"
    if not setup.carbon_content_points:
        return None, "no_carbon_content_point"
    for code in setup.carbon_content_points:
        values = [s.value for s in lake.effective(code, CARBON_CONTENT, judged).samples]
        if values:
            return Factor(code, len(values), statistics.fmean(values)), None
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


def co2_basis(value: Any) -> cems.Basis | None:
    """The basis a ``co2_basis`` entry states (:data:`CO2_BASIS_WORDS`), or None for anything else."""
    if not isinstance(value, str):
        return None
    return CO2_BASIS_WORDS.get(" ".join(value.split()).lower())


def _cems(setup: CemsSetup, lake: OrgReader, judged: Span) -> CemsSummary:
    """The stack's hours from its CEMS set: the points of the same stream measuring the five quantities."""
    set_points = setup.set_points
    missing = tuple(q for q in cems.CEMS_SET if q not in set_points)
    # The duct area and the CO2 basis: the first source that states each.
    duct_area: float | None = None
    duct_from = ""
    basis: str | None = None
    basis_from = ""
    for source in setup.sources:
        extra = source.extra
        if duct_area is None and (area := _extra_float(extra.get(DUCT_AREA_KEY))) is not None:
            duct_area, duct_from = area, source.code
        if basis is None and (stated := co2_basis(extra.get(CO2_BASIS_KEY))) is not None:
            basis, basis_from = stated, source.code

    mass_missing: list[MassMissing] = []
    if missing:
        mass_missing.append("cems_set")
    if duct_area is None:
        mass_missing.append("duct_area")
    if basis is None:
        mass_missing.append("co2_basis")

    hours: tuple[HourRow, ...] = ()
    if not missing and judged.end > judged.start:
        minutes = lake.cems_minutes(dict(set_points), judged)
        # Without duct area or basis the flags are still right (they depend on the minutes only); the
        # flow and mass of that run are discarded below, and CO2 is shown "as measured".
        result = cems.hourly(
            minutes,
            start=judged.start,
            end=judged.end,
            duct_area=duct_area or 1.0,
            co2_basis="dry" if basis is None else ("wet" if basis == "wet" else "dry"),
            valid_fraction=setup.valid_fraction,
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
        set_points={q: set_points[q] for q in cems.CEMS_SET if q in set_points},
        missing_points=missing,
        duct_area_m2=duct_area,
        duct_area_from=duct_from,
        co2_basis=basis,
        co2_basis_from=basis_from,
        valid_fraction=setup.valid_fraction,
        valid_fraction_from=setup.valid_fraction_from,
        hours=hours,
        mass_missing=tuple(mass_missing),
    )


def cems_summary(setup: CemsSetup, lake: OrgReader, span: Span) -> CemsSummary:
    """The stack's hours over ``span`` (whole hours; a year for the annual value,
    :mod:`carbonmeter.readings.values`), as the point-month page computes them for a month."""
    return _cems(setup, lake, span)


def point_month(setup: PointSetup | None, month: dt.date, lake: OrgReader, *, now: dt.datetime) -> PointMonth:
    """Data quality of the point ``setup`` describes (None: it has no data profile) for the Asia/Shanghai
    month starting ``month``, judged up to the day of ``now``, from the organization's lake ``lake``."""
    month = month.replace(day=1)
    month_span = period_span(month, "month")
    judged = judged_span(month, now)
    base: dict[str, Any] = {"month": month, "month_span": month_span, "judged": judged}
    if setup is None:
        return PointMonth(quantity="", unit="", kind=None, problems=("no_profile",), **base)
    q = quantities().get(setup.quantity)
    if q is None:
        return PointMonth(quantity=setup.quantity, unit="", kind=None, problems=("unknown_quantity",), **base)
    base |= {"quantity": q.code, "unit": q.unit, "kind": q.kind}
    days = month_days(month)
    if judged.end <= judged.start:
        return PointMonth(
            problems=("not_started",), days=tuple(DayRow(day=d, judged=False) for d in days), **base
        )

    stored = lake.effective(setup.code, q.code, judged)
    measured = list(stored.samples)
    before = lake.neighbour(setup.code, q.code, judged.start, "before")
    after = lake.neighbour(setup.code, q.code, judged.end, "after")
    around = [
        *(s for s in (before,) if s is not None),
        *measured,
        *(s for s in (after,) if s is not None),
    ]
    report = gaps.detect([s.ts for s in measured], judged, setup.expected_interval)
    problems: list[Problem] = []

    sub_result: substitution.SubstitutionResult | None = None
    sub_summary: SubstitutionSummary | None = None
    totals: Totals | None = None
    if q.kind in (Kind.INTERVAL, Kind.CEMS):
        sub_result, error = _substitute(setup, around, report)
        if error:
            problems.append("substitution_config")
        sub_summary = _summarise_fills(sub_result, setup.substitution, error, q.kind == Kind.INTERVAL)
        if q.kind == Kind.INTERVAL:
            totals = Totals(
                measured=math.fsum(s.value for s in measured),
                substituted=math.fsum(f.value for f in sub_result.substituted if f.value is not None),
                unfilled_slots=len(sub_result.unfilled),
            )

    by_day: dict[dt.date, counters.PeriodTotal] = {}
    counter_summary: CounterSummary | None = None
    if q.kind == Kind.TOTAL:
        counter_result, by_day = day_totals(around, setup, judged)
        counter_summary = _counter_summary(setup, counter_result, judged, by_day)

    cems_summary = _cems(setup.cems, lake, judged) if q.kind == Kind.CEMS and setup.cems is not None else None

    # The validity gate: every measured reading's day against the instrument's records.
    records = setup.records
    gate = validity.Gate(records) if records is not None else None
    validity_summary: ValiditySummary | None = None
    if gate is not None and records is not None:
        factor: Factor | None = None
        factor_missing: FactorMissing | None = None
        verdicts = [gate.day(_day_of(s.ts)) for s in measured]
        reading_flags: dict[str, int] = defaultdict(int)
        for v in verdicts:
            reading_flags[v.flag] += 1
        last_day = _day_of(judged.end - dt.timedelta(microseconds=1))
        runs = validity.gate_period(_day_of(judged.start), last_day, records)
        basis: Literal["tonnes", "activity", "count"] = "count"
        if q.kind == Kind.INTERVAL:
            factor, factor_missing = _factor(setup, q.unit, lake, judged)
            rows, by_failed = _flag_rows(
                verdicts,
                [s.value for s in measured],
                reading_flags,
                factor.t_co2_per_t if factor else None,
            )
            basis = "tonnes" if factor else "activity"
        elif q.kind == Kind.TOTAL:
            factor, factor_missing = _factor(setup, q.unit, lake, judged)
            shares = sorted(by_day.values(), key=lambda t: t.period)
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
            records=records,
            runs=runs,
            flags=rows,
            factor=factor,
            factor_missing=factor_missing,
            by_failed_record=by_failed,
            basis=basis,
        )

    day_rows = _days(days, judged, setup, q.kind, measured, report, sub_result, by_day, cems_summary, gate)
    return PointMonth(
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
    setup: PointSetup,
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
    interval = setup.expected_interval

    out = []
    for day in days:
        span = day_span(day)
        if not judged.contains(span.start):
            out.append(DayRow(day=day, judged=False))
            continue
        expected = slots_in(judged, interval, span) if interval else None
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
                    "spanning": t.spanning,
                }
        if cems_summary is not None:
            day_hours = hours.get(day, [])
            row["valid_hours"] = sum(h.flag == "valid" for h in day_hours)
            row["insufficient_hours"] = sum(h.flag != "valid" for h in day_hours)
            row["co2_t"] = math.fsum(h.co2_t for h in day_hours if h.co2_t is not None) if mass else None
        out.append(DayRow(**row))
    return tuple(out)
