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


def period_findings(facts: Facts) -> list[Finding]:
    """TRC-02: non-empty untraceable periods on an instrument linked to a required point.

    Built once from a template finding (the pack's severity and clause for TRC-02 do not change per
    instrument): a plant with thousands of gaps must not pay the pack lookups thousands of times.
    """
    out: list[Finding] = []
    untraceable, required = facts.untraceable, facts.required
    template: Finding | None = None
    for inst in facts.snapshot.instruments:
        periods = untraceable.get(inst.id)
        if not periods:
            continue
        points = [p for p in inst.points if p in required]
        if not points:
            continue
        if template is None:
            template = finding(facts, "TRC-02", CLAUSE, "nonconformity", "")
        spans, texts = [], []
        for p in periods:
            a, b = p.start.isoformat(), p.end.isoformat()
            spans.append({"from": a, "to": b})
            texts.append({"zh": a, "en": a} if a == b else {"zh": f"{a} 至 {b}", "en": f"{a} to {b}"})
        out.append(
            Finding(
                code=template.code,
                clause=template.clause,
                severity=template.severity,
                subject=inst.id,
                params={"instrument": inst.id, "name": inst.name, "periods": texts, "points": points},
                evidence={"untraceable_periods": spans, "required_points": points},
                provisional=template.provisional,
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
