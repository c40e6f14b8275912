"""MGT-03: the seal (铅封、封印) of an instrument in use is broken (6.3.8)."""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding

CODES = {"MGT-03": "nonconformity"}
CLAUSE = "6.3.8"
TAGS = frozenset({"management", "instrument"})


def check(facts: Facts) -> list[Finding]:
    return [
        finding(
            facts,
            "MGT-03",
            CLAUSE,
            "nonconformity",
            i.id,
            {"instrument": i.id, "name": i.name},
            {"seal_intact": False, "location": i.location},
        )
        for i in facts.snapshot.instruments
        if i.status == "in_use" and i.seal_intact is False
    ]
