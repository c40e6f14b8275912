"""EMI-01: the declared emissions of a stream are not supported by its metering (5.1.1; contract v1.1 §6.3).

Where a stream's emissions are both declared and computed from its points' values, and they differ by more
than the computed value's U95, the report does not rest on the measurements.  An observation: the gap may
be an honest difference of period or scope, but a verifier asks for it to be explained.  Where the computed
value's uncertainty is not judged there is no yardstick, and nothing is said (the not-judged list says why).
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding

CODES = {"EMI-01": "observation"}
CLAUSE = "5.1.1"
TAGS = frozenset({"emissions"})


def check(facts: Facts) -> list[Finding]:
    out = []
    for account in facts.accounting.streams.values():
        declared, computed, u95 = account.declared_t, account.computed_t, account.u95_t
        if declared is None or computed is None or u95 is None:
            continue
        gap = declared - computed
        if abs(gap) <= u95:
            continue
        stream = facts.streams[account.stream]
        out.append(
            finding(
                facts,
                "EMI-01",
                CLAUSE,
                "observation",
                stream.id,
                {
                    "stream": stream.id,
                    "name": stream.name or stream.id,
                    "declared_t": declared,
                    "computed_t": computed,
                    "gap_t": gap,
                    "u95_t": u95,
                },
                {"declared_t": declared, "computed_t": computed, "u95_t": u95, "formula": account.formula},
            )
        )
    return out
