"""The metrology officer's work: what falls due for verification (the plan), recording results in bulk, and
the monitoring plan as the officer reads it (streams → measuring points → instruments).

Reads go through :func:`scope_for`, so a page never shows another organization's rows.  Writes check the
write scope of the model they create: a verifier or regulator holds no write role and gets
:class:`PermissionDenied` (403), whatever the form they post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import (
    F,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carbonmeter.core.traceability import valid_until_from_interval
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import validity
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization, SourceStream
from carbonmeter.web.registry.pack_terms import formula_label, organization_pack
from carbonmeter.web.terms import term_label

#: Statuses whose instruments must be kept verified: in use now, or ready to be put in use (standby).
PLANNED_STATUSES: Final = ("in_use", "standby")


#: The plan's groups in the order a planner works through them: the untraceable first (failed
#: re-verification, expired), then the traceable by display band (``settings.CARBONMETER_DUE_BANDS``),
#: then those never verified.  Each item also shows its state (the core's rule, one vocabulary).
def groups() -> list[tuple[str, str]]:
    """``(key, label)`` of the plan's groups, labels in the active language."""
    last = settings.CARBONMETER_DUE_BANDS[-1] if settings.CARBONMETER_DUE_BANDS else 0
    return [
        ("failed", validity.state_label("failed")),
        ("expired", validity.state_label("expired")),
        *validity.band_choices(),
        ("later", gettext("%(n)s天以后到期") % {"n": last}),
        ("never", validity.state_label("never")),
    ]


@dataclass(frozen=True)
class PlanItem:
    code: str
    name: str
    status: str
    location: str
    #: The newest passing record: its date, kind and validity (None: the instrument never passed).
    last_date: date | None
    last_kind: str | None
    valid_until: date | None
    #: The verification state today (core.traceability.State).
    state: str
    group: str
    days_left: int | None

    @property
    def voided(self) -> bool:
        """A failed record dated after the newest pass (and not in the future): the pass no longer counts."""
        return self.state == "failed"

    @property
    def status_label(self) -> str:
        return term_label("status", self.status)

    @property
    def kind_label(self) -> str:
        return term_label("calibration_kind", self.last_kind) if self.last_kind else ""


@dataclass(frozen=True)
class PlanGroup:
    key: str
    label: str
    items: list[PlanItem]


@dataclass(frozen=True)
class Plan:
    today: date
    month: date | None
    groups: list[PlanGroup]

    @property
    def total(self) -> int:
        return sum(len(g.items) for g in self.groups)


def _month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def planned_instruments(user: Any, org: Organization, today: date) -> QuerySet[Instrument]:
    """The org's in-use and standby instruments, each annotated in the same query with its state, the
    deciding pass (``trace_date``, ``trace_kind``) and ``valid_until`` (:func:`validity.with_state`, the
    core's rule) — so a plant of 20,000 instruments is one query, not 20,000."""
    return validity.with_state(
        scope_for(user, Instrument).filter(organization=org, status__in=PLANNED_STATUSES),
        today,
        validity.due_soon_days(org),
    ).order_by(F("valid_until").asc(nulls_last=True), "code")


def _group(state: str, valid_until: date | None, today: date) -> str:
    if state in ("failed", "expired", "never"):
        return state
    return validity.band_of(valid_until, today) or "later"


def calibration_plan(user: Any, org: Organization, today: date, month: date | None = None) -> Plan:
    """What falls due, grouped failed / expired / within each display band / later / never verified.

    ``month`` keeps only the instruments whose validity ends in that month (what to book with the agency
    for that month); the groups are still counted from ``today``.
    """
    rows = planned_instruments(user, org, today)
    if month is not None:
        # Q, not a keyword: the annotation is unknown to the type checker's view of the model.
        rows = rows.filter(Q(valid_until__range=_month_bounds(month)))
    plan_groups = groups()
    by_group: dict[str, list[PlanItem]] = {key: [] for key, _label in plan_groups}
    fields = ("code", "name", "status", "location", "trace_date", "trace_kind", "valid_until", "state")
    for i in rows.values(*fields):
        group = _group(i["state"], i["valid_until"], today)
        by_group[group].append(
            PlanItem(
                code=i["code"],
                name=i["name"],
                status=i["status"],
                location=i["location"],
                last_date=i["trace_date"],
                last_kind=i["trace_kind"],
                valid_until=i["valid_until"],
                state=i["state"],
                group=group,
                days_left=(i["valid_until"] - today).days if i["valid_until"] else None,
            )
        )
    return Plan(today, month, [PlanGroup(key, label, by_group[key]) for key, label in plan_groups])


