"""TRC-03: an instrument in use falls due for verification/calibration soon (6.3.5).

An early warning, not a fault: the plan (6.3.5) should already have it booked.  The horizon comes from the
pack (``settings.verification_due_soon_days``).
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, record_evidence

CODES = {"TRC-03": "observation"}
CLAUSE = "6.3.5"
TAGS = frozenset({"traceability", "plan"})


def check(facts: Facts) -> list[Finding]:
    horizon = facts.pack.settings.verification_due_soon_days
    if horizon.value is None:
        return []
    out: list[Finding] = []
    for inst in facts.snapshot.instruments:
        tr = facts.traces[inst.id]
        if inst.status != "in_use" or not tr.traceable or tr.record is None or tr.record.valid_until is None:
            continue
        days = (tr.record.valid_until - facts.as_of).days
        if days <= horizon.value:
            out.append(
                finding(
                    facts,
                    "TRC-03",
                    CLAUSE,
                    "observation",
                    inst.id,
                    {
                        "instrument": inst.id,
                        "name": inst.name,
                        "days": days,
                        "valid_until": tr.record.valid_until.isoformat(),
                    },
                    {"record": record_evidence(tr.record), "horizon_days": horizon.value},
                    tag=horizon.tag,
                )
            )
    return out
