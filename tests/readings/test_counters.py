"""Totalizer deltas: rollovers, recorded events, noise, unexplained decreases, and apportioning by period."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings.counters import CounterEvent, apportion, deltas, period_totals
from carbonmeter.readings.series import LOCAL, UTC, Row, Sample, as_rows, samples
from carbonmeter.rules.loader import load_pack

T0 = dt.datetime(2025, 1, 31, 0, 0, tzinfo=LOCAL)
#: The rule pack's plausible-wrap share (settings.counter_max_wrap_fraction).
WRAP = float(load_pack("cq-part1").settings.counter_max_wrap_fraction.value or 0)


def hourly(*values: float, start: dt.datetime = T0) -> list[Sample]:
    return [Sample(start + dt.timedelta(hours=i), v) for i, v in enumerate(values)]


def at(h: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=h)


def test_monotone_register_gives_plain_differences() -> None:
    r = deltas(hourly(100, 105, 105, 112.5))
    assert [d.delta for d in r.deltas] == [5, 0, 7.5]
    assert {d.flag for d in r.deltas} == {"normal"}
    assert r.total == 12.5
    assert r.deltas[0].start == at(0) and r.deltas[0].end == at(1)


def test_plausible_wrap_at_the_modulus_is_a_rollover() -> None:
    r = deltas(hourly(999_990, 5, 20), modulus=1_000_000)
    assert r.deltas[0].flag == "rollover"
    assert r.deltas[0].delta == 15  # 10 to the wrap, 5 after it
    assert r.total == 30


def test_implausible_wrap_is_a_decrease_not_a_rollover() -> None:
    # 400 000 -> 100 000 on a 1 000 000 register would be a 700 000 wrap: not plausible.
    r = deltas(hourly(400_000, 100_000, 100_010), modulus=1_000_000, max_wrap_fraction=WRAP)
    assert r.deltas[0].flag == "decrease"
    assert not r.deltas[0].counted
    assert r.total == 10
    assert r.decreases == (r.deltas[0],)


def test_decrease_without_modulus_or_event_is_flagged_and_excluded() -> None:
    r = deltas(hourly(500, 510, 3, 8))
    flags = [d.flag for d in r.deltas]
    assert flags == ["normal", "decrease", "normal"]
    assert r.deltas[1].delta == -507
    assert r.total == 15  # 10 + 5, the decrease is not taken for a reset


def test_noise_within_tolerance_is_zero_and_measured_from_the_high_reading() -> None:
    r = deltas(hourly(100, 100.5, 100.45, 101.0), tolerance=0.1)
    assert [d.flag for d in r.deltas] == ["normal", "noise", "normal"]
    assert r.deltas[1].delta == 0
    assert r.deltas[2].start_value == 100.5
    assert r.total == pytest.approx(1.0)  # not 1.05: jitter adds nothing
    # Beyond the tolerance it is a decrease.
    r2 = deltas(hourly(100, 100.5, 100.3), tolerance=0.1)
    assert r2.deltas[1].flag == "decrease"


def test_reset_event_counts_both_sides() -> None:
    ev = CounterEvent(ts=at(1.5), kind="reset", old_end=530, new_start=0)
    r = deltas(hourly(500, 520, 12, 20), events=[ev])
    assert [d.flag for d in r.deltas] == ["normal", "across_event", "normal"]
    assert r.deltas[1].delta == (530 - 520) + (12 - 0)
    assert r.deltas[1].events == (ev,)
    assert r.total == 20 + 22 + 8


def test_replacement_may_change_the_modulus() -> None:
    ev = CounterEvent(ts=at(1.5), kind="replacement", old_end=9_990, new_start=99_990, modulus=100_000)
    r = deltas(hourly(9_980, 9_985, 99_995, 10), modulus=10_000, events=[ev])
    assert r.deltas[1].delta == 5 + 5
    assert r.deltas[2].flag == "rollover"
    assert r.deltas[2].delta == 15  # wraps at the new device's 100 000, not the old 10 000


def test_two_events_in_one_interval_chain() -> None:
    e1 = CounterEvent(ts=at(0.2), kind="reset", old_end=110, new_start=0)
    e2 = CounterEvent(ts=at(0.6), kind="replacement", old_end=4, new_start=1_000)
    r = deltas(hourly(100, 1_007), events=[e2, e1])
    assert r.deltas[0].delta == 10 + 4 + 7
    assert r.deltas[0].events == (e1, e2)


def test_event_with_inconsistent_end_reading_is_a_decrease() -> None:
    ev = CounterEvent(ts=at(0.5), kind="replacement", old_end=90, new_start=0)
    r = deltas(hourly(100, 5), events=[ev])
    assert r.deltas[0].flag == "decrease"
    assert r.total == 0


def test_reading_at_the_event_instant_is_read_after_the_event() -> None:
    ev = CounterEvent(ts=at(1), kind="replacement", old_end=108, new_start=0)
    r = deltas(hourly(100, 3, 9), events=[ev])
    assert r.deltas[0].flag == "across_event"
    assert r.deltas[0].delta == 8 + 3


def test_events_outside_the_readings_are_returned_unused() -> None:
    before = CounterEvent(ts=at(-1), kind="reset", old_end=1, new_start=0)
    on_first = CounterEvent(ts=at(0), kind="reset", old_end=1, new_start=0)
    after = CounterEvent(ts=at(9), kind="reset", old_end=1, new_start=0)
    r = deltas(hourly(1, 2), events=[after, on_first, before])
    assert set(r.unused_events) == {before, on_first, after}
    assert r.deltas[0].flag == "normal"
    assert deltas([], events=[before]).unused_events == (before,)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        deltas([Sample(at(1), 1), Sample(at(0), 2)])
    with pytest.raises(ValueError, match="sorted"):
        deltas([Sample(at(1), 1), Sample(at(1), 2)])
    with pytest.raises(ValueError, match="modulus"):
        deltas(hourly(1, 2), modulus=0)
    with pytest.raises(ValueError, match="tolerance"):
        deltas(hourly(1, 2), tolerance=-1)
    with pytest.raises(ValueError, match="time zone"):
        Sample(dt.datetime(2025, 1, 1), 1.0)


def test_gap_over_midnight_is_apportioned_not_shifted() -> None:
    # Readings at 22:00 on 31 Jan and 02:00 on 1 Feb (Shanghai): 40 units over 4 hours.
    r = deltas([Sample(at(22), 1_000), Sample(at(26), 1_040)])
    shares = apportion(r.deltas[0], "day")
    assert [s.period for s in shares] == [dt.date(2025, 1, 31), dt.date(2025, 2, 1)]
    assert [s.value for s in shares] == pytest.approx([20, 20])
    assert {s.flag for s in shares} == {"apportioned"}
    assert shares[0].end == dt.datetime(2025, 2, 1, tzinfo=LOCAL)
    months = apportion(r.deltas[0], "month")
    assert [s.period for s in months] == [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    whole = apportion(r.deltas[0], "year")
    assert len(whole) == 1 and whole[0].flag == "whole" and whole[0].value == 40


def test_shanghai_midnight_not_utc_midnight_splits_days() -> None:
    # 15:00-17:00 UTC on 1 March is 23:00-01:00 Shanghai: split at 16:00 UTC.
    start = dt.datetime(2025, 3, 1, 15, tzinfo=UTC)
    r = deltas([Sample(start, 0), Sample(start + dt.timedelta(hours=2), 6)])
    shares = apportion(r.deltas[0], "day")
    assert [s.period for s in shares] == [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]
    assert shares[0].end == dt.datetime(2025, 3, 1, 16, tzinfo=UTC)
    assert [s.value for s in shares] == pytest.approx([3, 3])


def test_period_totals_show_excluded_decreases_apart() -> None:
    r = deltas([Sample(at(20), 10), Sample(at(23), 40), Sample(at(25), 5), Sample(at(27), 9)])
    totals = {t.period: t for t in period_totals(r, "day")}
    jan31, feb1 = totals[dt.date(2025, 1, 31)], totals[dt.date(2025, 2, 1)]
    assert jan31.total == pytest.approx(30)
    assert feb1.total == pytest.approx(4)
    # The decrease (40 -> 5 over 23:00-01:00) starts on the 31st: shown there, never counted.
    assert jan31.excluded == pytest.approx(-35) and jan31.decreases == 1
    assert feb1.excluded == 0 and feb1.decreases == 0


def test_a_delta_over_midnight_belongs_to_the_day_it_starts_in() -> None:
    """The ledger's rule (aggregate.totals): the whole delta of 22:00 → 02:00 is counted on the 31st, and
    ``spanning`` says how much of that day's total ran past its midnight."""
    r = deltas([Sample(at(21), 0), Sample(at(22), 1), Sample(at(26), 9), Sample(at(27), 10)])
    totals = {t.period: t for t in period_totals(r, "day")}
    jan31, feb1 = totals[dt.date(2025, 1, 31)], totals[dt.date(2025, 2, 1)]
    assert (jan31.total, jan31.spanning) == (pytest.approx(9), pytest.approx(8))
    assert (feb1.total, feb1.spanning) == (pytest.approx(1), 0)