# --------------------------------------------------------------------------------------------------------
# Recording results
# --------------------------------------------------------------------------------------------------------


def may_record(user: Any, org: Organization) -> bool:
    """Whether ``user`` may add verification/calibration records to ``org`` (Calibration's write roles)."""
    return writable_orgs(user, Calibration.write_roles).filter(pk=org.pk).exists()


@dataclass(frozen=True)
class Certificate:
    """What differs per instrument in a bulk entry: its own certificate number and scanned file."""

    number: str = ""
    file: UploadedFile | None = None


@dataclass(frozen=True)
class Recorded:
    rows: list[Calibration] = field(default_factory=list)

    def summary(self) -> list[str]:
        """One short line per record for the confirmation message: code, kind, result, validity."""
        return [
            f"{c.instrument.code} {c.get_kind_display()}{c.get_result_display()}"
            + (f" → {c.valid_until.isoformat()}" if c.valid_until else "")
            for c in self.rows
        ]


def _check_values(kind: str, on: date, result: str, valid_until: date | None, reason: str) -> None:
    """The rules a record must meet, said per field in Chinese (the form shows them next to the field)."""
    errors: dict[str, Promise] = {}
    if kind not in dict(Calibration._meta.get_field("kind").choices or []):
        errors["kind"] = _("请选择检定或校准")
    if result not in dict(Calibration._meta.get_field("result").choices or []):
        errors["result"] = _("请选择合格或不合格")
    if valid_until is not None and valid_until < on:
        errors["valid_until"] = _("有效期不能早于检定/校准日期")
    if not reason.strip():
        errors["reason"] = _("请填写变更原因")
    if errors:
        raise ValidationError(errors)


def _validity(
    instruments: Mapping[str, Instrument], codes: Sequence[str], on: date, result: str, given: date | None
) -> dict[str, date | None]:
    """Each record's 有效期至: as given, or for a pass without one, from the instrument's interval
    (``interval_months``, :func:`valid_until_from_interval`).  A pass for an instrument with no interval
    needs the date typed in."""
    if given is not None or result != "pass":
        return dict.fromkeys(codes, given)
    missing = [c for c in codes if not instruments[c].interval_months]
    if missing:
        raise ValidationError(
            {"valid_until": _("合格记录须填写有效期至（未登记检定周期：%s）") % "、".join(missing)}
        )
    return {c: valid_until_from_interval(on, int(instruments[c].interval_months or 0)) for c in codes}


def record_results(
    user: Any,
    org: Organization,
    instrument_codes: Sequence[str],
    *,
    kind: str,
    on: date,
    result: str,
    valid_until: date | None,
    agency: str = "",
    restricted_range: str = "",
    expanded_uncertainty_percent: float | None = None,
    coverage_factor: float | None = None,
    certificate_no: str = "",
    certificate_file: UploadedFile | None = None,
    certificates: Mapping[str, Certificate] | None = None,
    reason: str,
) -> Recorded:
    """One Calibration per instrument, all or none, each with ``reason`` and ``user`` in its history.

    A pass without ``valid_until`` is valid for the instrument's interval (``interval_months``), each
    instrument its own.  ``restricted_range`` (限用范围) is the range the pass confirms them for, when it
    is restricted: their label then reads 准用 (:func:`validity.label_state`).
    ``expanded_uncertainty_percent`` and ``coverage_factor`` are the certificate's U (%) and k (contract
    §6.1), the same for every record.

    ``certificate_no`` and ``certificate_file`` apply to every instrument unless ``certificates`` gives that
    instrument its own.  A file shared by several records is stored once and referenced by each.
    Raises PermissionDenied without a write role in ``org``; ValidationError (field → Chinese message) for
    bad values or for codes that are not ``org``'s instruments.
    """
    if not may_record(user, org):
        raise PermissionDenied(_("无权录入该单位的检定/校准记录"))
    _check_values(kind, on, result, valid_until, reason)
    codes = list(dict.fromkeys(instrument_codes))
    if not codes:
        raise ValidationError({"instruments": _("请至少选择一台器具")})
    instruments = {i.code: i for i in scope_for(user, Instrument).filter(organization=org, code__in=codes)}
    unknown = [c for c in codes if c not in instruments]
    if unknown:
        raise ValidationError({"instruments": _("不是本单位的器具：%s") % "、".join(unknown)})
    until = _validity(instruments, codes, on, result, valid_until)
    certificates = certificates or {}
    recorded = Recorded()
    shared_name: str | None = None
    with transaction.atomic():
        for code in codes:
            own = certificates.get(code, Certificate())
            row = Calibration(
                instrument=instruments[code],
                kind=kind,
                date=on,
                valid_until=until[code],
                result=result,
                certificate_no=own.number or certificate_no,
                agency=agency,
                restricted_range=restricted_range.strip(),
                expanded_uncertainty_percent=expanded_uncertainty_percent,
                coverage_factor=coverage_factor,
            )
            if own.file is not None:
                row.certificate_file.save(own.file.name or f"{code}.pdf", own.file, save=False)
            elif certificate_file is not None:
                if shared_name is None:
                    row.certificate_file.save(
                        certificate_file.name or "certificate.pdf", certificate_file, save=False
                    )
                    shared_name = row.certificate_file.name
                else:
                    row.certificate_file.name = shared_name
            row._change_reason = reason
            row._history_user = user  # type: ignore[attr-defined]
            row.save()
            recorded.rows.append(row)
    return recorded


