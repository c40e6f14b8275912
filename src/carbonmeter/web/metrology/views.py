"""Pages of the metrology officer: the verification/calibration plan, bulk entry of results, the monitoring
plan.

Each view parses the request, authorises through the scope (``current_org`` only offers readable
organizations; writes check the write scope), makes one service call and renders.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.assessment.services.run import AssessmentRefused, run_assessment
from carbonmeter.web.metrology import services
from carbonmeter.web.metrology.forms import PlanFilterForm, RecordForm
from carbonmeter.web.registry.models import Instrument


@login_required
@require_GET
def calibration_plan(request: HttpRequest) -> HttpResponse:
    """What falls due, grouped by urgency; write roles tick instruments here and go on to record results."""
    org = current_org(request)
    form = PlanFilterForm(request.GET or None)
    month = form.cleaned_data["month"] if form.is_bound and form.is_valid() else None
    plan = services.calibration_plan(request.user, org, timezone.localdate(), month)
    return render(
        request,
        "metrology/plan.html",
        {"org": org, "form": form, "plan": plan, "may_record": services.may_record(request.user, org)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def calibration_record(request: HttpRequest) -> HttpResponse:
    """Record one result for several instruments at once (one Calibration each, all in one transaction)."""
    org = current_org(request)
    if not services.may_record(request.user, org):
        raise PermissionDenied(_("无权录入该单位的检定/校准记录"))
    instruments = list(scope_for(request.user, Instrument).filter(organization=org).order_by("code"))
    if request.method == "POST":
        selected = request.POST.getlist("shown") or request.POST.getlist("instruments")
        form = RecordForm(request.POST, request.FILES, instruments=instruments, selected=selected)
        if form.is_valid():
            data = form.cleaned_data
            try:
                recorded = services.record_results(
                    request.user,
                    org,
                    data["instruments"],
                    kind=data["kind"],
                    on=data["date"],
                    result=data["result"],
                    valid_until=data["valid_until"],
                    agency=data["agency"],
                    restricted_range=data["restricted_range"],
                    expanded_uncertainty_percent=data["expanded_uncertainty_percent"],
                    coverage_factor=data["coverage_factor"],
                    certificate_no=data["certificate_no"],
                    certificate_file=data["certificate_file"],
                    certificates=form.certificates(),
                    reason=data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                lines = recorded.summary()
                messages.success(
                    request,
                    _("已录入 %(n)d 条检定/校准记录：%(rows)s") % {"n": len(lines), "rows": "；".join(lines)},
                )
                # The dashboard shows the latest assessment: re-assess now so the equipping rate the user
                # just changed is the one they see next (an explicit run stays available on /assessments/).
                try:
                    run_assessment(org, timezone.localdate(), request.user)
                except AssessmentRefused as exc:
                    messages.error(request, str(exc))
                else:
                    messages.info(request, _("已重新评价，仪表盘的配备率已更新。"))
                return redirect("calibration_plan")
    else:
        form = RecordForm(instruments=instruments, selected=request.GET.getlist("instrument"))
    return render(request, "metrology/record.html", {"org": org, "form": form, "instruments": instruments})


@login_required
@require_GET
def streams(request: HttpRequest) -> HttpResponse:
    """Source streams, their measuring points and the instruments on each point, with the newest verdict."""
    org = current_org(request)
    plan = services.monitoring_plan(request.user, org)
    return render(request, "metrology/streams.html", {"org": org, "plan": plan})
