from __future__ import annotations

from datetime import date

from carbonmeter.core.traceability import trace
from tests.builders import failed, passed

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
