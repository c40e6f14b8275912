"""Root cause (contract §6.4.4): one untraceable instrument explains the findings on the points it serves.

An expired belt scale makes its point unequipped, its row miss its rate, and (under v1.1) its stream's
uncertainty unknown: a verifier wants that read as one problem with several consequences.  A finding on a
point whose only in-use linked instruments are untraceable carries ``root_cause`` = that instrument (the first
in snapshot order); the traceability findings on the instrument itself carry its own id, so reports can group
the instrument and its points together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding

#: Code families of the findings about an instrument's own traceability.
_TRACEABILITY = ("TRC-01", "TRC-02")


def point_root_causes(facts: Facts) -> dict[str, str]:
    """Point id → the untraceable instrument that explains it, for points whose in-use instruments are all
    untraceable at ``as_of`` (a point with no in-use instrument has none: nothing to repair, a gap to fill).
    """
    out: dict[str, str] = {}
    for point_id, linked in facts.linked.items():
        in_use = [i.id for i in linked if i.status == "in_use"]
        if in_use and not any(facts.traces[i].traceable for i in in_use):
            out[point_id] = in_use[0]
    return out


def _own_cause(facts: Facts, f: Finding) -> str | None:
    inst = facts.instruments.get(f.subject)
    if inst is None or inst.status != "in_use" or facts.traces[inst.id].traceable:
        return None
    return inst.id if f.code.startswith(_TRACEABILITY) else None


def attach_root_causes(facts: Facts, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with ``root_cause`` filled where §6.4.4 gives one (others returned unchanged)."""
    causes = point_root_causes(facts)
    out: list[Finding] = []
    for f in findings:
        cause = causes.get(f.subject) if f.subject in facts.points else _own_cause(facts, f)
        out.append(dataclasses.replace(f, root_cause=cause) if cause and f.root_cause is None else f)
    return out
