"""EQP-01: a required measuring point has no counted instrument (5.2.1, Table A.1).

``-A`` (nonconformity): its row of Table A.1 misses the required rate.  ``-B`` (observation): the row still
meets its rate (only possible where the rate is below 100 %, e.g. de minimis activity data at 60 %), so the
gap is worth fixing but is not a nonconformity.  The evidence lists every linked instrument and why it did
not count (standby, stopped, expired, failed recalibration …): the "standby meter counted" of a hand-made
register shows up here.
"""

from __future__ import annotations

from typing import Any

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import because, finding, label

CODES = {"EQP-01-A": "nonconformity", "EQP-01-B": "observation"}
CLAUSE = "5.2.1"
TAGS = frozenset({"equipping"})


def _why_not_counted(facts: Facts, instrument_id: str) -> list[dict[str, str]]:
    inst = facts.instruments[instrument_id]
    reasons = []
    if inst.status != "in_use":
        reasons.append(label("status", inst.status))
    if not facts.traces[instrument_id].traceable:
        reasons.append(label("trace", facts.traces[instrument_id].reason))
    if not reasons and facts.accuracy[instrument_id].passed is False:
        reasons.append(label("accuracy", "fail"))
    return reasons


def check(facts: Facts) -> list[Finding]:
    out = []
    for row in facts.rows:
        code = "EQP-01-B" if row.passed else "EQP-01-A"
        for point_id in row.unequipped_points:
            point = facts.points[point_id]
            linked = [i.id for i in facts.linked[point_id]]
            evidence: dict[str, Any] = {
                "row": row.row,
                "rate": row.rate,
                "required_rate": row.required_rate,
                "linked_instruments": [
                    {
                        "instrument": i,
                        "status": facts.instruments[i].status,
                        "traceable": facts.traces[i].traceable,
                        "trace": facts.traces[i].reason,
                    }
                    for i in linked
                ],
            }
            out.append(
                finding(
                    facts,
                    code,
                    CLAUSE,
                    CODES[code],  # type: ignore[arg-type]
                    point_id,
                    {
                        "point": point_id,
                        "name": point.name or point.parameter,
                        "stream": facts.streams[point.stream].name or point.stream,
                        "row": label("row", row.row),
                        "rate_pct": (row.rate or 0.0) * 100,
                        "required_pct": row.required_rate * 100,
                        "linked": [because(i, *_why_not_counted(facts, i)) for i in linked],
                    },
                    evidence,
                    tag=row.tag,
                )
            )
    return out
