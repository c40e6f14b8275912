"""Traceability (6.3.5–6.3.7): is an instrument's verification or calibration valid on a date?

An instrument is traceable at ``as_of`` when a passing record covers the date (``date ≤ as_of ≤
valid_until``, both ends inclusive) and no failing record dated after that pass and on or before ``as_of``
voids it.  A failed recalibration therefore withdraws the instrument at once, whatever its old certificate
says.  The verdict keeps the record(s) that decided it, because a verifier asks "which certificate?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from carbonmeter.core.snapshot import Calibration

#: never: no passing record on or before as_of; expired: the newest pass ended before as_of;
#: voided: a later failed record withdrew the covering pass.
Reason = Literal["ok", "never", "expired", "voided"]


@dataclass(frozen=True, slots=True)
class Trace:
    traceable: bool
    reason: Reason
    #: The passing record that covers (or last covered) as_of, if any.
    record: Calibration | None = None
    #: The failing record that voided it (reason "voided").
    failure: Calibration | None = None


def _newest(records: Sequence[Calibration]) -> Calibration:
    return max(records, key=lambda r: (r.date, r.valid_until or r.date))


def _first_failure_after(records: Sequence[Calibration], after: date, as_of: date) -> Calibration | None:
    failures = [r for r in records if r.result == "fail" and after < r.date <= as_of]
    return min(failures, key=lambda r: r.date) if failures else None


def trace(records: Sequence[Calibration], as_of: date) -> Trace:
    """Decide traceability from one instrument's records (any order).

    When it is not traceable, the reason is told from the newest pass: voided if a failure followed it,
    otherwise expired — so a repair-and-pass after a failure is never reported as "failed, no pass since".
    """
    passes = [r for r in records if r.result == "pass" and r.date <= as_of]
    if not passes:
        return Trace(False, "never")
    covering = [r for r in passes if r.valid_until is not None and as_of <= r.valid_until]
    if covering:
        best = _newest(covering)
        if _first_failure_after(records, best.date, as_of) is None:
            return Trace(True, "ok", record=best)
    latest = _newest(passes)
    failure = _first_failure_after(records, latest.date, as_of)
    if failure is not None:
        return Trace(False, "voided", record=latest, failure=failure)
    return Trace(False, "expired", record=latest)