# --------------------------------------------------------------------------------------------------------
# The monitoring plan (streams → points → instruments)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedInstrument:
    instrument: Instrument
    #: The newest run's traceability reason for it (ok / never / expired / voided; "" if not assessed).
    trace: str

    @property
    def state(self) -> str:
        """The run's reason in the one state vocabulary (voided → failed); "" when traceable or unassessed."""
        return {"never": "never", "expired": "expired", "voided": "failed"}.get(self.trace, "")


@dataclass(frozen=True)
class PointView:
    point: MeasuringPoint
    #: The newest run found no counted instrument on this required point.
    unequipped: bool
    instruments: list[LinkedInstrument]


@dataclass(frozen=True)
class StreamView:
    stream: SourceStream
    #: From the newest assessment run, if there is one (a run is what classifies streams).
    category: str | None
    share: float | None
    points: list[PointView]
    #: The stream's formula by its title in the organization's pack ("" without one).
    formula_title: str = ""

    @property
    def share_percent(self) -> float | None:
        return None if self.share is None else self.share * 100


@dataclass(frozen=True)
class MonitoringPlan:
    run: AssessmentRun | None
    streams: list[StreamView]


def monitoring_plan(user: Any, org: Organization) -> MonitoringPlan:
    """Streams with their points and each point's instruments (three queries), and the newest run's view of
    them: category and share per stream, traceability per instrument, unequipped points."""
    instruments = scope_for(user, Instrument).order_by("code")
    points = (
        scope_for(user, MeasuringPoint)
        .order_by("code")
        .prefetch_related(Prefetch("instruments", queryset=instruments))
    )
    streams = (
        scope_for(user, SourceStream)
        .filter(organization=org)
        .select_related("facility")
        .order_by("code")
        .prefetch_related(Prefetch("points", queryset=points))
    )
    pack = organization_pack(org)
    run = scope_for(user, AssessmentRun).filter(organization=org).order_by("-created_at", "-pk").first()
    doc: Mapping[str, Any] = run.document if run else {}
    classes = {s["id"]: s for s in doc.get("streams", [])}
    trace = {i["id"]: i.get("trace", "") for i in doc.get("instruments", [])}
    unequipped = {p for r in doc.get("equipping", []) for p in r.get("unequipped_points", [])}
    return MonitoringPlan(
        run=run,
        streams=[
            StreamView(
                stream=s,
                category=classes.get(s.code, {}).get("category"),
                share=classes.get(s.code, {}).get("share"),
                points=[
                    PointView(
                        point=p,
                        unequipped=p.code in unequipped,
                        instruments=[LinkedInstrument(i, trace.get(i.code, "")) for i in p.instruments.all()],
                    )
                    for p in s.points.all()
                ],
                formula_title=formula_label(pack, s.formula) if s.formula else "",
            )
            for s in streams
        ],
    )
