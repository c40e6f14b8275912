"""Traceability (6.3.5–6.3.7): is an instrument's verification or calibration valid on a date?

An instrument is traceable at ``as_of`` when a passing record covers the date (``date ≤ as_of ≤
valid_until``, both ends inclusive) and no failing record dated after that pass and on or before ``as_of``
voids it.  A failed recalibration therefore withdraws the instrument at once, whatever its old certificate
says.  The verdict keeps the record(s) that decided it, because a verifier asks "which certificate?".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, NamedTuple

from carbonmeter.core.snapshot import Calibration

#: never: no passing record on or before as_of; expired: the newest pass ended before as_of;
#: voided: a later failed record withdrew the covering pass.
Reason = Literal["ok", "never", "expired", "voided"]


class Trace(NamedTuple):
    traceable: bool
    reason: Reason
    #: The passing record that covers (or last covered) as_of, if any.
    record: Calibration | None = None
    #: The failing record that voided it (reason "voided").
    failure: Calibration | None = None


def _key(r: Calibration) -> tuple[date, date]:
    return (r.date, r.valid_until or r.date)


def _first_failure(failures: Sequence[Calibration], after: date) -> Calibration | None:
    later = [r for r in failures if r.date > after]
    return min(later, key=lambda r: r.date) if later else None


def trace(records: Sequence[Calibration], as_of: date) -> Trace:
    """Decide traceability from one instrument's records (any order), in one pass over them.

    When it is not traceable, the reason is told from the newest pass: voided if a failure followed it,
    otherwise expired — so a repair-and-pass after a failure is never reported as "failed, no pass since".
    """
    latest: Calibration | None = None  # newest pass on or before as_of
    covering: Calibration | None = None  # newest pass whose validity includes as_of
    failures: list[Calibration] = []
    for r in records:
        if r.date > as_of:
            continue
        if r.result == "fail":
            failures.append(r)
            continue
        if latest is None or _key(r) > _key(latest):
            latest = r
        if (
            r.valid_until is not None
            and as_of <= r.valid_until
            and (covering is None or _key(r) > _key(covering))
        ):
            covering = r
    if latest is None:
        return Trace(False, "never")
    if covering is not None and _first_failure(failures, covering.date) is None:
        return Trace(True, "ok", record=covering)
    failure = _first_failure(failures, latest.date)
    if failure is not None:
        return Trace(False, "voided", record=latest, failure=failure)
    return Trace(False, "expired", record=latest)
