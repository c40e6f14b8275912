"""Gap detection and availability against a point's expected interval."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.readings.gaps import detect
from carbonmeter.readings.series import LOCAL, UTC, Span, period_span

DAY = period_span(dt.date(2025, 6, 1), "day")
H = dt.timedelta(hours=1)


def local(h: float, day: int = 1) -> dt.datetime:
    return dt.datetime(2025, 6, day, tzinfo=LOCAL) + dt.timedelta(hours=h)


def test_day_period_is_the_shanghai_calendar_day() -> None:
    assert DAY.start == dt.datetime(2025, 5, 31, 16, tzinfo=UTC)
    assert DAY.end == dt.datetime(2025, 6, 1, 16, tzinfo=UTC)
    march = period_span(dt.date(2025, 3, 17), "month")
    assert march.start == dt.datetime(2025, 3, 1, tzinfo=LOCAL)
    assert march.end == dt.datetime(2025, 4, 1, tzinfo=LOCAL)


def test_complete_hourly_day_with_jitter_is_fully_available() -> None:
    stamps = [local(h) + dt.timedelta(seconds=7) for h in range(24)]
    r = detect(stamps, DAY, 3600)
    assert (r.expected, r.present, r.missing, r.duplicates) == (24, 24, (), ())
    assert r.availability == 100.0


def test_missing_hours_come_back_as_runs() -> None:
    present_hours = [h for h in range(24) if h not in (3, 4, 5, 23)]
    r = detect([local(h) for h in present_hours], DAY, 3600)
    assert r.present == 20 and r.expected == 24
    assert r.missing == (Span(local(3), local(6)), Span(local(23), local(24)))
    assert r.missing_count == 4
    assert [s.start for s in r.missing_slots()] == [local(3), local(4), local(5), local(23)]
    assert r.availability == pytest.approx(100 * 20 / 24)


def test_two_readings_in_one_slot_are_a_duplicate_not_two_slots() -> None:
    stamps = [local(h) for h in range(24)] + [local(7.5)]
    r = detect(stamps, DAY, 3600)
    assert r.present == 24
    assert len(r.duplicates) == 1
    assert r.duplicates[0].slot == Span(local(7), local(8))
    assert r.duplicates[0].count == 2


def test_readings_outside_the_period_are_reported() -> None:
    stamps = [local(-0.5), local(1), local(24)]
    r = detect(stamps, DAY, 3600)
    assert r.present == 1
    assert r.outside == (local(-0.5), local(24))


def test_short_last_slot_counts() -> None:
    period = Span(local(0), local(2.5))
    r = detect([local(0), local(1)], period, 3600)
    assert r.expected == 3
    assert r.missing == (Span(local(2), local(2.5)),)


def test_lab_analyses_have_no_availability() -> None:
    r = detect([local(9), local(15)], DAY, None)
    assert r.expected is None and r.availability is None
    assert r.present == 2 and r.missing == () and r.missing_slots() == ()


def test_empty_period_or_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        detect([], Span(local(1), local(1)), 3600)
    with pytest.raises(ValueError, match="positive"):
        detect([], DAY, 0)


def test_empty_day_is_all_missing() -> None:
    r = detect([], DAY, 900)
    assert r.expected == 96 and r.present == 0 and r.availability == 0.0
    assert r.missing == (DAY,)


# --- properties --------------------------------------------------------------------------------------

INTERVALS = st.sampled_from([60, 300, 900, 3600, 7200, 5000])


@st.composite
def readings(draw: st.DrawFn) -> tuple[int, list[dt.datetime], set[int]]:
    """An interval, reading instants (some off-grid, some doubled, some outside) and the occupied slots."""
    interval = draw(INTERVALS)
    n_slots = -(-86_400 // interval)
    occupied = draw(st.sets(st.integers(0, n_slots - 1), max_size=min(n_slots, 80)))
    stamps: list[dt.datetime] = []
    for k in sorted(occupied):
        slot_start = DAY.start + dt.timedelta(seconds=k * interval)
        slot_len = min(interval, int((DAY.end - slot_start).total_seconds()))
        for _ in range(draw(st.integers(1, 2))):
            stamps.append(slot_start + dt.timedelta(seconds=draw(st.integers(0, slot_len - 1))))
    stamps += draw(st.lists(st.sampled_from([DAY.start - H, DAY.end, DAY.end + H]), max_size=3))
    return interval, draw(st.permutations(stamps)), occupied


@settings(max_examples=200, deadline=None)
@given(readings())
def test_present_plus_missing_is_expected(case: tuple[int, list[dt.datetime], set[int]]) -> None:
    interval, stamps, occupied = case
    r = detect(stamps, DAY, interval)
    assert r.expected == -(-86_400 // interval)
    assert r.present == len(occupied)
    assert r.present + r.missing_count == r.expected
    assert r.availability is not None and 0 <= r.availability <= 100
    # Missing slots and occupied slots never overlap, and runs do not touch each other.
    occupied_starts = {DAY.start + dt.timedelta(seconds=k * interval) for k in occupied}
    assert not {s.start for s in r.missing_slots()} & occupied_starts
    for a, b in zip(r.missing, r.missing[1:], strict=False):
        assert a.end < b.start
    assert len(r.outside) == sum(1 for t in stamps if not DAY.start <= t < DAY.end)


@settings(max_examples=200, deadline=None)
@given(readings(), st.data())
def test_removing_a_reading_never_increases_availability(
    case: tuple[int, list[dt.datetime], set[int]], data: st.DataObject
) -> None:
    interval, stamps, _ = case
    if not stamps:
        return
    i = data.draw(st.integers(0, len(stamps) - 1))
    fewer = stamps[:i] + stamps[i + 1 :]
    before = detect(stamps, DAY, interval).availability
    after = detect(fewer, DAY, interval).availability
    assert before is not None and after is not None
    assert after <= before
