"""Root cause (contract §6.4.4): one untraceable instrument explains the findings on the points it serves.

An expired belt scale makes its point unequipped, its row miss its rate, and (under v1.1) its stream's
uncertainty unknown: a verifier wants that read as one problem with several consequences.  A finding on a
point whose only in-use linked instruments are untraceable carries ``root_cause`` = that instrument (the first
in snapshot order); the traceability findings on the instrument itself carry its own id, so reports can group
the instrument and its points together.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding

#: Code families of the findings about an instrument's own traceability.
_TRACEABILITY = ("TRC-01", "TRC-02")


def point_root_causes(facts: Facts) -> dict[str, str]:
    """Point id → the untraceable instrument that explains it, for points whose in-use instruments are all
    untraceable at ``as_of`` (a point with no in-use instrument has none: nothing to repair, a gap to fill).
    """
    out: dict[str, str] = {}
    traces = facts.traces
    for point_id, linked in facts.linked.items():
        first: str | None = None
        for inst in linked:
            if inst.status != "in_use":
                continue
            if traces[inst.id].traceable:
                first = None
                break
            if first is None:
                first = inst.id
        if first is not None:
            out[point_id] = first
    return out


def _own_cause(facts: Facts, f: Finding) -> str | None:
    if not f.code.startswith(_TRACEABILITY):
        return None
    inst = facts.instruments.get(f.subject)
    if inst is None or inst.status != "in_use" or facts.traces[inst.id].traceable:
        return None
    return inst.id


def attach_root_causes(facts: Facts, findings: list[Finding]) -> list[Finding]:
    """``findings`` with ``root_cause`` filled where §6.4.4 gives one.

    Set in place: the findings were made by this run's validators and are not yet handed to anyone (copying
    thousands of them would cost more than the rest of the step).
    """
    causes = point_root_causes(facts)
    points = facts.points
    for f in findings:
        if f.root_cause is not None:
            continue
        cause = causes.get(f.subject) if f.subject in points else _own_cause(facts, f)
        if cause is not None:
            f.root_cause = cause
    return findings
