"""CAT-01: the absolute and relative category tests disagree (3.9–3.11).

Not a fault of the plant — a fact a verifier wants to see, because the standard joins the tests with 或 and
the engine resolves the conflict upwards (the stricter category).  Open question Q2 of the digest.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, label

CODES = {"CAT-01": "observation"}
CLAUSE = "3.9"
TAGS = frozenset({"classification"})


def check(facts: Facts) -> list[Finding]:
    out = []
    for stream_id, cls in facts.classes.items():
        if cls.by_emissions == cls.by_share:
            continue
        out.append(
            finding(
                facts,
                "CAT-01",
                CLAUSE,
                "observation",
                stream_id,
                {
                    "stream": stream_id,
                    "name": facts.streams[stream_id].name,
                    "emissions_t": cls.emissions_t,
                    "share_pct": cls.share * 100,
                    "by_emissions": label("category", cls.by_emissions),
                    "by_share": label("category", cls.by_share),
                    "category": label("category", cls.category),
                },
                {
                    "emissions_t": cls.emissions_t,
                    "share": cls.share,
                    "by_emissions": cls.by_emissions,
                    "by_share": cls.by_share,
                    "category": cls.category,
                },
            )
        )
    return out
