"""MGT-01: the management documents the pack requires are present and approved (6.1).

``-A`` a required document is missing; ``-B`` it exists but carries no approval dated on or before the
assessment date.
"""

from __future__ import annotations

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.validators.base import finding, iso

CODES = {"MGT-01-A": "nonconformity", "MGT-01-B": "nonconformity"}
CLAUSE = "6.1"
TAGS = frozenset({"management"})


def check(facts: Facts) -> list[Finding]:
    out = []
    docs = facts.snapshot.documents
    for req in facts.pack.required_documents:
        title = {"zh": req.zh, "en": req.en}
        mine = [d for d in docs if d.kind == req.kind]
        if not mine:
            out.append(
                finding(
                    facts,
                    "MGT-01-A",
                    CLAUSE,
                    "nonconformity",
                    "organization",
                    {"kind": req.kind, "title": title},
                    {"kind": req.kind},
                    tag=req.tag,
                )
            )
        elif not any(d.approved is not None and d.approved <= facts.as_of for d in mine):
            out.append(
                finding(
                    facts,
                    "MGT-01-B",
                    CLAUSE,
                    "nonconformity",
                    req.kind,
                    {"kind": req.kind, "title": title, "doc_title": mine[0].title},
                    {"documents": [{"title": d.title, "approved": iso(d.approved)} for d in mine]},
                    tag=req.tag,
                )
            )
    return out
