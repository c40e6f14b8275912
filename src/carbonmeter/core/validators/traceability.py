"""TRC-01: an instrument in use is not traceable at the assessment date (6.3.5–6.3.7).

``-A`` never verified or calibrated; ``-B`` its verification/calibration has expired; ``-C`` a failed
recalibration after the last pass withdrew it.  6.3.7: such an instrument shall not be used and does not count
towards the equipping rate.  The evidence names the record that decided it.

TRC-02: an instrument serving a required point was not traceable on some days of the reporting year
(contract §6.4.5, 6.3.6–6.3.7): what it measured then is not backed by a valid verification, even if it is
traceable today.  The evidence lists the runs of days and the window judged.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.traceability import Period
from carbonmeter.core.validators.base import finding, iso, record_evidence

CODES = {
    "TRC-01-A": "nonconformity",
    "TRC-01-B": "nonconformity",
    "TRC-01-C": "nonconformity",
    "TRC-02": "nonconformity",
}
CLAUSE = "6.3.7"
TAGS = frozenset({"traceability"})
_SUFFIX = {"never": "A", "expired": "B", "voided": "C"}


def _period(p: Period) -> dict[str, str]:
    return {"from": p.start.isoformat(), "to": p.end.isoformat()}


def _period_text(p: Period) -> dict[str, str]:
    a, b = p.start.isoformat(), p.end.isoformat()
    return {"zh": a if a == b else f"{a} 至 {b}", "en": a if a == b else f"{a} to {b}"}


def period_findings(facts: Facts) -> list[Finding]:
    """TRC-02: non-empty untraceable periods on an instrument linked to a required point."""
    out = []
    for inst in facts.snapshot.instruments:
        periods = facts.untraceable.get(inst.id)
        if not periods:
            continue
        required = [p for p in inst.points if p in facts.required]
        if not required:
            continue
        out.append(
            finding(
                facts,
                "TRC-02",
                CLAUSE,
                "nonconformity",
                inst.id,
                {
                    "instrument": inst.id,
                    "name": inst.name,
                    "periods": [_period_text(p) for p in periods],
                    "points": required,
                },
                {
                    "untraceable_periods": [_period(p) for p in periods],
                    "required_points": required,
                },
            )
        )
    return out


def check(facts: Facts) -> list[Finding]:
    return _current(facts) + period_findings(facts)


def _current(facts: Facts) -> list[Finding]:
    out = []
    for inst in facts.snapshot.instruments:
        tr = facts.traces[inst.id]
        if inst.status != "in_use" or tr.traceable:
            continue
        code = f"TRC-01-{_SUFFIX[tr.reason]}"
        rec, fail = tr.record, tr.failure
        decisive = fail or rec
        out.append(
            finding(
                facts,
                code,
                CLAUSE,
                "nonconformity",
                inst.id,
                {
                    "instrument": inst.id,
                    "name": inst.name,
                    "valid_until": iso(rec.valid_until) if rec else None,
                    "certificate_no": decisive.certificate_no if decisive else None,
                    "fail_date": iso(fail.date) if fail else None,
                    "as_of": facts.as_of.isoformat(),
                },
                {"record": record_evidence(rec), "failure": record_evidence(fail)},
            )
        )
    return out
