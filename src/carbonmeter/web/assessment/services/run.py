"""Running the engine on the database and keeping the result, and telling what changed since last time."""

from __future__ import annotations

from datetime import date
from typing import Any

from carbonmeter.core.assess import assess
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.registry.models import Organization


def run_assessment(org: Organization, as_of: date, user: Any = None) -> AssessmentRun:
    """Assess ``org`` at ``as_of`` with its pack and keep the §4 document with the pack's version."""
    pack = load_pack(org.pack_ref)
    doc = to_document(assess(build_snapshot(org, as_of), pack, as_of))
    findings = doc["findings"]
    nc = sum(f["severity"] == "nonconformity" for f in findings)
    run = AssessmentRun(
        organization=org,
        as_of=as_of,
        pack_id=pack.id,
        pack_version=pack.version,
        pack_sha256=pack.sha256,
        document=doc,
        conforms=doc["conforms"],
        nonconformities=nc,
        observations=len(findings) - nc,
        created_by=user if getattr(user, "pk", None) else None,
    )
    run._change_reason = "运行评价"
    run.save()
    return run


def _key(f: dict[str, Any]) -> tuple[str, str]:
    return (f["code"], f["subject"])


def changes(previous: AssessmentRun | None, current: AssessmentRun) -> dict[str, Any]:
    """Findings that appeared or were resolved, and rows whose equipping rate moved, since ``previous``."""
    if previous is None:
        return {"new": current.document["findings"], "resolved": [], "rates": []}
    before = {_key(f): f for f in previous.document["findings"]}
    after = {_key(f): f for f in current.document["findings"]}
    old_rates = {r["row"]: r for r in previous.document["equipping"]}
    rates = [
        {"row": r["row"], "before": old_rates[r["row"]]["rate"], "after": r["rate"]}
        for r in current.document["equipping"]
        if r["row"] in old_rates and old_rates[r["row"]]["rate"] != r["rate"]
    ]
    return {
        "new": [f for k, f in after.items() if k not in before],
        "resolved": [f for k, f in before.items() if k not in after],
        "rates": rates,
    }
