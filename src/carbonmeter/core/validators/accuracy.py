"""ACC: accuracy against Tables A.2/A.3 (5.2.2).

``ACC-01`` (nonconformity): an instrument in use does not meet the requirement of its point's purpose — for
a measuring system, the combined accuracy of its components.  ``ACC-02`` (observation, per measured point):
the requirement cannot be applied — ``-A`` the pack has no value for it ("requirement not loaded", never a
silent pass), ``-B`` the purpose is unknown to the pack, ``-C`` the point names no purpose.  ``ACC-03``
(observation): an instrument in use states no accuracy, or one that cannot be compared honestly with the
requirement (a roman weighing class against a percentage).  A verdict that rests on a provisional value
says so.
"""

from __future__ import annotations

from typing import Any

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, label

CODES = {
    "ACC-01": "nonconformity",
    "ACC-02-A": "observation",
    "ACC-02-B": "observation",
    "ACC-02-C": "observation",
    "ACC-03": "observation",
}
CLAUSE = "5.2.2"
TAGS = frozenset({"accuracy"})
_POINT_CODES = {"not_loaded": "ACC-02-A", "unknown_purpose": "ACC-02-B", "no_purpose": "ACC-02-C"}


def _point_findings(facts: Facts) -> list[Finding]:
    out = []
    reqs = facts.pack.accuracy_requirements
    for point_id in facts.point_rows:
        point = facts.points[point_id]
        purpose = point.purpose
        if not purpose:
            reason = "no_purpose"
        elif purpose not in reqs:
            reason = "unknown_purpose"
        elif reqs[purpose].tag == "missing":
            reason = "not_loaded"
        else:
            continue
        req = reqs.get(purpose or "")
        out.append(
            finding(
                facts,
                _POINT_CODES[reason],
                CLAUSE,
                "observation",
                point_id,
                {
                    "point": point_id,
                    "name": point.name or point.parameter,
                    "purpose": purpose or "",
                    "title": {"zh": req.title.zh, "en": req.title.en} if req else purpose or "",
                },
                {"purpose": purpose, "note": req.note if req else None},
            )
        )
    return out


def check(facts: Facts) -> list[Finding]:
    out = _point_findings(facts)
    for inst in facts.snapshot.instruments:
        if inst.status != "in_use":
            continue
        acc = facts.accuracy[inst.id]
        for pa in acc.per_point:
            params: dict[str, Any] = {
                "instrument": inst.id,
                "name": inst.name,
                "point": pa.point,
                "required": pa.required,
                "actual": acc.actual or "—",
                "purpose": pa.purpose or "",
            }
            evidence = {
                "point": pa.point,
                "purpose": pa.purpose,
                "required": pa.required,
                "actual": acc.actual,
                "stated": acc.stated,
                "tag": pa.tag,
                "components": [
                    {"type": c.type, "accuracy_class": c.accuracy_class, "mpe_percent": c.mpe_percent}
                    for c in inst.components
                ],
            }
            if pa.passed is False:
                out.append(
                    finding(facts, "ACC-01", CLAUSE, "nonconformity", inst.id, params, evidence, tag=pa.tag)
                )
            elif pa.unjudged in ("no_accuracy", "incomparable"):
                params["why"] = label("unjudged", pa.unjudged)
                out.append(
                    finding(facts, "ACC-03", CLAUSE, "observation", inst.id, params, evidence, tag=pa.tag)
                )
    return out
