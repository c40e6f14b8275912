"""What every validator shares: building a finding the way the pack wants it.

A pack may change a code's severity (JJF 2309 says 宜 where the Chongqing draft says 应) or cite another
clause number; validators state their defaults and this is the one place that applies the pack's word.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carbonmeter.core.facts import Facts
from carbonmeter.core.findings import Finding
from carbonmeter.core.snapshot import Calibration
from carbonmeter.core.terms import parameter_name as parameter_name
from carbonmeter.rules.schema import Severity


def finding(
    facts: Facts,
    code: str,
    clause: str,
    severity: Severity,
    subject: str,
    params: dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
    *,
    tag: str | None = None,
) -> Finding:
    """A finding with the pack's severity and clause for ``code`` (full code first, then its family)."""
    pack = facts.pack
    family = code.rsplit("-", 1)[0] if code.count("-") == 2 else code
    override = pack.severity.get(code) or pack.severity.get(family)
    if override is not None and override.value is not None:
        severity = override.value
        tag = tag if tag == "provisional" else override.tag
    clause = pack.clause_map.get(code) or pack.clause_map.get(family) or clause
    return Finding(
        code=code,
        clause=clause,
        severity=severity,
        subject=subject,
        params=params or {},
        evidence=evidence or {},
        provisional=tag == "provisional",
    )


def label(group: str, key: str) -> dict[str, str]:
    """A parameter rendered from the message catalogue's labels (e.g. ``status.standby`` → 备用)."""
    return {"label": f"{group}.{key}"}


def because(ident: str, *reasons: dict[str, str]) -> dict[str, Any]:
    """A parameter rendered as ``I-12（备用）`` / ``I-12 (standby)``."""
    return {"id": ident, "because": list(reasons)}


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def record_evidence(rec: Calibration | None) -> dict[str, Any] | None:
    """A verification/calibration record as evidence, dates in ISO form."""
    if rec is None:
        return None
    return {
        "instrument": rec.instrument,
        "kind": rec.kind,
        "date": iso(rec.date),
        "valid_until": iso(rec.valid_until),
        "result": rec.result,
        "certificate_no": rec.certificate_no,
        "agency": rec.agency,
    }
