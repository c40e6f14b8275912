"""Snapshot → rows: importing a plant (the demo, an XLSX register) into the registry, attributably.

Rows are matched by code within the organization; a changed row is updated and its history records the
user and the reason; a row missing from the file is left alone (an import never deletes); calibration
records are added, never rewritten.  A dry run performs the same import inside a transaction that is rolled
back, so the preview is exactly what confirming would do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction

from carbonmeter.core import snapshot as snap
from carbonmeter.web.base import BaseModel
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import models as rm


@dataclass(frozen=True)
class FieldChange:
    """One field of an updated row: the model field's name (or ``points`` / ``components``), old and new."""

    field: str
    old: Any
    new: Any


@dataclass
class ImportReport:
    created: dict[str, list[str]] = field(default_factory=dict)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    #: For each updated row (list → key), what changed in it: the preview shows old → new per field.
    diffs: dict[str, dict[str, list[FieldChange]]] = field(default_factory=dict)

    def add(self, what: str, key: str, outcome: str, diff: list[FieldChange] | None = None) -> None:
        if outcome == "unchanged":
            self.unchanged[what] = self.unchanged.get(what, 0) + 1
        else:
            getattr(self, outcome).setdefault(what, []).append(key)
        if outcome == "updated" and diff:
            self.diffs.setdefault(what, {})[key] = list(diff)

    @property
    def changes(self) -> int:
        return sum(len(v) for v in self.created.values()) + sum(len(v) for v in self.updated.values())


B = TypeVar("B", bound=BaseModel)


class _DryRun(Exception):
    pass


def _upsert(
    model: type[B],
    match: dict[str, Any],
    values: dict[str, Any],
    reason: str,
    diff: list[FieldChange] | None = None,
) -> tuple[B, str]:
    """Create or update one row; history gets ``reason``. Returns the row and created/updated/unchanged;
    an update's old and new values go to ``diff`` when one is given."""
    row = model._default_manager.filter(**match).first()
    if row is None:
        row = model(**match, **values)
        row._change_reason = reason
        row.save()
        return row, "created"
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if row.archived:
        changed["archived"] = False
    if not changed:
        return row, "unchanged"
    if diff is not None:
        diff += [FieldChange(k, getattr(row, k), v) for k, v in changed.items()]
    for k, v in changed.items():
        setattr(row, k, v)
    row._change_reason = reason
    row.save()
    return row, "updated"


def _organization(
    s: snap.Snapshot, reason: str, diff: list[FieldChange] | None = None
) -> tuple[rm.Organization, str]:
    o = s.organization
    values = {
        "name": o.name,
        "industry": o.industry,
        "region": o.region,
        "key_emission_unit": o.key_emission_unit,
        "reporting_year": s.reporting_year,
        "extra": o.extra,
    }
    # A blank industry or region in a file means "not given": it must not clear what the registry knows
    # (a blank region would hide the organization from its regulator).
    values = {k: v for k, v in values.items() if v != ""}
    return _upsert(rm.Organization, {"credit_code": o.credit_code}, values, reason, diff)


def _instrument_values(i: snap.Instrument) -> dict[str, Any]:
    return {
        "name": i.name,
        "type": i.type,
        "model": i.model,
        "serial_no": i.serial_no,
        "asset_no": i.asset_no,
        "manufacturer": i.manufacturer,
        "measuring_range": i.measuring_range,
        "location": i.location,
        "accuracy_class": i.accuracy_class or "",
        "mpe_percent": i.mpe_percent,
        "mpe_abs": i.mpe_abs,
        "mpe_abs_unit": i.mpe_abs_unit,
        "status": i.status,
        "portable": i.portable,
        "smart": i.smart,
        "seal_intact": i.seal_intact,
        "ownership": i.ownership,
        "traceability_basis": i.traceability_basis,
        "interval_months": i.interval_months,
        "in_service_from": i.in_service_from,
        "extra": i.extra,
    }


def set_points(inst: rm.Instrument, points: Iterable[rm.MeasuringPoint | int], reason: str) -> bool:
    """Link ``inst`` to exactly ``points`` (rows or pks); True if that changed its links.

    A change is one history entry of the instrument, which keeps the links with it: who (the request's user),
    when, ``reason``, and the points before and after.  ``points.set()`` alone would write one entry per
    removal and addition, or none at all without the instrument's m2m history.
    """
    wanted = {p.pk if isinstance(p, rm.MeasuringPoint) else p for p in points}
    if set(inst.points.values_list("pk", flat=True)) == wanted:
        return False
    inst.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        inst.points.set(wanted)
    finally:
        del inst.skip_history_when_saving  # type: ignore[attr-defined]
    inst._change_reason = reason
    inst.save()
    return True


