"""Substitution rules: only missing slots are filled, each fill says how, and no rule means no fill."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings.gaps import detect
from carbonmeter.readings.series import LOCAL, Sample, Span, period_span
from carbonmeter.readings.substitution import RULES, UnknownRuleError, rule, substitute

DAY = period_span(dt.date(2025, 6, 1), "day")


def local(h: float) -> dt.datetime:
    return dt.datetime(2025, 6, 1, tzinfo=LOCAL) + dt.timedelta(hours=h)


def day_of(values: dict[int, float]) -> list[Sample]:
    return [Sample(local(h), v) for h, v in sorted(values.items())]


def run(samples: list[Sample], name: str, **kw: object) -> object:
    return substitute(samples, detect([s.ts for s in samples], DAY, 3600), name, **kw)  # type: ignore[arg-type]


FULL = {h: float(10 + h) for h in range(24)}


def without(*hours: int) -> list[Sample]:
    return day_of({h: v for h, v in FULL.items() if h not in hours})


def test_rule_names_are_checked() -> None:
    assert rule("period_max") == "period_max"
    with pytest.raises(UnknownRuleError, match="mean_adjacent"):
        rule("average")
    with pytest.raises(ValueError):  # UnknownRuleError is a ValueError
        substitute([], detect([], DAY, 3600), "zero_fill")
    assert set(RULES) == {"mean_adjacent", "period_max", "mean_plus_2sd", "pack_default", "none"}


def test_mean_adjacent_uses_both_sides_for_a_whole_run() -> None:
    samples = without(5, 6, 7)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "mean_adjacent")
    assert [f.slot.start for f in r.fills] == [local(5), local(6), local(7)]
    assert {f.value for f in r.fills} == {(14.0 + 18.0) / 2}
    assert {f.basis for f in r.fills} == {"both_sides"}
    assert {f.gap for f in r.fills} == {Span(local(5), local(8))}
    assert r.fills[0].inputs == (Sample(local(4), 14.0), Sample(local(8), 18.0))


def test_mean_adjacent_with_one_side_says_so() -> None:
    samples = without(0, 1)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "mean_adjacent")
    assert {(f.value, f.basis) for f in r.fills} == {(12.0, "after_only")}
    # A sample from the day before may serve as the earlier neighbour.
    with_prev = [Sample(local(-1), 6.0), *samples]
    r2 = substitute(with_prev, detect([s.ts for s in with_prev], DAY, 3600), "mean_adjacent")
    assert {(f.value, f.basis) for f in r2.fills} == {(9.0, "both_sides")}
    assert r2.measured == tuple(samples)  # the outside neighbour is not a measured value of this day
    tail = without(22, 23)
    r3 = substitute(tail, detect([s.ts for s in tail], DAY, 3600), "mean_adjacent")
    assert {(f.value, f.basis) for f in r3.fills} == {(31.0, "before_only")}


def test_mean_adjacent_without_neighbours_leaves_a_flagged_gap() -> None:
    r = substitute([], detect([], DAY, 3600), "mean_adjacent")
    assert len(r.fills) == 24 and not r.substituted
    assert {f.basis for f in r.unfilled} == {"no_adjacent_value"}
    assert {v.origin for v in r.series()} == {"gap"}


def test_period_max_is_the_largest_valid_value() -> None:
    samples = without(3)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "period_max")
    assert [f.value for f in r.fills] == [33.0]
    assert r.fills[0].inputs == (Sample(local(23), 33.0),)
    assert r.fills[0].n == 23


def test_mean_plus_2sd_against_numpy() -> None:
    samples = without(10, 11)
    values = np.array([v for h, v in FULL.items() if h not in (10, 11)])
    expected = values.mean() + 2 * values.std(ddof=1)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "mean_plus_2sd")
    assert [f.value for f in r.fills] == pytest.approx([expected, expected])
    assert {f.n for f in r.fills} == {22}
    one = [Sample(local(0), 5.0)]
    r1 = substitute(one, detect([local(0)], DAY, 3600), "mean_plus_2sd")
    assert not r1.substituted and {f.basis for f in r1.fills} == {"too_few_values"}


def test_pack_default_carries_its_source() -> None:
    samples = without(12)
    report = detect([s.ts for s in samples], DAY, 3600)
    r = substitute(samples, report, "pack_default", default=7.5, default_source="核算指南 附录B 表2.1")
    assert [(f.value, f.source, f.rule) for f in r.fills] == [(7.5, "核算指南 附录B 表2.1", "pack_default")]
    with pytest.raises(ValueError, match="source"):
        substitute(samples, report, "pack_default", default=7.5)
    with pytest.raises(ValueError, match="default"):
        substitute(samples, report, "pack_default", default_source="x")


def test_none_leaves_every_gap_flagged() -> None:
    samples = without(2, 9)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "none")
    assert len(r.fills) == 2 and not r.substituted
    assert {(f.value, f.basis) for f in r.unfilled} == {(None, "rule_none")}


def test_series_merges_measured_and_substituted_in_time_order() -> None:
    samples = without(4)
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "mean_adjacent")
    series = r.series()
    assert len(series) == 24
    assert [v.ts for v in series] == [local(h) for h in range(24)]
    assert series[4].origin == "substituted" and series[4].rule == "mean_adjacent"
    assert series[4].value == (13.0 + 15.0) / 2
    assert {v.origin for i, v in enumerate(series) if i != 4} == {"measured"}


# --- properties --------------------------------------------------------------------------------------


@st.composite
def partial_days(draw: st.DrawFn) -> list[Sample]:
    hours = draw(st.sets(st.integers(0, 23), max_size=24))
    return [
        Sample(local(h) + dt.timedelta(seconds=draw(st.integers(0, 3599))), draw(st.floats(-1e3, 1e6)))
        for h in sorted(hours)
    ]


@settings(max_examples=200, deadline=None)
@given(partial_days(), st.sampled_from(RULES))
def test_fills_only_missing_slots_each_with_its_rule(samples: list[Sample], name: str) -> None:
    report = detect([s.ts for s in samples], DAY, 3600)
    kw = {"default": 1.0, "default_source": "pack"} if name == "pack_default" else {}
    r = substitute(samples, report, name, **kw)  # type: ignore[arg-type]
    measured_hours = {s.ts.astimezone(LOCAL).hour for s in samples}
    filled_hours = [f.slot.start.astimezone(LOCAL).hour for f in r.fills]
    # Every missing slot gets exactly one entry (filled or still a gap), never a measured slot.
    assert sorted(filled_hours) == sorted(set(range(24)) - measured_hours)
    assert not set(filled_hours) & measured_hours
    assert {f.rule for f in r.fills} <= {name}
    for f in r.fills:
        assert f.gap.start <= f.slot.start < f.slot.end <= f.gap.end
    # The measured values come through unchanged.
    assert [(v.ts, v.value) for v in r.series() if v.origin == "measured"] == [
        (s.ts, s.value) for s in samples
    ]
    if name == "none":
        assert not r.substituted


@settings(max_examples=200, deadline=None)
@given(partial_days())
def test_period_max_is_never_below_a_measured_value(samples: list[Sample]) -> None:
    r = substitute(samples, detect([s.ts for s in samples], DAY, 3600), "period_max")
    for f in r.substituted:
        assert f.value is not None
        assert all(f.value >= s.value for s in samples)
    if samples:
        assert len(r.substituted) == len(r.fills)
    else:
        assert not r.substituted
