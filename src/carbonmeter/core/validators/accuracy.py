"""ACC: accuracy against Tables A.2/A.3 (5.2.2).

``ACC-01`` (nonconformity): an instrument in use does not meet the requirement of its point's purpose — for
a measuring system, the accuracy it states as a system, else the combined accuracy of its components
(contract §6.4.2).  ``ACC-03`` (observation): an instrument in use states no accuracy, or one that cannot be
compared honestly with the requirement (a roman weighing class against a percentage).  A verdict that rests
on a provisional value says so.

What the engine cannot judge is not a finding about the plant (contract §6.4.3): a measured point whose
requirement cannot be applied goes to ``not_judged`` with the reason code ``ACC-02-A`` (the pack has no value
for it: "requirement not loaded", never a silent pass), ``ACC-02-B`` (the purpose is not in the pack's
tables) or ``ACC-02-C`` (the point names no purpose).
"""

from __future__ import annotations

from typing import Any

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding, NotJudged
from carbonmeter.core.validators.base import finding, label

CODES = {
    "ACC-01": "nonconformity",
    "ACC-03": "observation",
}
#: Reason codes of what this validator cannot judge (rendered from the catalogue like finding codes).
NOT_JUDGED = frozenset({"ACC-02-A", "ACC-02-B", "ACC-02-C"})
CLAUSE = "5.2.2"
TAGS = frozenset({"accuracy"})

_POINT_CODES = {"not_loaded": "ACC-02-A", "unknown_purpose": "ACC-02-B", "no_purpose": "ACC-02-C"}


def not_judged(facts: Facts) -> list[NotJudged]:
    """One item per measured point whose accuracy requirement cannot be applied, in plan order."""
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
            NotJudged(
                subject=point_id,
                what="accuracy",
                code=_POINT_CODES[reason],
                params={
                    "point": point_id,
                    "name": point.name or point.parameter,
                    "purpose": purpose or "",
                    "title": {"zh": req.title.zh, "en": req.title.en} if req else purpose or "",
                },
            )
        )
    return out


def check(facts: Facts) -> list[Finding]:
    out: list[Finding] = []
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
                "combined": acc.combined,
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
