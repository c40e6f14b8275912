"""MGT-05: the instrument register (Table B.1) names every field the pack requires (6.3.2).

Scrapped instruments are left alone; ``accuracy`` is satisfied by a class, an MPE or a system's components.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Instrument
from carbonmeter.core.validators.base import finding, label

CODES = {"MGT-05": "nonconformity"}
CLAUSE = "6.3.2"
TAGS = frozenset({"management", "register"})


def _has(inst: Instrument, field: str) -> bool:
    if field == "accuracy":
        return bool(inst.accuracy_class or inst.mpe_percent or inst.mpe_abs or inst.components)
    return bool(getattr(inst, field, None))


def check(facts: Facts) -> list[Finding]:
    fields = facts.pack.settings.register_required_fields
    if not fields.value:
        return []
    out = []
    for inst in facts.snapshot.instruments:
        if inst.status == "scrapped":
            continue
        missing = [f for f in fields.value if not _has(inst, f)]
        if missing:
            out.append(
                finding(
                    facts,
                    "MGT-05",
                    CLAUSE,
                    "nonconformity",
                    inst.id,
                    {
                        "instrument": inst.id,
                        "name": inst.name,
                        "fields": [label("field", f) for f in missing],
                    },
                    {"missing": missing},
                    tag=fields.tag,
                )
            )
    return out
