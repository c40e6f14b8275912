"""Instrument validity gate: calibration windows, retro-flag after a failed calibration, tonnes at stake."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.core.snapshot import Calibration
from carbonmeter.readings.series import LOCAL, UTC
from carbonmeter.readings.validity import (
    CalibrationRecord,
    Gate,
    gate,
    gate_period,
    impact,
    period_impact,
)

D = dt.date


def passed(date: dt.date, until: dt.date | None) -> CalibrationRecord:
    return CalibrationRecord(date=date, result="pass", valid_until=until)


def failed(date: dt.date) -> CalibrationRecord:
    return CalibrationRecord(date=date, result="fail")


def noon(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, 12, tzinfo=LOCAL)


def flags(records: list[CalibrationRecord], *days: dt.date) -> list[str]:
    return [v.flag for v in gate([noon(d) for d in days], records)]


YEAR = [passed(D(2025, 1, 10), D(2025, 12, 31))]


def test_covered_reading_is_valid_and_names_its_record() -> None:
    (v,) = gate([noon(D(2025, 3, 1))], YEAR)
    assert v.valid and v.covered_by == D(2025, 1, 10)
    # Both ends of the window are inclusive.
    assert flags(YEAR, D(2025, 1, 10), D(2025, 12, 31)) == ["valid", "valid"]


def test_outside_any_window_is_no_valid_calibration() -> None:
    assert flags(YEAR, D(2025, 1, 9), D(2026, 1, 1)) == ["no_valid_calibration"] * 2
    assert flags([], D(2025, 6, 1)) == ["no_valid_calibration"]
    # A pass without a valid-until date covers nothing (as core.traceability judges).
    assert flags([passed(D(2025, 1, 1), None)], D(2025, 1, 1)) == ["no_valid_calibration"]


def test_failed_calibration_retro_flags_since_the_last_pass() -> None:
    records = [*YEAR, failed(D(2025, 6, 15))]
    got = gate([noon(d) for d in (D(2025, 1, 10), D(2025, 1, 11), D(2025, 6, 15), D(2025, 9, 1))], records)
    assert [v.flag for v in got] == ["valid", "after_failed", "after_failed", "after_failed"]
    assert {(v.failed_on, v.since) for v in got[1:]} == {(D(2025, 6, 15), D(2025, 1, 10))}


def test_a_pass_after_repair_ends_the_flag() -> None:
    records = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 20), D(2026, 6, 19))]
    assert flags(records, D(2025, 6, 19), D(2025, 6, 20), D(2026, 1, 5)) == ["after_failed", "valid", "valid"]
    # Repaired and passed on the day of the failure: that day stays flagged (dates carry no time).
    same_day = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 15), D(2026, 6, 14))]
    assert flags(same_day, D(2025, 6, 14), D(2025, 6, 15), D(2025, 6, 16)) == [
        "after_failed",
        "after_failed",
        "valid",
    ]


def test_failure_without_any_earlier_pass_flags_from_the_beginning() -> None:
    records = [failed(D(2025, 3, 1)), passed(D(2025, 3, 5), D(2026, 3, 4))]
    (v,) = gate([noon(D(2024, 1, 1))], records)
    assert v.flag == "after_failed" and v.since is None


def test_reading_day_is_the_shanghai_day() -> None:
    # 16:30 UTC on 14 June is 00:30 on 15 June in Shanghai: the failure day.
    records = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 15), D(2026, 6, 14))]
    late = dt.datetime(2025, 6, 14, 16, 30, tzinfo=UTC)
    (v,) = gate([late], records)
    assert v.day == D(2025, 6, 15)


def test_core_snapshot_calibrations_are_accepted() -> None:
    records = [
        Calibration(
            instrument="FT-1",
            kind="verification",
            date=D(2025, 1, 1),
            result="pass",
            valid_until=D(2025, 12, 31),
        ),
        Calibration(instrument="FT-1", kind="calibration", date=D(2025, 5, 1), result="fail"),
    ]
    assert [v.flag for v in gate([noon(D(2025, 2, 1))], records)] == ["after_failed"]


def test_unknown_result_is_refused() -> None:
    with pytest.raises(ValueError, match="pass"):
        Gate([CalibrationRecord(date=D(2025, 1, 1), result="ok")])  # type: ignore[arg-type]


def test_impact_shows_the_tonnes_resting_on_flagged_readings() -> None:
    records = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 20), D(2026, 6, 19))]
    days = [D(2025, 1, 5), D(2025, 1, 10), D(2025, 3, 1), D(2025, 6, 21)]
    verdicts = gate([noon(d) for d in days], records)
    values = [10.0, 20.0, 30.0, 40.0]  # t of coal
    result = impact(verdicts, values, factor=2.5)  # t CO2 per t
    assert result.tonnes == {
        "valid": 2.5 * (20 + 40),
        "after_failed": 2.5 * 30,
        "no_valid_calibration": 2.5 * 10,
    }
    assert result.readings == {"valid": 2, "after_failed": 1, "no_valid_calibration": 1}
    assert result.by_failed_record == {"2025-06-15": 75.0}
    assert result.flagged == 100.0 and result.total == 250.0
    with pytest.raises(ValueError, match="values"):
        impact(verdicts, values[:3])


def test_period_total_is_split_by_days_of_each_verdict() -> None:
    records = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 21), D(2026, 6, 20))]
    runs, result = period_impact(D(2025, 6, 1), D(2025, 6, 30), 300.0, records)
    assert [(r.first, r.last, r.verdict.flag) for r in runs] == [
        (D(2025, 6, 1), D(2025, 6, 20), "after_failed"),
        (D(2025, 6, 21), D(2025, 6, 30), "valid"),
    ]
    assert result.tonnes["after_failed"] == pytest.approx(200.0)
    assert result.tonnes["valid"] == pytest.approx(100.0)
    assert result.readings == {"valid": 10, "after_failed": 20, "no_valid_calibration": 0}
    with pytest.raises(ValueError, match="before"):
        gate_period(D(2025, 6, 2), D(2025, 6, 1), records)


# --- properties --------------------------------------------------------------------------------------

BASE = D(2025, 1, 1)
day_offsets = st.integers(0, 400)


@st.composite
def records_(draw: st.DrawFn) -> list[CalibrationRecord]:
    out: list[CalibrationRecord] = []
    for _ in range(draw(st.integers(0, 6))):
        start = BASE + dt.timedelta(days=draw(day_offsets))
        if draw(st.booleans()):
            length = draw(st.none() | st.integers(0, 400))
            until = None if length is None else start + dt.timedelta(days=length)
            out.append(passed(start, until))
        else:
            out.append(failed(start))
    return out


@settings(max_examples=300, deadline=None)
@given(records_(), st.lists(day_offsets, min_size=1, max_size=30))
def test_covered_by_a_pass_with_no_later_fail_is_valid(
    records: list[CalibrationRecord], offsets: list[int]
) -> None:
    days = [BASE + dt.timedelta(days=n) for n in offsets]
    for d, v in zip(days, gate([noon(d) for d in days], records), strict=True):
        covering = [
            r
            for r in records
            if r.result == "pass" and r.valid_until is not None and r.date <= d <= r.valid_until
        ]
        clean = [p for p in covering if not any(f.result == "fail" and f.date >= p.date for f in records)]
        if clean:
            assert v.flag == "valid"
        if v.flag == "valid":
            assert covering  # a valid verdict always rests on a covering pass
            assert v.covered_by in {p.date for p in covering}
        if v.flag == "after_failed":
            assert v.failed_on is not None and any(
                f.result == "fail" and f.date == v.failed_on for f in records
            )
            assert v.since is None or v.since < d


@settings(max_examples=300, deadline=None)
@given(records_(), day_offsets, st.lists(day_offsets, min_size=1, max_size=30))
def test_adding_a_failure_never_validates_a_flagged_reading(
    records: list[CalibrationRecord], fail_at: int, offsets: list[int]
) -> None:
    stamps = [noon(BASE + dt.timedelta(days=n)) for n in offsets]
    before = gate(stamps, records)
    after = gate(stamps, [*records, failed(BASE + dt.timedelta(days=fail_at))])
    for b, a in zip(before, after, strict=True):
        if not b.valid:
            assert not a.valid
    # And the failure flags its own day.
    (own,) = gate(
        [noon(BASE + dt.timedelta(days=fail_at))], [*records, failed(BASE + dt.timedelta(days=fail_at))]
    )
    assert own.flag == "after_failed"


@settings(max_examples=200, deadline=None)
@given(records_(), st.lists(st.tuples(day_offsets, st.floats(0, 1e4)), min_size=0, max_size=30))
def test_impact_accounts_for_every_tonne(
    records: list[CalibrationRecord], rows: list[tuple[int, float]]
) -> None:
    verdicts = gate([noon(BASE + dt.timedelta(days=n)) for n, _ in rows], records)
    result = impact(verdicts, [t for _, t in rows])
    assert result.total == pytest.approx(sum(t for _, t in rows))
    assert sum(result.readings.values()) == len(rows)
    assert sum(result.by_failed_record.values()) == pytest.approx(result.tonnes["after_failed"])


def test_a_voided_certificate_vouches_for_nothing_after_a_later_short_pass() -> None:
    """The gate once restated the rule and called these days valid on the certificate the failure voided;
    it now asks the core (:func:`carbonmeter.core.traceability.trace_day`), as the instrument page does."""
    records = [*YEAR, failed(D(2025, 6, 15)), passed(D(2025, 6, 20), D(2025, 6, 30))]
    assert flags(records, D(2025, 6, 25), D(2025, 7, 1)) == ["valid", "no_valid_calibration"]
