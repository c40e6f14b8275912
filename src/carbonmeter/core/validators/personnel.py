"""MGT-02: a person answers for carbon metering and holds a valid certificate (6.2, 持证上岗).

``-A`` nobody is named responsible; ``-B`` no responsible person holds a certificate valid on the assessment
date; ``-C`` (observation) someone's certificate has expired.
"""

from __future__ import annotations

from datetime import date

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Certificate, Person
from carbonmeter.core.validators.base import finding, iso

CODES = {"MGT-02-A": "nonconformity", "MGT-02-B": "nonconformity", "MGT-02-C": "observation"}
CLAUSE = "6.2"
TAGS = frozenset({"management", "personnel"})


def _valid(cert: Certificate, as_of: date) -> bool:
    return cert.valid_until is None or cert.valid_until >= as_of


def _certs(person: Person) -> list[dict[str, str | None]]:
    return [{"name": c.name, "valid_until": iso(c.valid_until)} for c in person.certificates]


def check(facts: Facts) -> list[Finding]:
    out = []
    people = facts.snapshot.personnel
    as_of = facts.as_of
    responsible = [p for p in people if p.responsible]
    if not responsible:
        out.append(
            finding(
                facts,
                "MGT-02-A",
                CLAUSE,
                "nonconformity",
                "organization",
                {},
                {"personnel": [p.name for p in people]},
            )
        )
    elif not any(_valid(c, as_of) for p in responsible for c in p.certificates):
        for p in responsible:
            out.append(
                finding(
                    facts,
                    "MGT-02-B",
                    CLAUSE,
                    "nonconformity",
                    p.name,
                    {"person": p.name},
                    {"certificates": _certs(p)},
                )
            )
    for p in people:
        for c in p.certificates:
            if not _valid(c, as_of):
                out.append(
                    finding(
                        facts,
                        "MGT-02-C",
                        CLAUSE,
                        "observation",
                        p.name,
                        {"person": p.name, "certificate": c.name, "valid_until": iso(c.valid_until)},
                        {"certificate": {"name": c.name, "valid_until": iso(c.valid_until)}},
                    )
                )
    return out
