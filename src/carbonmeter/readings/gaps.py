"""Gaps and availability (可用率) of one point's readings within a period ``[start, end)``.

The period is cut into slots of the point's expected interval, anchored at the period start (an
Asia/Shanghai midnight for days and months, so 15-minute or hourly slots land on the clock).  A reading
belongs to the slot its instant falls in, so loggers that stamp a few seconds late still fill their slot;
a slot with two readings is reported as a duplicate slot (the data decide nothing about which one is right).
If the period is not a whole number of intervals, the last slot is short and still counted.

availability = present slots / expected slots × 100.  A missing slot is never filled here — it is named,
in runs of consecutive slots, for :mod:`carbonmeter.readings.substitution` or a person to deal with.
Readings outside the period are returned, not dropped.

Lab analyses (no expected interval) have no slots: the report counts the readings and says availability
does not apply (``None``), rather than inventing a frequency.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from msgspec import Struct

from carbonmeter.readings.series import Span


class DuplicateSlot(Struct, frozen=True, kw_only=True):
    slot: Span
    count: int


class GapReport(Struct, frozen=True, kw_only=True):
    period: Span
    #: Expected interval in seconds; None for lab analyses.
    interval: int | None
    #: Slots the period should hold; None when no interval is expected.
    expected: int | None
    #: Slots holding at least one reading (lab analyses: readings in the period).
    present: int
    #: Runs of consecutive missing slots, each as one span.
    missing: tuple[Span, ...]
    duplicates: tuple[DuplicateSlot, ...]
    #: Readings outside ``period``: not counted here, reported so nothing vanishes.
    outside: tuple[dt.datetime, ...]

    @property
    def availability(self) -> float | None:
        """present / expected × 100, or None when availability does not apply."""
        if self.expected is None:
            return None
        return 100.0 * self.present / self.expected

    @property
    def missing_count(self) -> int:
        return len(self.missing_slots())

    def missing_slots(self) -> tuple[Span, ...]:
        """Every missing slot on its own, in time order."""
        return tuple(slot for run in self.missing for slot in self.run_slots(run))

    def run_slots(self, run: Span) -> tuple[Span, ...]:
        """The slots of one missing run (empty for lab analyses, which have no slots)."""
        if self.interval is None:
            return ()
        step = dt.timedelta(seconds=self.interval)
        out: list[Span] = []
        t = run.start
        while t < run.end:
            out.append(Span(t, min(t + step, run.end)))
            t += step
        return tuple(out)


def slot_count(period: Span, interval: int) -> int:
    """How many slots of ``interval`` seconds ``period`` holds (a short last slot counts)."""
    seconds = period.end - period.start
    step = dt.timedelta(seconds=interval)
    return -(-seconds // step)


def slot_of(period: Span, interval: int, ts: dt.datetime) -> int:
    """The index of the slot ``ts`` falls in (``ts`` inside ``period``)."""
    return (ts - period.start) // dt.timedelta(seconds=interval)


def slot_span(period: Span, interval: int, index: int) -> Span:
    step = dt.timedelta(seconds=interval)
    start = period.start + index * step
    return Span(start, min(start + step, period.end))


def detect(timestamps: Sequence[dt.datetime], period: Span, interval: int | None) -> GapReport:
    """Gap report of one point's reading instants (any order) over ``period`` for an expected interval."""
    if interval is not None and interval <= 0:
        raise ValueError(f"expected interval must be a positive number of seconds, got {interval}")
    if period.end <= period.start:
        raise ValueError(f"the period {period.start.isoformat()} – {period.end.isoformat()} is empty")
    inside = [ts for ts in timestamps if period.contains(ts)]
    outside = tuple(sorted(ts for ts in timestamps if not period.contains(ts)))
    if interval is None:
        return GapReport(
            period=period,
            interval=None,
            expected=None,
            present=len(inside),
            missing=(),
            duplicates=(),
            outside=outside,
        )
    expected = slot_count(period, interval)
    counts = Counter(slot_of(period, interval, ts) for ts in inside)
    missing: list[Span] = []
    run_start: int | None = None
    for k in range(expected + 1):
        if k < expected and k not in counts:
            run_start = k if run_start is None else run_start
            continue
        if run_start is not None:
            missing.append(
                Span(slot_span(period, interval, run_start).start, slot_span(period, interval, k - 1).end)
            )
            run_start = None
    duplicates = tuple(
        DuplicateSlot(slot=slot_span(period, interval, k), count=n)
        for k, n in sorted(counts.items())
        if n > 1
    )
    return GapReport(
        period=period,
        interval=interval,
        expected=expected,
        present=len(counts),
        missing=tuple(missing),
        duplicates=duplicates,
        outside=outside,
    )
