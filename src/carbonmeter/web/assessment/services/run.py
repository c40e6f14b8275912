"""Running the engine on the database and keeping the result, and telling what changed since last time."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from carbonmeter.core.accounting import InputProblems
from carbonmeter.core.assess import assess
from carbonmeter.core.snapshot import Snapshot
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.rules.schema import Pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.registry.models import Organization


class AssessmentRefused(Exception):
    """The organization's rows contradict its rule pack (a formula or a default the pack does not hold, a
    unit of the wrong dimension …): nothing is assessed, and the message names each stream or point."""


def _located(snapshot: Snapshot, exc: InputProblems) -> str:
    lists: dict[str, list[str]] = {
        "source_streams": [s.id for s in snapshot.source_streams],
        "measuring_points": [p.id for p in snapshot.measuring_points],
    }
    lines = []
    for p in exc.problems:
        _, name, index, *_rest = [*p.pointer.split("/"), "", "", ""]
        ids = lists.get(name, [])
        ident = ids[int(index)] if index.isdigit() and int(index) < len(ids) else p.pointer
        lines.append(f"{ident}：{p.message}")
    return "；".join(lines)


def run_assessment(org: Organization, as_of: date, user: Any = None) -> AssessmentRun:
    """Assess ``org`` at ``as_of`` with its pack and keep the §4 document with the pack's version;
    :class:`AssessmentRefused` when the rows contradict the pack."""
    pack = load_pack(org.pack_ref)
    snapshot = build_snapshot(org, as_of)
    try:
        doc = to_document(assess(snapshot, pack, as_of))
    except InputProblems as exc:
        raise AssessmentRefused(
            _("评价未运行：登记的数据与规则包「%(pack)s」不符——%(problems)s")
            % {"pack": pack.title.zh, "problems": _located(snapshot, exc)}
        ) from exc
    return keep_run(org, as_of, pack, doc, user)


def keep_run(
    org: Organization,
    as_of: date,
    pack: Pack,
    doc: dict[str, Any],
    user: Any = None,
    reason: str = "运行评价",
) -> AssessmentRun:
    """Store the §4 document ``doc`` of ``org`` at ``as_of`` as a run, with the pack it came from."""
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
    run._change_reason = reason
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
