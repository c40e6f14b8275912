"""Traceability (6.3.5–6.3.7): is an instrument's verification or calibration valid on a date?

An instrument is traceable at ``as_of`` when a passing record covers the date (``date ≤ as_of ≤
valid_until``, both ends inclusive) and no failing record dated after that pass and on or before ``as_of``
voids it.  A failed recalibration therefore withdraws the instrument at once, whatever its old certificate
says.  Records dated after ``as_of`` are not known yet and count for nothing.  A pass and a failure on the
same day: the pass wins (the instrument was repaired and passed); a pass without ``valid_until`` covers
no day.  The verdict keeps the record(s) that decided it, because a verifier asks "which certificate?".

This module is the one definition of the rule.  Everything that tells whether an instrument is usable is
built on it: the engine's findings, the web pages, label, plan, dashboard, API and reminders
(:func:`state`, through one SQL translation proven equal to :func:`trace` by a property test), and the
readings validity gate (:func:`trace_day`, the same rule judged with hindsight).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from datetime import date
from typing import Generic, Literal, NamedTuple, Protocol, TypeVar


class Dated(Protocol):
    """What the rule reads from a record; ``core.snapshot.Calibration`` and the web's rows fit."""

    @property
    def date(self) -> dt.date: ...
    @property
    def valid_until(self) -> dt.date | None: ...
    @property
    def result(self) -> str: ...


R = TypeVar("R", bound=Dated)

#: never: no passing record on or before as_of; expired: the newest pass ended before as_of;
#: voided: a later failed record withdrew the covering pass.
Reason = Literal["ok", "never", "expired", "voided"]


class Trace(NamedTuple, Generic[R]):
    traceable: bool
    reason: Reason
    #: The passing record that covers (or last covered) as_of, if any.
    record: R | None = None
    #: The failing record that voided it (reason "voided").
    failure: R | None = None


def _key(r: Dated) -> tuple[date, date, bool]:
    """Newest first by date, then by the end of its validity; of two otherwise equal passes the one that
    states its validity (so the order is total on what the rule reads, and SQL can repeat it)."""
    return (r.date, r.valid_until or r.date, r.valid_until is not None)


def _first_failure(failures: Sequence[R], after: date) -> R | None:
    later = [r for r in failures if r.date > after]
    return min(later, key=lambda r: r.date) if later else None


def trace(records: Sequence[R], as_of: date) -> Trace[R]:
    """Decide traceability from one instrument's records (any order), in one pass over them.

    When it is not traceable, the reason is told from the newest pass: voided if a failure followed it,
    otherwise expired — so a repair-and-pass after a failure is never reported as "failed, no pass since".
    """
    latest: R | None = None  # newest pass on or before as_of
    covering: R | None = None  # newest pass whose validity includes as_of
    failures: list[R] = []
    for r in records:
        if r.date > as_of:
            continue
        if r.result == "fail":
            failures.append(r)
            continue
        if latest is None or _key(r) > _key(latest):
            latest = r
        if (
            r.valid_until is not None
            and as_of <= r.valid_until
            and (covering is None or _key(r) > _key(covering))
        ):
            covering = r
    if latest is None:
        return Trace(False, "never")
    if covering is not None and _first_failure(failures, covering.date) is None:
        return Trace(True, "ok", record=covering)
    failure = _first_failure(failures, latest.date)
    if failure is not None:
        return Trace(False, "voided", record=latest, failure=failure)
    return Trace(False, "expired", record=latest)


def valid_until_from_interval(on: date, months: int) -> date:
    """The last valid day of a pass dated ``on`` with an interval of ``months`` (the instrument's
    ``interval_months``): the day before the same date ``months`` later (a 12-month verification on
    2026-01-15 is valid until 2027-01-14).  Where that date does not exist the month's last day stands in
    for it: 31 January + 1 month → 28 February, so valid until 27 February."""
    if months <= 0:
        raise ValueError(f"an interval is a positive number of months, got {months}")
    index = on.month - 1 + months
    year, month = on.year + index // 12, index % 12 + 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return date(year, month, min(on.day, last_day)) - dt.timedelta(days=1)


# --- over a period: the runs of days an instrument was not traceable (contract §6.4.5) ---------------------


class Period(NamedTuple):
    """A run of days, both ends inclusive."""

    start: date
    end: date


