from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings

from carbonmeter.core.snapshot import Calibration
from carbonmeter.core.traceability import STATES, TRACEABLE_STATES, due_date, state, trace, trace_day
from tests.builders import failed, passed
from tests.core.strategies import HISTORY_DAYS, histories

AS_OF = date(2026, 1, 15)


def test_pass_covering_as_of_is_traceable() -> None:
    t = trace([passed(on=date(2025, 3, 1), until=date(2026, 2, 28))], AS_OF)
    assert t.traceable and t.reason == "ok" and t.record is not None


def test_valid_until_is_inclusive_both_ends() -> None:
    assert trace([passed(on=date(2025, 1, 16), until=AS_OF)], AS_OF).traceable
    assert trace([passed(on=AS_OF, until=date(2027, 1, 1))], AS_OF).traceable
    assert not trace([passed(on=date(2025, 1, 1), until=date(2026, 1, 14))], AS_OF).traceable


def test_no_records_or_only_future_ones_is_never() -> None:
    assert trace([], AS_OF).reason == "never"
    assert trace([passed(on=date(2026, 2, 1), until=date(2027, 1, 31))], AS_OF).reason == "never"


def test_expired_names_the_latest_pass() -> None:
    old = passed(on=date(2023, 1, 1), until=date(2024, 1, 1))
    newer = passed(on=date(2024, 1, 2), until=date(2025, 12, 31))
    t = trace([newer, old], AS_OF)
    assert t.reason == "expired" and t.record == newer


def test_fail_after_pass_voids_it() -> None:
    t = trace([passed(), failed(on=date(2025, 11, 20))], AS_OF)
    assert (t.traceable, t.reason) == (False, "voided")
    assert t.failure is not None and t.failure.date == date(2025, 11, 20)


def test_fail_on_the_pass_day_or_after_as_of_does_not_void() -> None:
    assert trace([passed(on=date(2025, 3, 1)), failed(on=date(2025, 3, 1))], AS_OF).traceable
    assert trace([passed(), failed(on=date(2026, 1, 16))], AS_OF).traceable


def test_pass_after_a_fail_restores_traceability() -> None:
    records = [
        passed(on=date(2025, 3, 1)),
        failed(on=date(2025, 6, 1)),
        passed(on=date(2025, 6, 10), until=date(2026, 6, 9)),
    ]
    t = trace(records, AS_OF)
    assert t.traceable and t.record is not None and t.record.date == date(2025, 6, 10)


# --- the state vocabulary ---------------------------------------------------------------------------------


def test_state_names_each_reason_and_the_due_soon_horizon() -> None:
    soon = passed(on=date(2025, 3, 1), until=date(2026, 2, 14))  # 30 days after AS_OF
    assert state(trace([soon], AS_OF), AS_OF, 30) == "due_soon"
    assert state(trace([soon], AS_OF), AS_OF, 29) == "valid"
    assert state(trace([soon], AS_OF), AS_OF, None) == "valid"
    assert state(trace([passed(on=AS_OF, until=AS_OF)], AS_OF), AS_OF, 0) == "due_soon"
    assert state(trace([], AS_OF), AS_OF, 30) == "never"
    assert state(trace([failed(on=date(2025, 1, 1))], AS_OF), AS_OF, 30) == "never"
    expired = passed(on=date(2024, 1, 1), until=date(2025, 1, 1))
    assert state(trace([expired], AS_OF), AS_OF, 30) == "expired"
    assert state(trace([passed(), failed(on=date(2025, 11, 20))], AS_OF), AS_OF, 30) == "failed"


def test_a_record_dated_after_as_of_changes_nothing_today() -> None:
    """The register once took a pass dated next month as today's validity (issue 9)."""
    future = passed(on=date(2026, 2, 1), until=date(2027, 1, 31))
    assert state(trace([future], AS_OF), AS_OF, 30) == "never"
    old = passed(on=date(2024, 1, 1), until=date(2025, 1, 1))
    assert (state(trace([old, future], AS_OF), AS_OF, 30), due_date(trace([old, future], AS_OF))) == (
        "expired",
        date(2025, 1, 1),
    )


@settings(max_examples=400, deadline=None)
@given(histories())
def test_state_is_traceable_exactly_when_trace_says_so(records: list[Calibration]) -> None:
    t = trace(records, AS_OF)
    s = state(t, AS_OF, 30)
    assert (s in TRACEABLE_STATES) == t.traceable
    assert s in STATES
    if t.traceable:
        until = due_date(t)
        assert until is not None and until >= AS_OF
        assert any(r.result == "pass" and r.date <= AS_OF <= (r.valid_until or r.date) for r in records)
    # Records after as_of are not known yet.
    assert trace([r for r in records if r.date <= AS_OF], AS_OF) == t


# --- judged with hindsight (the readings validity gate) ----------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(histories(), HISTORY_DAYS)
def test_trace_day_is_trace_minus_the_retro_flag(records: list[Calibration], offset: int) -> None:
    """A day is valid exactly when the instrument was traceable that day and no failure dated on or after
    it, with no pass in between, reaches back to it."""
    day = AS_OF + timedelta(days=offset)
    verdict = trace_day(records, day)
    passes = [r.date for r in records if r.result == "pass"]
    retro = any(
        r.result == "fail" and r.date >= day and not any(day <= p < r.date for p in passes) for r in records
    )
    assert (verdict.flag == "valid") == (trace(records, day).traceable and not retro)
    if verdict.flag == "after_failed":
        assert verdict.failed_on in {r.date for r in records if r.result == "fail"}
        assert verdict.since is None or verdict.since < day


def test_a_pass_voided_by_a_failure_stays_voided_when_a_later_pass_covers_nothing() -> None:
    """The readings gate once called such a day valid on the voided certificate."""
    records = [
        passed(on=date(2025, 1, 1), until=date(2025, 12, 31)),
        failed(on=date(2025, 6, 1)),
        passed(on=date(2025, 6, 10), until=date(2025, 6, 20)),
    ]
    assert not trace(records, date(2025, 7, 1)).traceable
    assert trace_day(records, date(2025, 7, 1)).flag == "no_valid_calibration"
