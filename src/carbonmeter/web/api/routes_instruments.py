"""``/instruments``: the register (Table B.1) — list, read, add, and change with a stated reason."""

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from carbonmeter.web.accounts.scope import readable_orgs, scope_for
from carbonmeter.web.api import services
from carbonmeter.web.api.access import of_organization, require_may_add, require_writable, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.pagination import LimitOffset
from carbonmeter.web.api.params import (
    READ_ERRORS,
    WRITE_ERRORS,
    ObjectId,
    OrgFilter,
    SearchFilter,
    StatusFilter,
)
from carbonmeter.web.api.schemas import InstrumentIn, InstrumentOut, InstrumentPatch
from carbonmeter.web.registry import validity
from carbonmeter.web.registry.models import Instrument, Organization

router = Router(tags=["instruments"])


def _register(request: HttpRequest) -> QuerySet[Instrument]:
    """The caller's instruments with their verification state (``validity.with_state``: the core's rule,
    each organization's due-soon horizon from its own rule pack)."""
    user = caller(request)
    orgs = readable_orgs(user)
    return validity.with_state(
        scope_for(user, Instrument), timezone.localdate(), validity.horizons(orgs)
    ).prefetch_related("points")


@router.get("/instruments", response={200: list[InstrumentOut], **READ_ERRORS})
@paginate(LimitOffset)
def list_instruments(
    request: HttpRequest,
    organization: OrgFilter = None,
    status: StatusFilter = None,
    q: SearchFilter = None,
) -> QuerySet[Instrument]:
    """The register, a page at a time, in a stable order (organization, code)."""
    rows = of_organization(caller(request), _register(request), organization)
    if status is not None:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(
            Q(code__icontains=q)
            | Q(name__icontains=q)
            | Q(model__icontains=q)
            | Q(serial_no__icontains=q)
            | Q(asset_no__icontains=q)
        )
    return rows.order_by("organization_id", "code", "id")


@router.get("/instruments/{id}", response={200: InstrumentOut, **READ_ERRORS})
def get_instrument(request: HttpRequest, id: ObjectId) -> Instrument:
    """One instrument with the ids of the points it serves."""
    return visible(caller(request), Instrument, id, _register(request))


@router.post("/instruments", response={201: InstrumentOut, **WRITE_ERRORS})
def create_instrument(request: HttpRequest, payload: InstrumentIn) -> Status[Instrument]:
    """Add an instrument to an organization where the caller is an admin or metrology officer."""
    user = caller(request)
    org = visible(user, Organization, payload.organization)
    require_may_add(user, Instrument, org)
    points = services.plan_points(user, org, payload.points)
    fields = payload.model_dump(exclude={"organization", "code", "points"})
    return Status(201, services.create_instrument(org, payload.code, fields, points))


@router.patch("/instruments/{id}", response={200: InstrumentOut, **WRITE_ERRORS})
def change_instrument(request: HttpRequest, id: ObjectId, payload: InstrumentPatch) -> Instrument:
    """Change the fields sent; ``reason`` is required and is kept in the instrument's history."""
    user = caller(request)
    inst = visible(user, Instrument, id)
    require_writable(user, Instrument, inst)
    points = (
        services.plan_points(user, inst.organization, payload.points)
        if "points" in payload.model_fields_set
        else None
    )
    return services.update_instrument(inst, payload.changes(), points, payload.reason)
