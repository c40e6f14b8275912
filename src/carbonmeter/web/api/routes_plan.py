"""``/streams`` and ``/points``: the boundary and the monitoring plan, read-only (they change by import)."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api.access import of_organization, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.params import READ_ERRORS, OrgFilter, StreamFilter
from carbonmeter.web.api.schemas import PointOut, StreamOut
from carbonmeter.web.registry.models import MeasuringPoint, SourceStream

router = Router(tags=["monitoring plan"])


@router.get("/streams", response={200: list[StreamOut], **READ_ERRORS})
def list_streams(request: HttpRequest, organization: OrgFilter = None) -> QuerySet[SourceStream]:
    """Source streams (3.8) with their annual emissions."""
    user = caller(request)
    streams = of_organization(user, scope_for(user, SourceStream), organization)
    return streams.select_related("facility").order_by("organization_id", "code", "id")


@router.get("/points", response={200: list[PointOut], **READ_ERRORS})
def list_points(
    request: HttpRequest, organization: OrgFilter = None, stream: StreamFilter = None
) -> QuerySet[MeasuringPoint]:
    """Measuring points: what is determined for each stream, and how."""
    user = caller(request)
    points = of_organization(user, scope_for(user, MeasuringPoint), organization)
    if stream is not None:
        points = points.filter(stream=visible(user, SourceStream, stream))
    return points.order_by("organization_id", "code", "id")