def test_without_a_wrap_share_any_wrap_within_the_modulus_is_a_rollover() -> None:
    r = deltas(hourly(400_000, 100_000), modulus=1_000_000)
    assert r.deltas[0].flag == "rollover" and r.deltas[0].delta == 700_000
    with pytest.raises(ValueError, match="max_wrap_fraction"):
        deltas(hourly(1, 2), modulus=10, max_wrap_fraction=1.5)


# --- properties --------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    modulus=st.integers(10, 10**7),
    start_frac=st.floats(0, 1, exclude_max=True),
    fracs=st.lists(st.floats(0, 0.49), min_size=1, max_size=60),
)
def test_monotone_register_with_rollovers_sums_to_consumption(
    modulus: int, start_frac: float, fracs: list[float]
) -> None:
    # Integer consumption below half the modulus per interval: every wrap is plausible and exact.
    increments = [int(f * modulus) for f in fracs]
    start = int(start_frac * modulus)
    values = [start]
    for inc in increments:
        values.append((values[-1] + inc) % modulus)
    r = deltas(hourly(*values), modulus=modulus)
    assert r.total == sum(increments)
    assert [d.delta for d in r.deltas] == increments
    wraps = sum(1 for a, b in itertools.pairwise(values) if b < a)
    assert sum(d.flag == "rollover" for d in r.deltas) == wraps


