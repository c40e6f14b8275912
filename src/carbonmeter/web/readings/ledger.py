"""The data ledger (计量数据台账) as the pages and the workbook show it: monthly totals per point and per
source stream, completeness per point and month, daily totals of one point.

The numbers come from one place, :func:`carbonmeter.readings.aggregate.totals`, run by Ibis on an in-process
DuckDB over the Parquet lake (``settings.CARBONMETER_LAKE``), so the page, the export and the engines that
run the same expressions on PySpark agree.  This module only asks for one organization's rows — the caller
has already checked that the user may read it — and arranges them against the organization's monitoring
plan (points, streams, profiles) from the database.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from carbonmeter.readings.model import Kind, quantities
from carbonmeter.readings.quality import slots_in
from carbonmeter.readings.series import Span, period_span
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.readings.models import CounterEvent, PointProfile
from carbonmeter.web.registry.models import MeasuringPoint, Organization


def unit_of(quantity: str) -> str:
    """The quantity's canonical unit (``readings/quantities.yaml``), for headings."""
    q = quantities().get(quantity)
    return q.unit if q is not None else ""


def additive(quantity: str) -> bool:
    """Whether period totals of ``quantity`` add up across points and months: interval values and
    totalizer deltas do; CEMS concentrations and laboratory analyses are not summed."""
    q = quantities().get(quantity)
    return q is not None and q.kind in (Kind.INTERVAL, Kind.TOTAL)


def totalizer(quantity: str) -> bool:
    """Whether ``quantity`` is a totalizer register, the only kind counter events (reset, meter
    replacement) apply to."""
    q = quantities().get(quantity)
    return q is not None and q.kind == Kind.TOTAL


def lake_root() -> Path:
    return Path(settings.CARBONMETER_LAKE)


def connect(lake: Path | None = None) -> Any:
    """An Ibis DuckDB backend with the lake's published files as the table ``readings`` (an empty lake is
    an empty table, so every aggregation runs and returns nothing).  Imported here: Ibis is heavy, and only
    the pages that aggregate should pay for it."""
    from carbonmeter.readings import engines

    return engines.duckdb_backend(lake or lake_root(), threads=2)


def side_tables(org: Organization) -> dict[str, list[dict[str, Any]]]:
    """What the aggregations need from the database, as rows: the points' data profiles (expected
    interval, counter modulus), their counter events and which stream each point belongs to."""
    code = org.credit_code
    profiles = PointProfile.objects.filter(organization=org, archived=False).select_related("point")
    quantity = {p.point_id: p.quantity for p in profiles}
    events = CounterEvent.objects.filter(organization=org, archived=False).select_related("point")
    return {
        "profiles": [
            {
                "org": code,
                "point": p.point.code,
                "expected_interval": p.expected_interval,
                "counter_modulus": p.counter_modulus,
            }
            for p in profiles
        ],
        "events": [
            {
                "org": code,
                "point": e.point.code,
                # An event applies to the totalizer quantity its point is configured for.
                "quantity": quantity.get(e.point_id),
                "ts": e.ts,
                "old_end": e.old_end,
                "new_start": e.new_start,
            }
            for e in events
        ],
        "streams": [
            {"org": code, "point": p.code, "stream": p.stream.code}
            for p in MeasuringPoint.objects.filter(organization=org, archived=False).select_related("stream")
        ],
    }