def _sync_components(inst: rm.Instrument, wanted: tuple[snap.Component, ...], reason: str) -> bool:
    have = list(rm.Component.objects.filter(instrument=inst, archived=False).order_by("id"))
    as_tuple = [(old.type, old.accuracy_class or None, old.mpe_percent, old.extra) for old in have]
    if as_tuple == [(new.type, new.accuracy_class, new.mpe_percent, new.extra) for new in wanted]:
        return False
    for old in have:
        old.archive(reason)
    for new in wanted:
        row = rm.Component(
            instrument=inst,
            type=new.type,
            accuracy_class=new.accuracy_class or "",
            mpe_percent=new.mpe_percent,
            extra=new.extra,
        )
        row._change_reason = reason
        row.save()
    return True


def _apply(s: snap.Snapshot, reason: str, report: ImportReport) -> rm.Organization:
    diff: list[FieldChange] = []
    org, outcome = _organization(s, reason, diff)
    report.add("organization", org.credit_code, outcome, diff)
    facilities = {}
    for f in s.facilities:
        diff = []
        facilities[f.id], outcome = _upsert(
            rm.Facility,
            {"organization": org, "code": f.id},
            {"name": f.name, "level": f.level, "extra": f.extra},
            reason,
            diff,
        )
        report.add("facilities", f.id, outcome, diff)
    streams = {}
    for st in s.source_streams:
        diff = []
        streams[st.id], outcome = _upsert(
            rm.SourceStream,
            {"organization": org, "code": st.id},
            {
                "name": st.name,
                "kind": st.kind,
                "method": st.method,
                "emission_mode": st.emission_mode,
                "annual_emissions_t": st.annual_emissions_t,
                "facility": facilities[st.facility] if st.facility else None,
                "formula": st.formula or "",
                "extra": st.extra,
            },
            reason,
            diff,
        )
        report.add("source_streams", st.id, outcome, diff)
    points = {}
    for p in s.measuring_points:
        diff = []
        points[p.id], outcome = _upsert(
            rm.MeasuringPoint,
            {"organization": org, "code": p.id},
            {
                "stream": streams[p.stream],
                "name": p.name,
                "role": p.role,
                "parameter": p.parameter,
                "determination": p.determination,
                "purpose": p.purpose or "",
                "trade_settlement": p.trade_settlement,
                "operating_value": p.operating_value,
                "value": p.value,
                "unit": p.unit,
                "u_rel": p.u_rel,
                "factor": p.factor or "",
                "extra": p.extra,
            },
            reason,
            diff,
        )
        report.add("measuring_points", p.id, outcome, diff)
    instruments = {}
    for i in s.instruments:
        diff = []
        inst, outcome = _upsert(
            rm.Instrument, {"organization": org, "code": i.id}, _instrument_values(i), reason, diff
        )
        had = sorted(inst.points.values_list("code", flat=True))
        if set_points(inst, (points[ref] for ref in i.points), reason):
            outcome = "updated" if outcome == "unchanged" else outcome
            diff.append(FieldChange("points", had, sorted(i.points)))
        old_components = [c.type for c in rm.Component.objects.filter(instrument=inst, archived=False)]
        if _sync_components(inst, i.components, reason):
            outcome = "updated" if outcome == "unchanged" else outcome
            diff.append(FieldChange("components", old_components, [c.type for c in i.components]))
        instruments[i.id] = inst
        report.add("instruments", i.id, outcome, diff)
    for c in s.calibrations:
        diff = []
        _, outcome = _upsert(
            Calibration,
            {
                "instrument": instruments[c.instrument],
                "kind": c.kind,
                "date": c.date,
                "certificate_no": c.certificate_no,
            },
            {
                "valid_until": c.valid_until,
                "result": c.result,
                "agency": c.agency,
                "restricted_range": c.restricted_range,
                "expanded_uncertainty_percent": c.expanded_uncertainty_percent,
                "coverage_factor": c.coverage_factor,
                "extra": c.extra,
            },
            reason,
            diff,
        )
        report.add("calibrations", f"{c.instrument} {c.date}", outcome, diff)
    for person in s.personnel:
        diff = []
        row, outcome = _upsert(
            rm.Person,
            {"organization": org, "name": person.name},
            {"role": person.role, "responsible": person.responsible, "extra": person.extra},
            reason,
            diff,
        )
        for cert in person.certificates:
            _upsert(
                rm.PersonCertificate,
                {"person": row, "name": cert.name},
                {"valid_until": cert.valid_until, "extra": cert.extra},
                reason,
            )
        report.add("personnel", person.name, outcome, diff)
    for d in s.documents:
        diff = []
        _, outcome = _upsert(
            rm.ManagementDocument,
            {"organization": org, "kind": d.kind, "title": d.title},
            {"approved": d.approved, "extra": d.extra},
            reason,
            diff,
        )
        report.add("documents", d.title or d.kind, outcome, diff)
    return org


def import_snapshot(
    s: snap.Snapshot, *, reason: str, dry_run: bool = False
) -> tuple[rm.Organization | None, ImportReport]:
    """Import ``s``, all or nothing. With ``dry_run`` nothing is kept; the report says what would change."""
    report = ImportReport()
    try:
        with transaction.atomic():
            org = _apply(s, reason, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return None, report
    return org, report