_DAY = dt.timedelta(days=1)


def traceable_spans(records: Sequence[Dated]) -> list[Period]:
    """The days on which :func:`trace` finds the instrument traceable, as sorted, disjoint, non-adjacent runs.

    Traceable on day d ⇔ some pass p has ``p.date ≤ d ≤ p.valid_until`` and no failure is dated in
    ``(p.date, d]``: :func:`trace` asks this of the newest covering pass, whose window ``(p.date, d]`` is the
    shortest, so "some" and "the newest" agree.  Each pass therefore covers ``[p.date, min(valid_until,
    first failure after p.date − 1 day)]``, and the union of those is the answer.  A day's verdict uses only
    records dated on or before it, so the spans
    need no ``as_of``.  O(n log n) in the records, whatever the length of the period.
    """
    fails: list[date] = []
    passes: list[tuple[date, date]] = []
    for r in records:
        if r.result == "fail":
            fails.append(r.date)
        elif r.valid_until is not None and r.valid_until >= r.date:
            passes.append((r.date, r.valid_until))
    if fails:
        fails.sort()
        cut = []
        for start, end in passes:
            i = bisect.bisect_right(fails, start)
            if i < len(fails) and fails[i] <= end:
                end = fails[i] - _DAY
            if end >= start:
                cut.append((start, end))
        passes = cut
    passes.sort()
    merged: list[Period] = []
    for start, end in passes:
        if merged and start <= merged[-1].end + _DAY:
            if end > merged[-1].end:
                merged[-1] = Period(merged[-1].start, end)
        else:
            merged.append(Period(start, end))
    return merged


def service_window(
    reporting_year: int, as_of: date, in_service_from: date | None, records: Sequence[Dated]
) -> Period | None:
    """The days of the reporting year an instrument is judged on (contract §6.4.5), or None when none.

    ``[max(1 January, in service from), min(31 December, as_of)]``.  Without ``in_service_from``: an
    instrument with a record dated before the reporting year was in service all year; one without is taken
    to have entered service on its first passing record (new instruments are verified before use, 6.3.9);
    one never passed is judged on the whole year (nothing vouches for any day of it).
    """
    first_day, last_day = date(reporting_year, 1, 1), min(date(reporting_year, 12, 31), as_of)
    start = first_day
    if in_service_from is not None:
        start = max(first_day, in_service_from)
    elif not any(r.date < first_day for r in records):
        passes = [r.date for r in records if r.result == "pass"]
        if passes:
            start = max(first_day, min(passes))
    return Period(start, last_day) if start <= last_day else None


def untraceable_periods(records: Sequence[Dated], window: Period | None) -> list[Period]:
    """The runs of days in ``window`` on which the instrument was not traceable (the window minus
    :func:`traceable_spans`), in order."""
    if window is None:
        return []
    gaps: list[Period] = []
    cursor = window.start
    for span in traceable_spans(records):
        if span.end < cursor:
            continue
        if span.start > window.end:
            break
        if span.start > cursor:
            gaps.append(Period(cursor, span.start - _DAY))
        cursor = span.end + _DAY
        if cursor > window.end:
            return gaps
    if cursor <= window.end:
        gaps.append(Period(cursor, window.end))
    return gaps


def untraceable_in_year(
    records: Sequence[Dated], reporting_year: int, as_of: date, in_service_from: date | None
) -> list[Period]:
    """:func:`untraceable_periods` over :func:`service_window`, in one pass over the records: the form the
    engine runs for every instrument of a plant (the two above are its specification, and a test holds the
    three together)."""
    first_day = date(reporting_year, 1, 1)
    last_day = min(date(reporting_year, 12, 31), as_of)
    fails: list[date] = []
    passes: list[tuple[date, date]] = []
    earlier = False
    first_pass: date | None = None
    for r in records:
        on = r.date
        if on < first_day:
            earlier = True
        if r.result == "fail":
            fails.append(on)
            continue
        if first_pass is None or on < first_pass:
            first_pass = on
        until = r.valid_until
        if until is not None and until >= on and until >= first_day and on <= last_day:
            passes.append((on, until))
    start = first_day
    if in_service_from is not None:
        start = max(first_day, in_service_from)
    elif not earlier and first_pass is not None:
        start = max(first_day, first_pass)
    if start > last_day:
        return []
    if fails:
        fails.sort()
        n = len(fails)
        cut = []
        for on, until in passes:
            i = bisect.bisect_right(fails, on)
            if i < n and fails[i] <= until:
                until = fails[i] - _DAY
            if until >= on:
                cut.append((on, until))
        passes = cut
    passes.sort()
    gaps: list[Period] = []
    cursor = start
    for on, until in passes:
        if until < cursor:
            continue
        if on > last_day:
            break
        if on > cursor:
            gaps.append(Period(cursor, on - _DAY))
        cursor = until + _DAY
        if cursor > last_day:
            return gaps
    if cursor <= last_day:
        gaps.append(Period(cursor, last_day))
    return gaps


