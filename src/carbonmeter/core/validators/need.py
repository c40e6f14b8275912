"""EQP-02 and EQP-03: the theoretical need rests on the formula, not on what the plan chose to list (5.1.1,
5.2.1; contract v1.1 §6.2).

EQP-02 (nonconformity): a point is declared a default where the stream's formula allows no default for that
parameter at the stream's category — a default cannot stand in for a measurement the standard requires, so
the point is required and counts as unequipped in its Table A.1 row.  EQP-03 (observation): a stream without
a formula keeps v1's rule, its plan's own measured points, so its need rests on the plant's word.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, label, parameter_name

CODES = {"EQP-02": "nonconformity", "EQP-03": "observation"}
CLAUSE = "5.1.1"
TAGS = frozenset({"equipping", "formula"})


def check(facts: Facts) -> list[Finding]:
    out = []
    for point_id, row in facts.need.misused_defaults.items():
        point = facts.points[point_id]
        stream = facts.streams[point.stream]
        cls = facts.classes[stream.id]
        spec = facts.pack.formulas[stream.formula or ""]
        allowed = list(spec.parameters[point.parameter].default_allowed)
        out.append(
            finding(
                facts,
                "EQP-02",
                CLAUSE,
                "nonconformity",
                point_id,
                {
                    "point": point_id,
                    "name": point.name or parameter_name(point.parameter),
                    "stream": stream.name or stream.id,
                    "parameter": parameter_name(point.parameter),
                    "category": label("category", cls.category),
                    "row": label("row", row),
                },
                {
                    "formula": stream.formula,
                    "parameter": point.parameter,
                    "category": cls.category,
                    "default_allowed": allowed,
                    "row": row,
                },
                tag=spec.tag,
            )
        )
    for stream_id in facts.need.plan_only:
        stream = facts.streams[stream_id]
        planned = [p.id for p in facts.snapshot.measuring_points if p.stream == stream_id]
        out.append(
            finding(
                facts,
                "EQP-03",
                "5.2.1",
                "observation",
                stream_id,
                {"stream": stream_id, "name": stream.name or stream_id},
                {"planned_points": planned},
            )
        )
    return out
