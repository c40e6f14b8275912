"""MTH-01: a stream is determined by measurement where the standard allows only calculation (4.2).

Purchased or exported electricity and heat, and carbon products, are accounted from their activity data and
a factor: there is no flue gas to measure.  A plan that marks such a stream 实测法 is wrong about its method,
and its points would land in the wrong row of Table A.1 (contract §6.4.7).
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, label

CODES = {"MTH-01": "nonconformity"}
CLAUSE = "4.2"
TAGS = frozenset({"method"})

#: Stream kinds that cannot be determined by measurement (contract §6.4.7).
CALCULATION_ONLY: frozenset[str] = frozenset(
    {
        "purchased_electricity",
        "purchased_heat",
        "exported_electricity",
        "exported_heat",
        "carbon_product",
    }
)


def check(facts: Facts) -> list[Finding]:
    return [
        finding(
            facts,
            "MTH-01",
            CLAUSE,
            "nonconformity",
            s.id,
            {"stream": s.id, "name": s.name or s.id, "kind": label("stream_kind", s.kind)},
            {"stream_kind": s.kind, "method": s.method},
        )
        for s in facts.snapshot.source_streams
        if s.method == "measurement" and s.kind in CALCULATION_ONLY
    ]
