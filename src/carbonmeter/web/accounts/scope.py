"""Tenancy: the one place that decides which rows a user may read or change.

Every page, admin view and API endpoint gets its querysets from :func:`scope_for`, so a user of organization
A never reaches organization B's rows — the tests walk every model to prove it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from carbonmeter.web.registry.models import Organization

M = TypeVar("M", bound=Model)
User = AbstractBaseUser | AnonymousUser


def _today() -> date:
    return timezone.localdate()


#: Within one request, the readable organizations of each (user, day), ordered by name: a page asks for
#: them several times (the current organization, then the scope of each queryset), and the joins they take
#: cost more to build and to plan than the rows they return.  Set only while a request is served
#: (:class:`ReadableOrgsPerRequest`); any write of a row that decides them (a membership, a grant, a
#: regulator's scope, an organization) empties it, so a view that changes them reads them again.
_READABLE: ContextVar[dict[tuple[int, date], list[Organization]] | None] = ContextVar(
    "cm_readable", default=None
)


@contextmanager
def readable_orgs_kept() -> Iterator[None]:
    """Keep each user's readable organizations for the duration of the block (one request)."""
    token = _READABLE.set({})
    try:
        yield
    finally:
        _READABLE.reset(token)


class ReadableOrgsPerRequest:
    """Middleware: each request works out a user's readable organizations once (:func:`readable_orgs`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with readable_orgs_kept():
            return self.get_response(request)


def forget_readable(**_: Any) -> None:
    """Empty the request's kept readable organizations (connected to the writes of the rows that decide
    them in :meth:`carbonmeter.web.accounts.apps.AccountsConfig.ready`)."""
    kept = _READABLE.get()
    if kept:
        kept.clear()


def readable_orgs(user: Any, today: date | None = None) -> QuerySet[Organization]:
    """Organizations ``user`` may read: members, verifiers with a running grant, regulators of the region."""
    orgs = Organization.objects.filter(archived=False)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return orgs.none()
    if user.is_superuser:
        return orgs
    day = today or _today()
    kept = _READABLE.get()
    if kept is None or user.pk is None:
        return _readable(user, orgs, day)
    return orgs.filter(pk__in=[o.pk for o in _kept(kept, user, orgs, day)])


def readable_org_list(user: Any) -> list[Organization]:
    """:func:`readable_orgs` today as a list ordered by name (read once per request)."""
    kept = _READABLE.get()
    active = getattr(user, "is_authenticated", False) and user.is_active
    if kept is None or not active or user.is_superuser or user.pk is None:
        return list(readable_orgs(user).order_by("name", "pk"))
    return _kept(kept, user, Organization.objects.filter(archived=False), _today())


def _kept(
    kept: dict[tuple[int, date], list[Organization]], user: Any, orgs: QuerySet[Organization], day: date
) -> list[Organization]:
    found = kept.get((user.pk, day))
    if found is None:
        found = kept[(user.pk, day)] = list(_readable(user, orgs, day).order_by("name", "pk"))
    return found


def _readable(user: Any, orgs: QuerySet[Organization], day: date) -> QuerySet[Organization]:
    # One statement of three subqueries (no join, so no DISTINCT): cheaper to build and to plan than the
    # joins of the three relations, and the same rows.
    grants = user.verifier_grants.filter(archived=False, valid_from__lte=day, valid_until__gte=day)
    return orgs.filter(
        Q(pk__in=user.memberships.filter(archived=False).values("organization_id"))
        | Q(pk__in=grants.values("organization_id"))
        | Q(region__in=user.regulator_scopes.filter(archived=False).values("region"))
    )


def writable_orgs(user: Any, roles: frozenset[str]) -> QuerySet[Organization]:
    """Organizations where ``user`` holds one of ``roles`` (verifiers and regulators hold none)."""
    orgs = Organization.objects.filter(archived=False)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return orgs.none()
    if user.is_superuser:
        return orgs
    return orgs.filter(
        membership__user=user, membership__archived=False, membership__role__in=roles
    ).distinct()


def scope_for(user: Any, model: type[M], *, write: bool = False) -> QuerySet[M]:
    """The rows of ``model`` that ``user`` may read (or, with ``write``, change)."""
    path: str | None = getattr(model, "org_path", None)
    qs: QuerySet[M] = model._default_manager.all()
    if hasattr(model, "archived"):
        qs = qs.filter(archived=False)
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    if path is None:
        return qs.none()
    orgs = writable_orgs(user, model.write_roles) if write else readable_orgs(user)  # type: ignore[attr-defined]
    if path == "":
        return qs.filter(pk__in=orgs.values("pk"))
    return qs.filter(**{f"{path}__in": orgs.values("pk")})


def role_in(user: Any, org: Organization) -> str | None:
    """The user's role in ``org``: a membership role, ``verifier``, ``regulator``, ``superuser`` or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return "superuser"
    membership = user.memberships.filter(organization=org, archived=False).first()
    if membership:
        return str(membership.role)
    if readable_orgs(user).filter(pk=org.pk).exists():
        day = _today()
        grants = user.verifier_grants.filter(organization=org, valid_from__lte=day, valid_until__gte=day)
        return "verifier" if grants.exists() else "regulator"
    return None
