"""MGT-04: portable instruments for self-checks are equipped (5.1.4).

The Chongqing draft says 应 (shall) where JJF 2309 says 宜 (should), so the severity is the pack's.  A
portable instrument counts when it is in use or on standby and itself traceable.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding

CODES = {"MGT-04": "nonconformity"}
CLAUSE = "5.1.4"
TAGS = frozenset({"management", "instrument"})


def check(facts: Facts) -> list[Finding]:
    minimum = facts.pack.settings.portable_instruments_min
    if minimum.value is None:
        return []
    portable = [i for i in facts.snapshot.instruments if i.portable]
    usable = [i.id for i in portable if i.status in ("in_use", "standby") and facts.traces[i.id].traceable]
    if len(usable) >= minimum.value:
        return []
    return [
        finding(
            facts,
            "MGT-04",
            CLAUSE,
            "nonconformity",
            "organization",
            {"count": len(usable), "minimum": minimum.value},
            {"portable_instruments": [i.id for i in portable], "usable": usable},
            tag=minimum.tag,
        )
    ]
