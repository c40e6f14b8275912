"""TRC-01: an instrument in use is not traceable at the assessment date (6.3.5–6.3.7).

``-A`` never verified or calibrated; ``-B`` its verification/calibration has expired; ``-C`` a failed
recalibration after the last pass withdrew it.  6.3.7: such an instrument shall not be used and does not count
towards the equipping rate.  The evidence names the record that decided it.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, iso, record_evidence

CODES = {"TRC-01-A": "nonconformity", "TRC-01-B": "nonconformity", "TRC-01-C": "nonconformity"}
CLAUSE = "6.3.7"
TAGS = frozenset({"traceability"})
_SUFFIX = {"never": "A", "expired": "B", "voided": "C"}


def check(facts: Facts) -> list[Finding]:
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
