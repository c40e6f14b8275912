"""Totalizers (累计表): from cumulative register readings to interval deltas, without inventing energy.

A register only ever goes up.  When it goes down, one of four things happened, and only the first three can
be told from the data plus what people recorded:

* the register **rolled over** at its modulus (a 6-digit register after 999 999): the delta is
  ``value + modulus - previous``, but only when that wrap is *plausible* (the wrapped delta is at most
  ``max_wrap_fraction`` of the modulus — a register that drops from 400 000 to 100 000 did not wrap; the
  share is the rule pack's ``settings.counter_max_wrap_fraction``; without it any wrap into ``[0, modulus]``
  is taken);
* a **recorded event** (reset, or meter replacement) lies between the two readings: the delta is
  ``(old_end - previous) + (value - new_start)`` — the old register up to its end reading, the new one from
  its start reading (several events in one interval chain the same way);
* **noise**: a drop no larger than the stated tolerance is jitter; the delta is 0 and the next delta is
  measured from the higher reading, so jitter neither adds nor loses consumption;
* anything else is a **decrease**: it is *not* taken for a reset (that is how other systems invent spikes);
  the delta is kept, flagged, and excluded from totals until a person records the event.

An event at instant *t* applies to the interval ``(previous.ts, value.ts]``: a reading stamped exactly at
*t* is read from the register after the event.  Events outside the readings' span change nothing and are
returned as unused, never dropped silently.

Period totals (:func:`period_totals`) count each delta in the period its interval *starts* in, as the
ledger's aggregation does, so every page gives the same day, month and year totals. :func:`apportion`
splits a delta linearly by time over the periods it spans, to show how a gap over midnight would divide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import Literal

from msgspec import Struct

from carbonmeter.readings.series import Period, Sample, Span, period_key, period_span, periods_over

DeltaFlag = Literal["normal", "rollover", "across_event", "noise", "decrease"]
EventKind = Literal["reset", "replacement"]
ShareFlag = Literal["whole", "apportioned"]


class CounterEvent(Struct, frozen=True, kw_only=True):
    """A recorded reset or meter replacement of one point's register, as a person entered it.

    ``old_end`` is the last register value before the event (of the old device, for a replacement),
    ``new_start`` the first after it (of the new device).  ``modulus`` is the new register's rollover
    modulus when a replacement changes it; None keeps the one in force.
    """

    ts: dt.datetime
    kind: EventKind
    old_end: float
    new_start: float
    modulus: float | None = None
    note: str = ""


class Delta(Struct, frozen=True, kw_only=True):
    """Consumption between two readings, and how it was obtained.

    ``start_value`` is the register value the delta is measured from (after noise, the higher earlier
    reading), ``end_value`` the reading at ``end``.  ``events`` are the recorded events the delta crosses.
    """

    start: dt.datetime
    end: dt.datetime
    delta: float
    flag: DeltaFlag
    start_value: float
    end_value: float
    events: tuple[CounterEvent, ...] = ()

    @property
    def counted(self) -> bool:
        """Whether the delta enters totals: an unexplained decrease does not."""
        return self.flag != "decrease"


class CounterResult(Struct, frozen=True, kw_only=True):
    deltas: tuple[Delta, ...]
    #: Recorded events that lie outside ``(first reading, last reading]``: they affect no delta.
    unused_events: tuple[CounterEvent, ...] = ()

    @property
    def total(self) -> float:
        """Sum of the counted deltas."""
        return math.fsum(d.delta for d in self.deltas if d.counted)

    @property
    def decreases(self) -> tuple[Delta, ...]:
        """The deltas excluded from totals, waiting for a person to record what happened."""
        return tuple(d for d in self.deltas if not d.counted)


def _step(
    ref: float,
    value: float,
    modulus: float | None,
    tolerance: float,
    max_wrap_fraction: float | None,
) -> tuple[float, DeltaFlag]:
    """The delta of one register segment read from ``ref`` to ``value``, with how it was obtained."""
    raw = value - ref
    if raw >= 0:
        return raw, "normal"
    if -raw <= tolerance:
        return 0.0, "noise"
    if modulus is not None:
        wrapped = raw + modulus
        if 0 <= wrapped <= (1.0 if max_wrap_fraction is None else max_wrap_fraction) * modulus:
            return wrapped, "rollover"
    return raw, "decrease"


def deltas(
    readings: Sequence[Sample],
    *,
    modulus: float | None = None,
    events: Sequence[CounterEvent] = (),
    tolerance: float = 0.0,
    max_wrap_fraction: float | None = None,
) -> CounterResult:
    """Interval deltas of one point's register readings (sorted by ``ts``, no two at the same instant).

    ``tolerance`` is the largest drop taken as noise (0: none).  Raises ``ValueError`` for unsorted or
    duplicate instants — the gap report names duplicates; here they would make a delta meaningless.
    """
    if modulus is not None and modulus <= 0:
        raise ValueError(f"modulus must be positive, got {modulus}")
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative, got {tolerance}")
    if max_wrap_fraction is not None and not 0 < max_wrap_fraction <= 1:
        raise ValueError(f"max_wrap_fraction must be in (0, 1], got {max_wrap_fraction}")
    for a, b in itertools.pairwise(readings):
        if b.ts <= a.ts:
            raise ValueError(
                f"readings must be sorted with distinct instants: {b.ts.isoformat()} "
                f"follows {a.ts.isoformat()}"
            )
    pending = sorted(events, key=lambda e: e.ts)
    unused: list[CounterEvent] = []
    i = 0
    if readings:
        while i < len(pending) and pending[i].ts <= readings[0].ts:
            unused.append(pending[i])
            i += 1
    out: list[Delta] = []
    ref = readings[0].value if readings else 0.0
    current_modulus = modulus
    for prev, cur in itertools.pairwise(readings):
        crossed: list[CounterEvent] = []
        while i < len(pending) and pending[i].ts <= cur.ts:
            crossed.append(pending[i])
            i += 1
        if not crossed:
            d, flag = _step(ref, cur.value, current_modulus, tolerance, max_wrap_fraction)
            out.append(
                Delta(start=prev.ts, end=cur.ts, delta=d, flag=flag, start_value=ref, end_value=cur.value)
            )
            # After noise the next delta starts from the higher reading; otherwise from this one.
            ref = ref if flag == "noise" else cur.value
            continue
        parts: list[float] = []
        decreased = False
        seg_start = ref
        for event in crossed:
            d, flag = _step(seg_start, event.old_end, current_modulus, tolerance, max_wrap_fraction)
            parts.append(d)
            decreased |= flag == "decrease"
            seg_start = event.new_start
            if event.modulus is not None:
                current_modulus = event.modulus
        d, flag = _step(seg_start, cur.value, current_modulus, tolerance, max_wrap_fraction)
        parts.append(d)
        decreased |= flag == "decrease"
        out.append(
            Delta(
                start=prev.ts,
                end=cur.ts,
                delta=math.fsum(parts),
                flag="decrease" if decreased else "across_event",
                start_value=ref,
                end_value=cur.value,
                events=tuple(crossed),
            )
        )
        ref = cur.value
    unused.extend(pending[i:])
    return CounterResult(deltas=tuple(out), unused_events=tuple(unused))


class Share(Struct, frozen=True, kw_only=True):
    """The part of a delta that falls in one Asia/Shanghai period (named by its first local day)."""

    period: dt.date
    start: dt.datetime
    end: dt.datetime
    value: float
    #: ``whole``: the delta lies in one period; ``apportioned``: split linearly by time across periods.
    flag: ShareFlag
    delta_flag: DeltaFlag


def apportion(delta: Delta, period: Period) -> tuple[Share, ...]:
    """Split ``delta`` over the periods its interval ``[start, end)`` overlaps, in proportion to time.

    The last share takes the remainder, so the shares add up to the delta.  A delta inside one period comes
    back whole.  Boundaries are Asia/Shanghai midnights (``series.period_span``).
    """
    key = period_key(delta.start, period)
    if delta.end <= period_span(key, period).end:
        return (
            Share(
                period=key,
                start=delta.start,
                end=delta.end,
                value=delta.delta,
                flag="whole",
                delta_flag=delta.flag,
            ),
        )
    span = Span(delta.start, delta.end)
    pieces = list(periods_over(span, period))
    total = span.seconds
    values = [delta.delta * part.seconds / total for _, part in pieces[:-1]]
    values.append(delta.delta - math.fsum(values))
    return tuple(
        Share(
            period=key,
            start=part.start,
            end=part.end,
            value=value,
            flag="apportioned",
            delta_flag=delta.flag,
        )
        for (key, part), value in zip(pieces, values, strict=True)
    )


class PeriodTotal(Struct, frozen=True, kw_only=True):
    """Consumption of one period from counted deltas, with what was left out.

    A delta belongs to the period its interval **starts** in (the earlier reading's Asia/Shanghai period),
    whole — the rule the ledger's aggregation (:func:`carbonmeter.readings.aggregate.totals`) follows, so
    the data-quality page and the ledger give the same day totals. A delta over a gap that crosses the
    period's end is counted where it starts; ``spanning`` says how much of the total that is.
    """

    period: dt.date
    total: float
    #: The part of ``total`` from deltas whose interval runs past the period's end (a gap over midnight).
    spanning: float
    #: Deltas counted here that crossed a recorded event or a rollover.
    across_events: int
    rollovers: int
    #: Sum of the excluded decreases starting in this period (negative), and how many there are.
    excluded: float
    decreases: int


def period_totals(result: CounterResult, period: Period) -> tuple[PeriodTotal, ...]:
    """Totals per Asia/Shanghai period, in period order, each delta in the period its interval starts in;
    excluded decreases are shown, not summed in."""
    by_period: dict[dt.date, list[Delta]] = {}
    for delta in result.deltas:
        by_period.setdefault(period_key(delta.start, period), []).append(delta)
    out: list[PeriodTotal] = []
    for key in sorted(by_period):
        end = period_span(key, period).end
        counted = [d for d in by_period[key] if d.counted]
        excluded = [d for d in by_period[key] if not d.counted]
        out.append(
            PeriodTotal(
                period=key,
                total=math.fsum(d.delta for d in counted),
                spanning=math.fsum(d.delta for d in counted if d.end > end),
                across_events=sum(d.flag == "across_event" for d in counted),
                rollovers=sum(d.flag == "rollover" for d in counted),
                excluded=math.fsum(d.delta for d in excluded),
                decreases=len(excluded),
            )
        )
    return tuple(out)