@settings(max_examples=200, deadline=None)
@given(
    first=st.integers(0, 10**6),
    old_incs=st.lists(st.integers(0, 10**4), min_size=0, max_size=20),
    tail=st.integers(0, 10**4),
    new_start=st.integers(0, 10**6),
    head=st.integers(0, 10**4),
    new_incs=st.lists(st.integers(0, 10**4), min_size=0, max_size=20),
)
def test_replacement_total_is_old_span_plus_new_span(
    first: int, old_incs: list[int], tail: int, new_start: int, head: int, new_incs: list[int]
) -> None:
    old = [first]
    for inc in old_incs:
        old.append(old[-1] + inc)
    old_end = old[-1] + tail
    new = [new_start + head]
    for inc in new_incs:
        new.append(new[-1] + inc)
    readings = hourly(*old, *new)
    ev = CounterEvent(ts=at(len(old) - 0.5), kind="replacement", old_end=old_end, new_start=new_start)
    r = deltas(readings, events=[ev])
    assert r.total == (old_end - first) + (new[-1] - new_start)
    assert sum(d.flag == "across_event" for d in r.deltas) == 1
    assert not r.decreases and not r.unused_events


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=2, max_size=40))
def test_decreases_without_event_are_never_counted(values: list[int]) -> None:
    r = deltas(hourly(*values))
    pairs = list(itertools.pairwise(values))
    assert r.total == sum(b - a for a, b in pairs if b >= a)
    assert len(r.decreases) == sum(1 for a, b in pairs if b < a)
    for d, (a, b) in zip(r.deltas, pairs, strict=True):
        assert d.counted == (b >= a)
        assert (d.flag == "decrease") == (b < a)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(UTC)),
    seconds=st.integers(1, 90 * 86_400),
    value=st.floats(-1e6, 1e6, allow_nan=False),
    period=st.sampled_from(["day", "month", "year"]),
)
def test_apportioning_preserves_the_sum_and_stays_inside(
    start: dt.datetime, seconds: int, value: float, period: str
) -> None:
    end = start + dt.timedelta(seconds=seconds)
    r = deltas([Sample(start, 0.0), Sample(end, value)])
    d = r.deltas[0]
    shares = apportion(d, period)  # type: ignore[arg-type]
    assert math.fsum(s.value for s in shares) == pytest.approx(d.delta, rel=1e-9, abs=1e-6)
    assert shares[0].start == start and shares[-1].end == end
    for a, b in itertools.pairwise(shares):
        assert a.end == b.start
    for s in shares:
        assert start <= s.start < s.end <= end
        local_start = s.start.astimezone(LOCAL)
        local_last = (s.end - dt.timedelta(microseconds=1)).astimezone(LOCAL)
        # Each share lies in the one local period it names.
        for t in (local_start, local_last):
            key = {
                "day": t.date(),
                "month": t.date().replace(day=1),
                "year": t.date().replace(month=1, day=1),
            }
            assert key[period] == s.period
        if len(shares) > 1:
            assert s.value == pytest.approx(d.delta * (s.end - s.start).total_seconds() / seconds, abs=1e-6)


def test_runs_from_plain_rows_and_gives_plain_rows() -> None:
    rows: list[Row] = [
        {"ts": "2025-02-01T01:00:00+08:00", "value": "1040"},  # out of order on purpose
        ("2025-01-31 22:00", 1000),  # no offset: Asia/Shanghai
    ]
    readings = samples(rows)
    assert [s.ts for s in readings] == [at(22), at(25)]
    assert readings[0].ts.tzinfo == UTC
    out = as_rows(deltas(readings).deltas)
    assert list(out[0].pop("events")) == []
    assert out == [
        {
            "start": at(22),
            "end": at(25),
            "delta": 40.0,
            "flag": "normal",
            "start_value": 1000.0,
            "end_value": 1040.0,
        }
    ]
    shares = as_rows(apportion(deltas(readings).deltas[0], "day"))
    assert [(r["period"], r["flag"]) for r in shares] == [
        (dt.date(2025, 1, 31), "apportioned"),
        (dt.date(2025, 2, 1), "apportioned"),
    ]
    assert [r["value"] for r in shares] == pytest.approx([40 * 2 / 3, 40 / 3])
