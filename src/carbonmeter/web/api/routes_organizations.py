"""``/organizations``: the organizations the caller may read, and no other."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api.access import visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.params import READ_ERRORS, ObjectId
from carbonmeter.web.api.schemas import OrganizationOut
from carbonmeter.web.registry.models import Organization

router = Router(tags=["organizations"])


@router.get("/organizations", response={200: list[OrganizationOut], **READ_ERRORS})
def list_organizations(request: HttpRequest) -> QuerySet[Organization]:
    """Organizations the caller belongs to, verifies under a running grant, or oversees as regulator."""
    return scope_for(caller(request), Organization).order_by("name", "id")


@router.get("/organizations/{id}", response={200: OrganizationOut, **READ_ERRORS})
def get_organization(request: HttpRequest, id: ObjectId) -> Organization:
    """One organization; 404 when the caller may not read it, exactly as if it did not exist."""
    return visible(caller(request), Organization, id)
