"""The assessment document (contract §4, ``carbonmeter.assessment/1``): what ``--format json`` prints.

Fields beyond §4 are additive: each stream's two category tests, each row's provenance, each instrument's
traceability reason and certificate validity, each finding's evidence and whether it rests on a provisional
value, and the pack's sha256 so a result names exactly the rules it used.
"""

from __future__ import annotations

from typing import Any

from carbonmeter.core.assess import Assessment, InstrumentVerdict
from carbonmeter.core.findings import Finding, NotJudged
from carbonmeter.rules.messages import render

SCHEMA = "carbonmeter.assessment/1"


def _instrument(v: InstrumentVerdict) -> dict[str, Any]:
    rec = v.trace.record
    acc = v.accuracy
    return {
        "id": v.id,
        "traceable": v.trace.traceable,
        "counted": v.counted,
        "accuracy": {
            "required": acc.required,
            "actual": acc.actual,
            "pass": acc.passed,
            "basis": acc.tag,
            **({"combined": acc.combined} if acc.combined else {}),
        },
        "trace": v.trace.reason,
        "valid_until": rec.valid_until.isoformat() if rec and rec.valid_until else None,
        "untraceable_periods": None
        if v.untraceable_periods is None
        else [{"from": p.start.isoformat(), "to": p.end.isoformat()} for p in v.untraceable_periods],
    }


def finding_document(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "clause": f.clause,
        "severity": f.severity,
        "subject": f.subject,
        "message": render(f.code, f.params, "zh"),
        "message_en": render(f.code, f.params, "en"),
        "provisional": f.provisional,
        "root_cause": f.root_cause,
        "tonnes_at_stake": f.tonnes_at_stake,
        "evidence": f.evidence,
    }


def not_judged_document(n: NotJudged) -> dict[str, Any]:
    return {
        "subject": n.subject,
        "what": n.what,
        "reason": render(n.code, n.params, "zh"),
        "reason_en": render(n.code, n.params, "en"),
        "code": n.code,
        "provisional": n.provisional,
    }


def to_document(a: Assessment) -> dict[str, Any]:
    """The contract §4 document of an assessment, ready for ``json.dumps``."""
    return {
        "schema": SCHEMA,
        "profile": {
            "id": a.pack.id,
            "version": a.pack.version,
            "status": a.pack.status,
            "sha256": a.pack.sha256,
        },
        "as_of": a.as_of.isoformat(),
        "total_emissions_t": a.total_emissions_t,
        "streams": [
            {
                "id": s.stream,
                "category": s.category,
                "share": s.share,
                "annual_emissions_t": s.emissions_t,
                "by_emissions": s.by_emissions,
                "by_share": s.by_share,
            }
            for s in a.streams
        ],
        "equipping": [
            {
                "row": r.row,
                "required": r.required,
                "equipped": r.equipped,
                "rate": r.rate,
                "required_rate": r.required_rate,
                "pass": r.passed,
                "unequipped_points": list(r.unequipped_points),
                "basis": r.tag,
            }
            for r in a.rows
        ],
        "equipping_by_facility": [
            {
                "facility": fr.facility,
                "row": fr.result.row,
                "required": fr.result.required,
                "equipped": fr.result.equipped,
                "rate": fr.result.rate,
                "required_rate": fr.result.required_rate,
                "pass": fr.result.passed,
            }
            for fr in a.by_facility
        ],
        "instruments": [_instrument(v) for v in a.instruments],
        "findings": [finding_document(f) for f in a.findings],
        "not_judged": [not_judged_document(n) for n in a.not_judged],
        "conforms": a.conforms,
    }
