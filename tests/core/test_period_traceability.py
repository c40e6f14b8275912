"""Period traceability (contract §6.4.5, 6.3.6–6.3.7): the runs of days of the reporting year an instrument
was not traceable by §5.4, computed from sorted intervals (no day loops), proven equal to :func:`trace`
asked day by day."""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmeter.core.assess import assess
from carbonmeter.core.facts import establish, periods_of
from carbonmeter.core.snapshot import Calibration
from carbonmeter.core.traceability import (
    Period,
    service_window,
    trace,
    traceable_spans,
    untraceable_in_year,
    untraceable_periods,
)
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from tests.builders import failed, instrument, passed, point, snapshot, stream
from tests.core.strategies import histories

CQ = load_pack("cq-part1")
YEAR = 2025
D = date


def gaps(records: list[Calibration], start: date, end: date) -> list[tuple[date, date]]:
    return [tuple(p) for p in untraceable_periods(records, Period(start, end))]  # type: ignore[misc]


class TestSpans:
    def test_a_pass_covers_its_validity_both_ends_inclusive(self) -> None:
        assert traceable_spans([passed(on=D(2025, 3, 1), until=D(2026, 2, 28))]) == [
            Period(D(2025, 3, 1), D(2026, 2, 28))
        ]

    def test_a_failure_cuts_the_pass_the_day_before(self) -> None:
        records = [passed(on=D(2025, 3, 1), until=D(2026, 2, 28)), failed(on=D(2025, 11, 1))]
        assert traceable_spans(records) == [Period(D(2025, 3, 1), D(2025, 10, 31))]

    def test_a_failure_on_the_pass_day_does_not_cut_it(self) -> None:
        records = [passed(on=D(2025, 3, 1), until=D(2025, 6, 30)), failed(on=D(2025, 3, 1))]
        assert traceable_spans(records) == [Period(D(2025, 3, 1), D(2025, 6, 30))]

    def test_overlapping_and_adjacent_passes_merge(self) -> None:
        records = [
            passed(on=D(2025, 1, 1), until=D(2025, 6, 30)),
            passed(on=D(2025, 7, 1), until=D(2025, 9, 30)),  # adjacent
            passed(on=D(2025, 9, 1), until=D(2025, 12, 31)),  # overlapping
        ]
        assert traceable_spans(records) == [Period(D(2025, 1, 1), D(2025, 12, 31))]

    def test_a_pass_without_validity_covers_nothing(self) -> None:
        assert traceable_spans([passed(on=D(2025, 3, 1), until=None)]) == []  # type: ignore[arg-type]


class TestPeriods:
    def test_verified_late_then_expired(self) -> None:
        # Window 2025-01-01..2025-12-31; pass 2025-03-01..2025-10-31; so 1 Jan–28 Feb and 1 Nov–31 Dec.
        records = [passed(on=D(2025, 3, 1), until=D(2025, 10, 31))]
        assert gaps(records, D(2025, 1, 1), D(2025, 12, 31)) == [
            (D(2025, 1, 1), D(2025, 2, 28)),
            (D(2025, 11, 1), D(2025, 12, 31)),
        ]

    def test_failed_and_repaired(self) -> None:
        # Pass 2024-06-01 for a year, fail 2025-04-10, pass again 2025-04-20: 10 days untraceable.
        records = [
            passed(on=D(2024, 6, 1), until=D(2025, 5, 31)),
            failed(on=D(2025, 4, 10)),
            passed(on=D(2025, 4, 20), until=D(2026, 4, 19)),
        ]
        assert gaps(records, D(2025, 1, 1), D(2025, 12, 31)) == [(D(2025, 4, 10), D(2025, 4, 19))]

    def test_covered_all_year_is_empty(self) -> None:
        records = [
            passed(on=D(2024, 12, 1), until=D(2025, 11, 30)),
            passed(on=D(2025, 11, 20), until=D(2026, 11, 19)),
        ]
        assert gaps(records, D(2025, 1, 1), D(2025, 12, 31)) == []

    def test_never_verified_is_the_whole_window(self) -> None:
        assert gaps([], D(2025, 1, 1), D(2025, 12, 31)) == [(D(2025, 1, 1), D(2025, 12, 31))]

    def test_no_window_no_periods(self) -> None:
        assert untraceable_periods([], None) == []


class TestWindow:
    def test_window_is_the_year_up_to_as_of(self) -> None:
        assert service_window(YEAR, D(2025, 8, 15), D(2020, 1, 1), []) == Period(
            D(2025, 1, 1), D(2025, 8, 15)
        )
        assert service_window(YEAR, D(2026, 1, 15), None, [passed(on=D(2024, 3, 1))]) == Period(
            D(2025, 1, 1), D(2025, 12, 31)
        )

    def test_in_service_from_starts_the_window(self) -> None:
        assert service_window(YEAR, D(2026, 1, 15), D(2025, 3, 1), []) == Period(
            D(2025, 3, 1), D(2025, 12, 31)
        )

    def test_without_in_service_from_a_new_instrument_starts_at_its_first_pass(self) -> None:
        # No record before 2025: taken into service on its first pass (6.3.9), 2025-05-10.
        recs = [failed(on=D(2025, 4, 1)), passed(on=D(2025, 5, 10)), passed(on=D(2025, 9, 1))]
        assert service_window(YEAR, D(2026, 1, 15), None, recs) == Period(D(2025, 5, 10), D(2025, 12, 31))

    def test_without_in_service_from_an_old_record_means_in_service_all_year(self) -> None:
        recs = [passed(on=D(2024, 12, 31), until=D(2025, 1, 31)), passed(on=D(2025, 5, 10))]
        assert service_window(YEAR, D(2026, 1, 15), None, recs) == Period(D(2025, 1, 1), D(2025, 12, 31))

    def test_entered_service_after_the_window_has_none(self) -> None:
        assert service_window(YEAR, D(2025, 6, 30), D(2025, 7, 1), []) is None


