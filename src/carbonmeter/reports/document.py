"""The assessment document (contract §4, ``carbonmeter.assessment/1``): what ``--format json`` prints.

Fields beyond §4 are additive: each stream's two category tests, each row's provenance, each instrument's
traceability reason and certificate validity, each finding's evidence and whether it rests on a provisional
value, and the pack's sha256 so a result names exactly the rules it used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from carbonmeter.core.accounting import Accounting, StreamAccount
from carbonmeter.core.assess import Assessment, InstrumentVerdict
from carbonmeter.core.classify import StreamClass
from carbonmeter.core.findings import Finding, NotJudged
from carbonmeter.rules.messages import render

if TYPE_CHECKING:
    from carbonmeter.quant.formulas import BudgetLine

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
        "streams": [_stream(s, a.accounting) for s in a.streams],
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
        **_uncertainty(a),
        "conforms": a.conforms,
    }


def _budget_line(b: BudgetLine, account: StreamAccount) -> dict[str, Any]:
    stand_in = any(i.stand_in and i.point == b.point for i in account.inputs)
    return {
        "point": b.point,
        "parameter": b.parameter,
        "value": None if stand_in else b.value,
        "unit": b.unit,
        "u_rel": b.u_rel,
        "instrument": b.instrument,
        "certificate_no": b.certificate_no,
        "contribution": b.contribution,
    }


def _stream(s: StreamClass, accounting: Accounting | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": s.stream,
        "category": s.category,
        "share": s.share,
        "annual_emissions_t": s.emissions_t,
        "by_emissions": s.by_emissions,
        "by_share": s.by_share,
    }
    account = accounting.streams.get(s.stream) if accounting is not None else None
    if account is None or account.formula is None:
        return doc
    ev = account.evaluation
    return doc | {
        "formula": account.formula,
        "declared_emissions_t": account.declared_t,
        "computed_emissions_t": account.computed_t,
        "u_rel": account.u_rel,
        "u95_t": account.u95_t,
        "tier": account.tier,
        "activity_u95_percent": account.activity_u95_percent,
        "missing_values": list(account.missing),
        "budget": [_budget_line(b, account) for b in ev.budget] if ev is not None else [],
    }


def _uncertainty(a: Assessment) -> dict[str, Any]:
    acc = a.accounting
    if acc is None or not any(s.formula for s in acc.streams.values()):
        return {}
    total = a.total_emissions_t
    u95 = acc.total_u95_t
    block: dict[str, Any] = {
        "total_u95_t": u95,
        "total_u95_rel": u95 / abs(total) if u95 is not None and total else None,
        "k": acc.k,
        "complete": acc.complete,
    }
    if a.monte_carlo is not None:
        block["monte_carlo"] = {"draws": a.monte_carlo.draws, "u95_t": a.monte_carlo.u95_t}
    return {
        "uncertainty": block,
        "advisor": [
            {
                "point": x.point,
                "stream": x.stream,
                "parameter": x.parameter,
                "contribution": x.contribution,
                "action": x.action,
                "to": x.to,
                "reduction_t": x.reduction_t,
                "max_reduction_t": x.max_reduction_t,
            }
            for x in acc.advisor
        ],
    }
