"""The API's writes: each in one transaction, each with a reason that the row's history keeps.

Validation is the model's own (``BaseModel.save`` runs ``full_clean``), so the API cannot store a row the
admin or the import would have refused; its errors come back as 422.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.metrology.services import record_results
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization
from carbonmeter.web.registry.services import set_points


def plan_points(user: Any, org: Organization, ids: list[int]) -> list[MeasuringPoint]:
    """The measuring points ``ids`` of ``org``; 422 naming those that are not (unseen ones included)."""
    wanted = set(ids)
    found = list(scope_for(user, MeasuringPoint).filter(organization=org, pk__in=wanted))
    missing = sorted(wanted - {p.pk for p in found})
    if missing:
        raise ValidationError({"points": f"no measuring points {missing} in this organization"})
    return found


@transaction.atomic
def create_instrument(
    org: Organization, code: str, fields: dict[str, Any], points: list[MeasuringPoint]
) -> Instrument:
    """A new register entry of ``org`` serving ``points``."""
    inst = Instrument(organization=org, code=code, **fields)
    inst._change_reason = "经 API 创建"
    inst.save()
    set_points(inst, points, "经 API 创建")
    return inst


@transaction.atomic
def update_instrument(
    inst: Instrument, changes: dict[str, Any], points: list[MeasuringPoint] | None, reason: str
) -> Instrument:
    """Apply ``changes`` (and, if given, the new set of ``points``); the history records ``reason``.

    Values equal to the stored ones are not changes: a request that changes nothing writes no history row.
    """
    changed = {name: value for name, value in changes.items() if getattr(inst, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(inst, name, value)
        inst._change_reason = reason
        inst.save()
    if points is not None:
        set_points(inst, points, reason)
    return inst


@transaction.atomic
def record_calibration(user: Any, instrument: Instrument, fields: dict[str, Any]) -> Calibration:
    """A verification/calibration record: added, never rewritten (a correction is a new record).

    The same service as the web form (:func:`carbonmeter.web.metrology.services.record_results`): a pass
    without ``valid_until`` is valid for the instrument's interval (``interval_months``); without an interval
    it is refused (422 on ``valid_until``).
    """
    recorded = record_results(
        user,
        instrument.organization,
        [instrument.code],
        kind=fields["kind"],
        on=fields["date"],
        result=fields["result"],
        valid_until=fields.get("valid_until"),
        agency=fields.get("agency", ""),
        restricted_range=fields.get("restricted_range", ""),
        expanded_uncertainty_percent=fields.get("expanded_uncertainty_percent"),
        coverage_factor=fields.get("coverage_factor"),
        certificate_no=fields.get("certificate_no", ""),
        reason="经 API 记录",
    )
    return recorded.rows[0]