# --- the state people read ------------------------------------------------------------------------------

#: The one vocabulary of an instrument's verification state, shown on every page, the label, the plan,
#: the dashboard, the API and in reminders (labels ``state.*`` in ``rules/messages.yaml``):
#: valid 有效 · due_soon 即将到期 · expired 已过期 · failed 复检不合格 · never 无合格记录.
State = Literal["valid", "due_soon", "expired", "failed", "never"]
STATES: tuple[State, ...] = ("valid", "due_soon", "expired", "failed", "never")
#: The states in which the instrument is traceable (usable, counted).
TRACEABLE_STATES: frozenset[State] = frozenset({"valid", "due_soon"})
_UNTRACEABLE: dict[Reason, State] = {"never": "never", "expired": "expired", "voided": "failed"}


def state(t: Trace[R], as_of: date, due_soon_days: int | None) -> State:
    """The state of a traced instrument: traceable ones are "due soon" when their covering record ends
    within ``due_soon_days`` (the pack's ``verification_due_soon_days``; None: never due soon)."""
    if not t.traceable:
        return _UNTRACEABLE[t.reason]
    until = t.record.valid_until if t.record is not None else None
    if until is not None and due_soon_days is not None and (until - as_of).days <= due_soon_days:
        return "due_soon"
    return "valid"


def due_date(t: Trace[R]) -> date | None:
    """The date shown beside the state: the end of the covering pass, or of the last pass."""
    return t.record.valid_until if t.record is not None else None


# --- judged with hindsight: the readings validity gate ----------------------------------------------------

DayFlag = Literal["valid", "after_failed", "no_valid_calibration"]


class DayTrace(NamedTuple):
    flag: DayFlag
    #: valid: the date of the passing record that covers the day.
    covered_by: date | None = None
    #: after_failed: the failed record's date, and the last pass before it (None: no pass before it).
    failed_on: date | None = None
    since: date | None = None


def trace_day(records: Sequence[R], day: date) -> DayTrace:
    """Whether what was measured on ``day`` rests on a valid calibration, knowing every record, later
    ones included.

    :func:`trace` at ``day`` decides, with one addition that only hindsight allows: a failure dated on or
    after ``day`` with no pass between ``day`` and it (``[day, failure)``) retro-flags the day — the meter
    may have been out of tolerance since its last good check, and the day of a failure is always flagged
    (records carry dates, not times).  A day with a passing check is vouched for by that check.

    * ``after_failed`` — voided at ``day`` by an earlier failure (or failed with no pass ever before), or
      retro-flagged by a later one; ``failed_on`` names the earliest such failure, ``since`` the last pass
      before it;
    * ``valid`` — otherwise traceable at ``day``, ``covered_by`` the covering pass;
    * ``no_valid_calibration`` — otherwise.
    """
    t = trace(records, day)
    if t.reason == "voided" and t.failure is not None and t.record is not None:
        return DayTrace("after_failed", failed_on=t.failure.date, since=t.record.date)
    if t.reason == "never":
        earlier = [r.date for r in records if r.result == "fail" and r.date <= day]
        if earlier:
            return DayTrace("after_failed", failed_on=min(earlier))
    passes = sorted(r.date for r in records if r.result == "pass")
    for f in sorted(r.date for r in records if r.result == "fail" and r.date >= day):
        if any(day <= p < f for p in passes):
            continue
        before = [p for p in passes if p < f]
        return DayTrace("after_failed", failed_on=f, since=before[-1] if before else None)
    if t.traceable and t.record is not None:
        return DayTrace("valid", covered_by=t.record.date)
    return DayTrace("no_valid_calibration")