def totals(
    org: Organization,
    *,
    period: str,
    start: date,
    end: date,
    points: Sequence[str] | None = None,
    con: Any | None = None,
    side: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """``aggregate.totals`` of one organization's points over the whole periods overlapping ``[start,
    end)``, executed on DuckDB, as plain rows (``org, point, quantity, period_start, total, n, expected,
    availability, decreases``)."""
    from carbonmeter.readings import aggregate

    tables = side if side is not None else side_tables(org)
    expr = aggregate.totals(
        con if con is not None else connect(),
        period=_period(period),
        org=org.credit_code,
        points=list(points) if points else None,
        start=start,
        end=end,
        profiles=tables["profiles"],
        events=tables["events"],
        max_wrap_fraction=max_wrap_fraction(org),
    )
    rows: list[dict[str, Any]] = aggregate.to_arrow(expr).to_pylist()
    return rows


def stream_totals(
    org: Organization,
    *,
    period: str,
    start: date,
    end: date,
    con: Any | None = None,
    side: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """``aggregate.stream_totals``: the point totals summed per source stream and quantity."""
    from carbonmeter.readings import aggregate

    tables = side if side is not None else side_tables(org)
    expr = aggregate.stream_totals(
        con if con is not None else connect(),
        period=_period(period),
        streams=tables["streams"],
        org=org.credit_code,
        start=start,
        end=end,
        profiles=tables["profiles"],
        events=tables["events"],
        max_wrap_fraction=max_wrap_fraction(org),
    )
    rows: list[dict[str, Any]] = aggregate.to_arrow(expr).to_pylist()
    return rows


def low_availability(org: Organization) -> float:
    """The organization's rule pack's share below which availability is marked."""
    value = load_pack(org.pack_ref).settings.readings_low_availability.value
    assert value is not None  # the pack schema requires it
    return float(value)


def max_wrap_fraction(org: Organization) -> float:
    """The organization's rule pack's plausible-wrap share of a totalizer's modulus."""
    value = load_pack(org.pack_ref).settings.counter_max_wrap_fraction.value
    assert value is not None  # the pack schema requires it
    return float(value)


def _period(period: str) -> Literal["day", "month", "year"]:
    if period == "day":
        return "day"
    if period == "year":
        return "year"
    if period == "month":
        return "month"
    raise ValueError(f"period must be day, month or year, not {period!r}")


# ------------------------------------------------------------------------------------------------------
# The shapes the pages show
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One point (or stream) in one period: the total, the readings (or totalizer intervals) counted and
    expected, availability 0–1, and totalizer decreases left out of the total (neither summed nor zeroed)."""

    total: float | None
    n: int
    expected: int | None
    availability: float | None
    decreases: int = 0

    @property
    def pct(self) -> float | None:
        return None if self.availability is None else round(self.availability * 100, 1)


@dataclass
class _YearRow:
    """A row of the year's ledger: one quantity's twelve months (a cell or None), with its unit and year
    figures derived from them."""

    code: str
    name: str
    quantity: str
    months: list[Cell | None]

    @property
    def unit(self) -> str:
        return unit_of(self.quantity)

    @property
    def year_total(self) -> float | None:
        return _sum(self.months)

    @property
    def year_availability(self) -> float | None:
        return _availability(self.months)


@dataclass(kw_only=True)
class PointRow(_YearRow):
    stream: str
    stream_name: str

    @property
    def decreases(self) -> int:
        return sum(c.decreases for c in self.months if c is not None)


@dataclass(kw_only=True)
class StreamRow(_YearRow):
    points: list[str]


@dataclass
class YearLedger:
    org: Organization
    year: int
    months: list[date]
    points: list[PointRow] = field(default_factory=list)
    streams: list[StreamRow] = field(default_factory=list)
    #: Availability below this share is marked (the rule pack's ``readings_low_availability``).
    low: float = 1.0

    @property
    def low_pct(self) -> float:
        return round(self.low * 100, 1)

    def heatmap(self) -> dict[str, Any]:
        """ECharts heatmap data: ``[month, point, availability %, readings]`` per cell; the availability is
        null where there is no data (no reading in the month: shown "—", not a red 0) or nothing was
        expected (no profile, or a month that has not begun)."""
        cells = [
            [m, p, c.pct if c is not None else None, c.n if c is not None else 0]
            for p, row in enumerate(self.points)
            for m, c in enumerate(row.months)
        ]
        return {
            "months": [f"{d:%Y-%m}" for d in self.months],
            "points": [f"{r.code} {r.name}".strip() for r in self.points],
            "cells": cells,
        }


def _sum(cells: Iterable[Cell | None]) -> float | None:
    values = [c.total for c in cells if c is not None and c.total is not None]
    return sum(values) if values else None


def _no_data(cell: Cell | None) -> bool:
    """No reading at all in the period (a totalizer decrease is data: it shows the meter spoke)."""
    return cell is None or (cell.n == 0 and cell.decreases == 0 and cell.total is None)


def _availability(cells: Iterable[Cell | None]) -> float | None:
    """Availability over several periods: counted over expected, from the first period with data on (a
    meter is not "absent" before it ever reported), over what has elapsed (a period's ``expected`` counts
    only its slots before now, :func:`_elapsed_only`). A period without any reading after the first one
    counts as expected and absent. None: nothing expected anywhere."""
    present = expected = 0
    started = False
    for c in cells:
        started = started or not _no_data(c)
        if not started or c is None or c.expected is None:
            continue
        present += c.n
        expected += c.expected
    return None if expected == 0 else min(present / expected, 1.0)


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _cell(row: Mapping[str, Any]) -> Cell:
    return Cell(
        total=_as_float(row.get("total")),
        n=int(row.get("n") or 0),
        expected=_as_int(row.get("expected")),
        availability=_as_float(row.get("availability")),
        decreases=int(row.get("decreases") or 0),
    )


def _month_index(value: Any, year: int) -> int | None:
    return value.month - 1 if isinstance(value, date) and value.year == year else None


def year_ledger(
    org: Organization, year: int, con: Any | None = None, *, now: datetime | None = None
) -> YearLedger:
    """Monthly totals of ``year`` per point and per (stream, quantity), with each month's availability.

    Points appear when they have data in the year or a data profile for a quantity that is totalled (so a
    profiled meter without any reading shows as a row of empty months, not as nothing).  A month without
    any reading has no total and no availability ("—", never a zero); only the time before ``now``
    (default: the clock) is expected, so a running month and the year are judged over what has elapsed.
    CEMS and laboratory quantities are not amounts and are not in the ledger (``aggregate.totals`` leaves
    them out).
    """
    months = [date(year, m, 1) for m in range(1, 13)]
    start, end = months[0], date(year + 1, 1, 1)
    con = con if con is not None else connect()
    side = side_tables(org)

    by_point: dict[tuple[str, str], list[Cell | None]] = defaultdict(lambda: [None] * 12)
    for r in totals(org, period="month", start=start, end=end, con=con, side=side):
        index = _month_index(r.get("period_start"), year)
        if index is not None:
            by_point[(str(r["point"]), str(r["quantity"]))][index] = _cell(r)
    profiled = PointProfile.objects.filter(organization=org, archived=False).values_list(
        "point__code", "quantity"
    )
    for code, quantity in profiled:
        if additive(quantity):
            by_point.setdefault((code, quantity), [None] * 12)

    intervals = {str(p["point"]): p["expected_interval"] for p in side["profiles"]}
    now = now if now is not None else timezone.now()
    for (code, _quantity), cells in by_point.items():
        _elapsed_only(cells, months, intervals.get(code), now)

    plan = {
        p.code: p
        for p in MeasuringPoint.objects.filter(organization=org, archived=False).select_related("stream")
    }
    ledger = YearLedger(org=org, year=year, months=months, low=low_availability(org))
    for (code, quantity), cells in sorted(by_point.items()):
        mp = plan.get(code)
        ledger.points.append(
            PointRow(
                code=code,
                name=mp.name if mp else "",
                stream=mp.stream.code if mp else "",
                stream_name=mp.stream.name if mp else "",
                quantity=quantity,
                months=cells,
            )
        )

    names = {p.stream.code: p.stream.name for p in plan.values()}
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in ledger.points:
        if p.stream:
            members[(p.stream, p.quantity)].add(p.code)
    by_stream: dict[tuple[str, str], list[Cell | None]] = defaultdict(lambda: [None] * 12)
    for r in stream_totals(org, period="month", start=start, end=end, con=con, side=side):
        index = _month_index(r.get("period_start"), year)
        if index is not None:
            by_stream[(str(r["stream"]), str(r["quantity"]))][index] = _cell(r)
    by_code = {(p.code, p.quantity): p for p in ledger.points}
    for (stream, quantity), cells in by_stream.items():
        # Expected: the sum of the stream's points' (elapsed) expectations, silent points included; a
        # month in which none of them read anything has no data ("—").
        for i, cell in enumerate(cells):
            expected = [by_code[(c, quantity)].months[i] for c in members[(stream, quantity)]]
            slots = sum(c.expected for c in expected if c is not None and c.expected is not None)
            if _no_data(cell):
                cells[i] = Cell(total=None, n=0, expected=slots, availability=None) if slots else None
            elif cell is not None:
                ratio = min(cell.n / slots, 1.0) if slots else None
                cells[i] = replace(cell, expected=slots or None, availability=ratio)
    ledger.streams = [
        StreamRow(stream, names.get(stream, ""), quantity, cells, points=sorted(members[(stream, quantity)]))
        for (stream, quantity), cells in sorted(by_stream.items())
    ]
    return ledger


def _elapsed_slots(month: date, interval: int, now: datetime) -> int:
    """Slots of ``interval`` seconds of the local ``month`` that began before ``now``."""
    span = period_span(month, "month")
    return slots_in(span, interval, Span(span.start, min(span.end, max(span.start, now))))


def _elapsed_only(
    cells: list[Cell | None], months: Sequence[date], interval: int | None, now: datetime
) -> None:
    """Expected slots only where time has passed: a month not begun expects nothing, the running month only
    its slots before ``now`` (future days are not missing). A begun month without any reading keeps its
    expected slots but no availability: it shows "—" (no data), not a red 0."""
    for i, month in enumerate(months):
        cell = cells[i]
        if period_span(month, "month").start >= now:
            cells[i] = None if cell is None else replace(cell, expected=None, availability=None)
            continue
        if not interval:
            continue
        expected = _elapsed_slots(month, interval, now)
        if _no_data(cell):
            cells[i] = Cell(total=None, n=0, expected=expected, availability=None)
        elif cell is not None:
            ratio = min(cell.n / expected, 1.0) if expected else None
            cells[i] = replace(cell, expected=expected, availability=ratio)


@dataclass(frozen=True)
class DayRow:
    day: date
    cell: Cell | None


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1]) + timedelta(days=1)


def daily(org: Organization, point: str, month: date, con: Any | None = None) -> dict[str, list[DayRow]]:
    """Daily totals of one point in one month, per quantity; every day of the month is listed."""
    end = month_end(month)
    rows = totals(org, period="day", start=month, end=end, points=[point], con=con)
    days = [month + timedelta(days=i) for i in range((end - month).days)]
    out: dict[str, dict[date, Cell]] = defaultdict(dict)
    for r in rows:
        if str(r.get("point")) != point or not isinstance(r.get("period_start"), date):
            continue
        out[str(r["quantity"])][r["period_start"]] = _cell(r)
    return {q: [DayRow(d, cells.get(d)) for d in days] for q, cells in sorted(out.items())}


def year_daily(org: Organization, year: int, con: Any | None = None) -> list[dict[str, Any]]:
    """Every point's daily totals in ``year`` (the workbook's 日台账), ordered by point, quantity, day."""
    rows = totals(org, period="day", start=date(year, 1, 1), end=date(year + 1, 1, 1), con=con)
    return sorted(rows, key=lambda r: (str(r["point"]), str(r["quantity"]), r["period_start"]))


def years_with_data(org: Organization, today: date) -> list[int]:
    """The years the selector offers: those with a partition in the lake, and this year."""
    root = lake_root() / f"org={org.credit_code}"
    years = {today.year}
    if root.is_dir():
        for child in root.glob("y=*"):
            try:
                years.add(int(child.name[2:]))
            except ValueError:
                continue
    return sorted(years, reverse=True)