DAYS = st.integers(-500, 500)


def best_of(n: int, run: Callable[[], object]) -> float:
    """The fastest of ``n`` runs with the collector paused: what the code costs, not what the suite's heap
    and the other processes on the machine cost."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return min(times)


@settings(max_examples=300, deadline=None)
@given(histories(max_size=8), DAYS, st.integers(0, 400))
def test_periods_and_traceable_days_partition_the_window(
    records: list[Calibration], offset: int, length: int
) -> None:
    """untraceable_periods ∪ {days trace() finds traceable} = the window, disjoint, in order, maximal runs."""
    start = D(2026, 1, 15) + timedelta(days=offset)
    end = start + timedelta(days=length)
    periods = untraceable_periods(records, Period(start, end))
    flagged: set[date] = set()
    for a, b in itertools.pairwise(periods):
        assert a.end + timedelta(days=1) < b.start  # sorted, disjoint, not adjacent (maximal runs)
    for p in periods:
        assert start <= p.start <= p.end <= end
        flagged |= {p.start + timedelta(days=k) for k in range((p.end - p.start).days + 1)}
    for k in range(length + 1):
        day = start + timedelta(days=k)
        assert (day in flagged) == (not trace(records, day).traceable), day


@settings(max_examples=300, deadline=None)
@given(
    histories(max_size=8),
    st.sampled_from([2024, 2025, 2026]),
    st.integers(-400, 400),
    st.none() | st.integers(-800, 400),
)
def test_the_fused_year_form_is_window_then_periods(
    records: list[Calibration], year: int, as_of_offset: int, service_offset: int | None
) -> None:
    """What the engine runs per instrument (one pass) equals the two-step specification."""
    as_of = D(2026, 1, 15) + timedelta(days=as_of_offset)
    in_service = None if service_offset is None else D(2026, 1, 15) + timedelta(days=service_offset)
    window = service_window(year, as_of, in_service, records)
    assert untraceable_in_year(records, year, as_of, in_service) == untraceable_periods(records, window)


class TestAssessment:
    def plant(self, *records: Calibration, status: str = "in_use", **inst: object) -> object:
        return snapshot((stream(),), (point(),), (instrument("I1", status=status, **inst),), records)

    def test_document_lists_the_periods_of_an_in_use_instrument(self) -> None:
        snap = self.plant(passed(on=D(2025, 3, 1), until=D(2026, 2, 28)), in_service_from=D(2025, 1, 1))
        doc = to_document(assess(snap, CQ))  # type: ignore[arg-type]
        assert doc["instruments"][0]["untraceable_periods"] == [{"from": "2025-01-01", "to": "2025-02-28"}]

    def test_not_in_use_has_none(self) -> None:
        snap = self.plant(passed(on=D(2025, 3, 1)), status="standby")
        doc = to_document(assess(snap, CQ))  # type: ignore[arg-type]
        assert doc["instruments"][0]["untraceable_periods"] is None

    def test_first_pass_rule_without_in_service_from(self) -> None:
        # New in 2025 (no earlier record), verified 2025-03-01: no gap before it.
        snap = self.plant(passed(on=D(2025, 3, 1), until=D(2026, 2, 28)))
        assert establish(snap, CQ, snap.as_of).untraceable["I1"] == []  # type: ignore[attr-defined]

    def test_twenty_thousand_instruments_in_a_fraction_of_a_second(self) -> None:
        n = 20_000
        insts = tuple(instrument(f"I{k}", points=(), in_service_from=D(2025, 1, 1)) for k in range(n))
        recs = tuple(
            r
            for k in range(n)
            for r in (
                passed(f"I{k}", on=D(2024, 6, 1), until=D(2025, 5, 31)),
                failed(f"I{k}", on=D(2025, 4, 10)),
                passed(f"I{k}", on=D(2025, 4, 20), until=D(2026, 4, 19)),
            )
        )
        snap = snapshot((stream(),), (point(),), insts, recs)
        records: dict[str, list[Calibration]] = {}
        for r in recs:
            records.setdefault(r.instrument, []).append(r)
        periods = periods_of(snap, records, snap.as_of)
        elapsed = best_of(3, lambda: periods_of(snap, records, snap.as_of))
        one_trace = best_of(3, lambda: [trace(r, snap.as_of) for r in records.values()])
        assert periods["I7"] == [Period(D(2025, 4, 10), D(2025, 4, 19))]
        # Measured against one trace() per instrument, so a loaded machine does not fail it: a day loop costs
        # ~365 traces per instrument, the intervals a few (the whole plant still assesses in under a second).
        assert elapsed < 10 * one_trace, (elapsed, one_trace)
