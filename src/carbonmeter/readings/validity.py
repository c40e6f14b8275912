"""Instrument validity gate: which readings rest on a valid calibration, and what rests on the others.

A reading is judged on its Asia/Shanghai calendar day ``d`` against the records of the instrument that
produced it (any kind — verification or calibration — and any order).  The rule is the core's
(:func:`carbonmeter.core.traceability.trace_day`: :func:`~carbonmeter.core.traceability.trace` at ``d``,
judged with hindsight), not restated here, so a reading and its instrument's page can never disagree:

``after_failed``
    a failed record ``F`` retro-flags every reading since the last passing record dated before it (``P``):
    the meter may have been out of tolerance since its last good check.  The window is ``P < d ≤ F``, and
    beyond ``F`` for as long as the instrument stays voided (until a pass after repair); no ``P`` means
    from the beginning.  The day of the failure itself is always flagged (records carry dates, not times).
``valid``
    otherwise, the instrument is traceable on ``d``: a passing record covers the day
    (``date ≤ d ≤ valid_until``, both inclusive) and no failure after it voids it.
``no_valid_calibration``
    neither.

:func:`impact` sums the CO2 tonnes that rest on each flag and on each failed record, so the emission
consequence of a failed calibration is shown next to it, not discovered by a verifier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Literal, Protocol

from msgspec import Struct

from carbonmeter.core.traceability import Dated, DayFlag, trace_day
from carbonmeter.readings.series import LOCAL

Flag = DayFlag
FLAGS: tuple[Flag, ...] = ("valid", "after_failed", "no_valid_calibration")


class CalibrationLike(Dated, Protocol):
    """What the gate reads from a record (the core rule's fields and the kind); ``carbonmeter.core.snapshot.
    Calibration`` fits."""

    @property
    def kind(self) -> str: ...


class CalibrationRecord(Struct, frozen=True, kw_only=True):
    date: dt.date
    result: Literal["pass", "fail"]
    valid_until: dt.date | None = None
    kind: str = "calibration"
    certificate_no: str = ""


class Verdict(Struct, frozen=True, kw_only=True):
    """The gate's answer for one day (and so for every reading on it)."""

    day: dt.date
    flag: Flag
    #: valid: the date of the passing record that covers the day (the newest one).
    covered_by: dt.date | None = None
    #: after_failed: the failed record's date, and the last pass before it (None: no pass before it).
    failed_on: dt.date | None = None
    since: dt.date | None = None

    @property
    def valid(self) -> bool:
        return self.flag == "valid"


class Gate:
    """The records of one instrument, checked once, judging any number of days (each day once)."""

    def __init__(self, records: Sequence[CalibrationLike]) -> None:
        for r in records:
            if r.result not in ("pass", "fail"):
                raise ValueError(f"calibration result must be 'pass' or 'fail', got {r.result!r} on {r.date}")
        self._records = tuple(records)
        self._cache: dict[dt.date, Verdict] = {}

    def day(self, d: dt.date) -> Verdict:
        """The verdict for one calendar day."""
        if (hit := self._cache.get(d)) is not None:
            return hit
        t = trace_day(self._records, d)
        verdict = Verdict(day=d, flag=t.flag, covered_by=t.covered_by, failed_on=t.failed_on, since=t.since)
        self._cache[d] = verdict
        return verdict


def reading_day(ts: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of a tz-aware instant."""
    if ts.tzinfo is None:
        raise ValueError(f"reading ts {ts.isoformat()} has no time zone")
    return ts.astimezone(LOCAL).date()


def gate(timestamps: Sequence[dt.datetime], records: Sequence[CalibrationLike]) -> tuple[Verdict, ...]:
    """One verdict per reading instant, in the order given."""
    g = Gate(records)
    return tuple(g.day(reading_day(ts)) for ts in timestamps)


class Run(Struct, frozen=True, kw_only=True):
    """Consecutive days ``first``…``last`` (inclusive) with the same verdict."""

    first: dt.date
    last: dt.date
    verdict: Verdict

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def gate_period(first: dt.date, last: dt.date, records: Sequence[CalibrationLike]) -> tuple[Run, ...]:
    """The days ``first``…``last`` (a period total's days) cut into runs of equal verdict."""
    if last < first:
        raise ValueError(f"period ends ({last}) before it starts ({first})")
    g = Gate(records)
    runs: list[Run] = []
    d = first
    while d <= last:
        v = g.day(d)
        key = (v.flag, v.covered_by, v.failed_on, v.since)
        prev = runs[-1].verdict if runs else None
        if prev is not None and (prev.flag, prev.covered_by, prev.failed_on, prev.since) == key:
            runs[-1] = Run(first=runs[-1].first, last=d, verdict=prev)
        else:
            runs.append(Run(first=d, last=d, verdict=v))
        d += dt.timedelta(days=1)
    return tuple(runs)


class Impact(Struct, frozen=True, kw_only=True):
    """CO2 tonnes and reading counts per verdict flag, and per failed record."""

    tonnes: dict[str, float]
    readings: dict[str, int]
    #: after_failed tonnes per failed record date (ISO), so each failure shows its consequence.
    by_failed_record: dict[str, float]

    @property
    def total(self) -> float:
        return math.fsum(self.tonnes.values())

    @property
    def flagged(self) -> float:
        """Tonnes that rest on readings not backed by a valid calibration."""
        return math.fsum(t for flag, t in self.tonnes.items() if flag != "valid")


def impact(verdicts: Sequence[Verdict], values: Sequence[float], *, factor: float = 1.0) -> Impact:
    """Tonnes per flag from each reading's CO2 tonnes (or activity values × an emission ``factor`` in t/unit).

    ``verdicts`` and ``values`` pair up one to one; a length mismatch is an error, not a truncation.
    """
    if len(verdicts) != len(values):
        raise ValueError(f"{len(verdicts)} verdicts but {len(values)} values")
    parts: dict[str, list[float]] = {f: [] for f in FLAGS}
    by_failed: dict[str, list[float]] = {}
    for v, x in zip(verdicts, values, strict=True):
        t = x * factor
        parts[v.flag].append(t)
        if v.failed_on is not None:
            by_failed.setdefault(v.failed_on.isoformat(), []).append(t)
    return Impact(
        tonnes={f: math.fsum(ts) for f, ts in parts.items()},
        readings={f: len(ts) for f, ts in parts.items()},
        by_failed_record={k: math.fsum(ts) for k, ts in sorted(by_failed.items())},
    )


def period_impact(
    first: dt.date, last: dt.date, tonnes: float, records: Sequence[CalibrationLike]
) -> tuple[tuple[Run, ...], Impact]:
    """For a period total: its days' runs, and the tonnes resting on each, spread evenly over the days.

    Even spreading is the only honest split a single total allows; with daily values use :func:`impact`.
    """
    runs = gate_period(first, last, records)
    n_days = (last - first).days + 1
    verdicts = [r.verdict for r in runs]
    shares = [tonnes * r.days / n_days for r in runs]
    result = impact(verdicts, shares)
    counts: dict[str, int] = {f: sum(r.days for r in runs if r.verdict.flag == f) for f in FLAGS}
    return runs, Impact(tonnes=result.tonnes, readings=counts, by_failed_record=result.by_failed_record)
