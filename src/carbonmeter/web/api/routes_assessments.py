"""``/assessments``: runs of the engine on an organization's rows, kept with the pack version they used."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import P, PathEx, Router, Status
from ninja.errors import HttpError

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api.access import of_organization, require_may_add, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.params import READ_ERRORS, WRITE_ERRORS, ObjectId, OrgFilter
from carbonmeter.web.api.schemas import (
    AdviceDoc,
    AssessmentDocument,
    AssessmentIn,
    AssessmentOut,
    BudgetOut,
    EmissionsOut,
)
from carbonmeter.web.assessment import emissions
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import AssessmentRefused, run_assessment
from carbonmeter.web.registry.models import Organization, SourceStream

router = Router(tags=["assessments"])


@router.get("/assessments", response={200: list[AssessmentOut], **READ_ERRORS})
def list_assessments(request: HttpRequest, organization: OrgFilter = None) -> QuerySet[AssessmentRun]:
    """Stored runs, newest first, without their documents (which can be large)."""
    user = caller(request)
    runs = of_organization(user, scope_for(user, AssessmentRun), organization)
    return runs.defer("document").order_by("-created_at", "-id")


@router.get("/assessments/{id}", response={200: AssessmentDocument, **READ_ERRORS}, by_alias=True)
def get_assessment(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """The run's ``carbonmeter.assessment/1`` document (contract §4), exactly as stored."""
    document: dict[str, Any] = visible(caller(request), AssessmentRun, id).document
    return document


@router.post("/assessments", response={201: AssessmentOut, **WRITE_ERRORS})
def create_assessment(request: HttpRequest, payload: AssessmentIn) -> Status[AssessmentRun]:
    """Assess the organization's current rows at ``as_of`` with its pack, and keep the result."""
    user = caller(request)
    org = visible(user, Organization, payload.organization)
    require_may_add(user, AssessmentRun, org)
    try:
        return Status(201, run_assessment(org, payload.as_of, user))
    except AssessmentRefused as exc:
        raise HttpError(422, str(exc)) from exc


StreamCode = PathEx[str, P(min_length=1, max_length=50, description="the stream's id (code) in the run")]


def _stream_out(run: AssessmentRun, stream: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    pack = emissions.run_pack(run)
    keep = (
        "id",
        "formula",
        "annual_emissions_t",
        "declared_emissions_t",
        "computed_emissions_t",
        "u_rel",
        "u95_t",
        "tier",
        "activity_u95_percent",
    )
    subjects = emissions.not_judged_subjects(stream)
    return {k: stream.get(k) for k in keep} | {
        "name": names.get(stream["id"], ""),
        "formula_title": emissions.formula_title(pack, stream["formula"], "zh"),
        "formula_title_en": emissions.formula_title(pack, stream["formula"], "en"),
        "not_judged": [
            n
            for n in run.document.get("not_judged", [])
            if n.get("subject") in subjects and n.get("what") in ("uncertainty", "emissions")
        ],
    }


def _names(user: Any, run: AssessmentRun) -> dict[str, str]:
    rows = scope_for(user, SourceStream).filter(organization=run.organization_id)
    return dict(rows.values_list("code", "name"))


@router.get("/assessments/{id}/emissions", response={200: EmissionsOut, **READ_ERRORS}, by_alias=True)
def get_emissions(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """The run's formula streams with their emissions and uncertainty (contract §6.3), and the total."""
    user = caller(request)
    run = visible(user, AssessmentRun, id)
    names = _names(user, run)
    return {
        "run": run.pk,
        "total_emissions_t": run.document.get("total_emissions_t", 0.0),
        "uncertainty": run.document.get("uncertainty"),
        "streams": [_stream_out(run, s, names) for s in emissions.formula_streams(run.document)],
    }


@router.get(
    "/assessments/{id}/emissions/{stream}/budget", response={200: BudgetOut, **READ_ERRORS}, by_alias=True
)
def get_budget(request: HttpRequest, id: ObjectId, stream: StreamCode) -> dict[str, Any]:
    """One formula stream's uncertainty budget: which input contributes what share of its variance."""
    user = caller(request)
    run = visible(user, AssessmentRun, id)
    found = emissions.stream_doc(run.document, stream)
    if found is None:
        raise Http404(f"no formula stream {stream} in assessment {id}")
    return {"run": run.pk, "stream": _stream_out(run, found, _names(user, run)), "budget": found["budget"]}


@router.get("/assessments/{id}/advisor", response={200: list[AdviceDoc], **READ_ERRORS}, by_alias=True)
def get_advisor(request: HttpRequest, id: ObjectId) -> list[dict[str, Any]]:
    """The advisor's actions, ranked by their input's share of the plant total's variance."""
    advisor: list[dict[str, Any]] = visible(caller(request), AssessmentRun, id).document.get("advisor", [])
    return advisor
