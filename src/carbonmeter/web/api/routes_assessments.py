"""``/assessments``: runs of the engine on an organization's rows, kept with the pack version they used."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api.access import of_organization, require_may_add, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.params import READ_ERRORS, WRITE_ERRORS, ObjectId, OrgFilter
from carbonmeter.web.api.schemas import AssessmentDocument, AssessmentIn, AssessmentOut
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.registry.models import Organization

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
    return Status(201, run_assessment(org, payload.as_of, user))
