"""The organization a page works on: the one the user picked (kept in the session) among those it may read."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from carbonmeter.web.accounts.scope import readable_org_list, readable_orgs
from carbonmeter.web.registry.models import Organization

SESSION_KEY = "carbonmeter_org"


def current_org(request: HttpRequest) -> Organization:
    """The current organization; 404 when the user may read none (a regulator of an empty region)."""
    orgs = readable_org_list(request.user)
    chosen = request.session.get(SESSION_KEY)
    org = next((o for o in orgs if o.pk == chosen), None) if chosen else None
    org = org or (orgs[0] if orgs else None)
    if org is None:
        raise Http404("no organization visible to this user")
    return org


def choose_org(request: HttpRequest, pk: int) -> Organization:
    """Switch the current organization (only to one the user may read)."""
    org = readable_orgs(request.user).filter(pk=pk).first()
    if org is None:
        raise Http404("organization not visible to this user")
    request.session[SESSION_KEY] = org.pk
    return org
