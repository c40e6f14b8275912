"""The API's one way to reach rows: :func:`scope_for`, with 404 for the unseen and 403 for the unwritable.

A row the caller may not read is answered exactly like a row that does not exist (404), so ids cannot be
probed; only a row the caller can already see may be refused with 403 (a verifier reading but not writing).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from ninja.errors import HttpError

from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.registry.models import Organization

M = TypeVar("M", bound=Model)


def visible(user: Any, model: type[M], pk: int, queryset: QuerySet[M] | None = None) -> M:
    """The row ``pk`` of ``model`` if ``user`` may read it, else 404 (the same answer as for no such row)."""
    qs = queryset if queryset is not None else scope_for(user, model)
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404(f"{model._meta.model_name} {pk} not found")
    return row


def of_organization(user: Any, rows: QuerySet[M], organization: int | None) -> QuerySet[M]:
    """``rows`` narrowed to ``organization`` when one is named; 404 if the caller may not read that one."""
    if organization is None:
        return rows
    return rows.filter(organization=visible(user, Organization, organization))


def require_writable(user: Any, model: type[M], row: M) -> None:
    """403 unless ``user`` may change ``row`` (it is visible already, so refusing reveals nothing new)."""
    if not scope_for(user, model, write=True).filter(pk=row.pk).exists():
        raise HttpError(403, f"your role may not change this {model._meta.model_name}")


def require_may_add(user: Any, model: type[Model], org: Organization) -> None:
    """403 unless ``user`` may add ``model`` rows to ``org``, which it can already read.

    A new row has no queryset to scope yet, so this asks the same question :func:`scope_for` asks with
    ``write=True``: does the user hold one of the model's ``write_roles`` in that organization?
    """
    roles: frozenset[str] = getattr(model, "write_roles", frozenset())
    if not writable_orgs(user, roles).filter(pk=org.pk).exists():
        raise HttpError(403, f"your role may not add a {model._meta.model_name} to this organization")
