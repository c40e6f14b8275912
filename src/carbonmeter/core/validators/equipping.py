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
from carbonmeter.core.validators.base import because, finding, label, parameter_name

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


def _what(facts: Facts, subject: str) -> tuple[str, Any]:
    """The stream and the name of a required subject: a planned point, or a formula parameter the plan
    lacks (``stream:parameter``, contract §6.2)."""
    missing = facts.need.missing.get(subject)
    if missing is not None:
        return missing.stream, parameter_name(missing.parameter)
    point = facts.points[subject]
    return point.stream, point.name or point.parameter


def check(facts: Facts) -> list[Finding]:
    out = []
    for row in facts.rows:
        code = "EQP-01-B" if row.passed else "EQP-01-A"
        for point_id in row.unequipped_points:
            if point_id in facts.need.misused_defaults:
                continue  # EQP-02 names it, with the reason
            stream_id, name = _what(facts, point_id)
            linked = [i.id for i in facts.linked.get(point_id, ())]
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
                        "name": name,
                        "stream": facts.streams[stream_id].name or stream_id,
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
