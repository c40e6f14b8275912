"""Substitution (替代) of missing slots by a stated rule — never zero, never silently.

The rule comes from the point profile (configuration), so it is data: :func:`rule` checks a configured name
and refuses an unknown one with the list of known ones.  Each rule fills only the slots the gap report
names as missing, never a slot that holds a measured value, and every filled value carries its rule, the
gap (run of missing slots) it belongs to and what it was computed from.  Where a rule cannot give a value,
the slot stays an *unfilled*, flagged gap.

Rules:

``mean_adjacent``
    mean of the last valid value before the gap and the first valid value after it (the samples passed in
    may reach beyond the period for this).  With only one side, that side's value, and the fill says so.
    With neither: unfilled.
``period_max``
    the largest valid value in the period — conservative for emissions.
``mean_plus_2sd``
    CEMS concentrations: mean + 2 × sample standard deviation (n − 1) of the period's valid values; fewer
    than two values give no standard deviation, so the slot stays unfilled.
``pack_default``
    a stated default per slot (缺省值) with the source it comes from; the source is required.
``none``
    no substitution: every missing slot stays a flagged gap.

Values are the samples given; whoever calls decides which readings are valid (e.g. after the validity gate)
and builds the gap report from those same samples.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from collections.abc import Sequence
from typing import Literal, get_args

from msgspec import Struct

from carbonmeter.readings.gaps import GapReport
from carbonmeter.readings.series import Sample, Span

RuleName = Literal["mean_adjacent", "period_max", "mean_plus_2sd", "pack_default", "none"]
RULES: tuple[RuleName, ...] = get_args(RuleName)

Basis = Literal[
    "both_sides",
    "before_only",
    "after_only",
    "no_adjacent_value",
    "period_max",
    "no_valid_value",
    "mean_plus_2sd",
    "too_few_values",
    "pack_default",
    "rule_none",
]
Origin = Literal["measured", "substituted", "gap"]


class UnknownRuleError(ValueError):
    """A configured substitution rule name that is not one of :data:`RULES`."""


def rule(name: str) -> RuleName:
    """The rule a configured name stands for; raises :class:`UnknownRuleError` for an unknown name."""
    for known in RULES:
        if name == known:
            return known
    raise UnknownRuleError(f"unknown substitution rule {name!r}; known rules: {', '.join(RULES)}")


class Fill(Struct, frozen=True, kw_only=True):
    """What became of one missing slot."""

    slot: Span
    #: The run of consecutive missing slots this slot belongs to.
    gap: Span
    rule: RuleName
    #: The substituted value; None when the rule could not give one (the slot stays a flagged gap).
    value: float | None
    basis: Basis
    #: The measured samples the value rests on (adjacent values, or the period maximum).
    inputs: tuple[Sample, ...] = ()
    #: How many valid values a period statistic used.
    n: int = 0
    #: Where a pack default comes from (document, table, clause).
    source: str = ""

    @property
    def substituted(self) -> bool:
        return self.value is not None


class SeriesValue(Struct, frozen=True, kw_only=True):
    """One slot of the completed series: measured, substituted (with its rule and gap), or still a gap."""

    ts: dt.datetime
    value: float | None
    origin: Origin
    rule: RuleName | None = None
    gap: Span | None = None
    basis: Basis | None = None


class SubstitutionResult(Struct, frozen=True, kw_only=True):
    period: Span
    rule: RuleName
    fills: tuple[Fill, ...]
    #: The measured samples inside the period, as given.
    measured: tuple[Sample, ...]

    @property
    def substituted(self) -> tuple[Fill, ...]:
        return tuple(f for f in self.fills if f.value is not None)

    @property
    def unfilled(self) -> tuple[Fill, ...]:
        return tuple(f for f in self.fills if f.value is None)

    def series(self) -> tuple[SeriesValue, ...]:
        """Measured values and fills in time order; an unfilled slot appears with value None."""
        out = [SeriesValue(ts=s.ts, value=s.value, origin="measured") for s in self.measured]
        out.extend(
            SeriesValue(
                ts=f.slot.start,
                value=f.value,
                origin="substituted" if f.value is not None else "gap",
                rule=f.rule,
                gap=f.gap,
                basis=f.basis,
            )
            for f in self.fills
        )
        out.sort(key=lambda v: v.ts)
        return tuple(out)


def _adjacent(ordered: Sequence[Sample], gap: Span) -> tuple[float | None, Basis, tuple[Sample, ...]]:
    times = [s.ts for s in ordered]
    i = bisect.bisect_left(times, gap.start)
    j = bisect.bisect_left(times, gap.end)
    before = ordered[i - 1] if i > 0 else None
    after = ordered[j] if j < len(ordered) else None
    if before is not None and after is not None:
        return (before.value + after.value) / 2, "both_sides", (before, after)
    if before is not None:
        return before.value, "before_only", (before,)
    if after is not None:
        return after.value, "after_only", (after,)
    return None, "no_adjacent_value", ()


def substitute(
    readings: Sequence[Sample],
    report: GapReport,
    rule_name: str,
    *,
    default: float | None = None,
    default_source: str = "",
) -> SubstitutionResult:
    """Fill the missing slots of ``report`` from ``readings`` by the configured rule.

    ``readings`` are the valid samples the report was made from (any order; samples outside the period
    serve only as adjacent values for ``mean_adjacent``).  ``pack_default`` needs ``default`` and a
    non-empty ``default_source``.
    """
    chosen = rule(rule_name)
    if chosen == "pack_default" and (default is None or not math.isfinite(default)):
        raise ValueError("rule pack_default needs a finite default value")
    if chosen == "pack_default" and not default_source.strip():
        raise ValueError("rule pack_default needs the source of the default value (document, table, clause)")
    ordered = sorted(readings, key=lambda s: s.ts)
    inside = tuple(s for s in ordered if report.period.contains(s.ts))
    values = [s.value for s in inside]

    top = max(inside, key=lambda s: s.value, default=None)
    fills: list[Fill] = []
    for gap in report.missing:
        value: float | None
        inputs: tuple[Sample, ...] = ()
        n = 0
        if chosen == "mean_adjacent":
            value, basis, inputs = _adjacent(ordered, gap)
        elif chosen == "period_max":
            n = len(values)
            value, basis = (top.value, "period_max") if top else (None, "no_valid_value")
            inputs = (top,) if top else ()
        elif chosen == "mean_plus_2sd":
            n = len(values)
            if n >= 2:
                value, basis = statistics.fmean(values) + 2 * statistics.stdev(values), "mean_plus_2sd"
            else:
                value, basis = None, "too_few_values"
        elif chosen == "pack_default":
            value, basis = default, "pack_default"
        else:
            value, basis = None, "rule_none"
        fills.extend(
            Fill(
                slot=slot,
                gap=gap,
                rule=chosen,
                value=value,
                basis=basis,
                inputs=inputs,
                n=n,
                source=default_source if chosen == "pack_default" else "",
            )
            for slot in report.run_slots(gap)
        )
    return SubstitutionResult(period=report.period, rule=chosen, fills=tuple(fills), measured=inside)
