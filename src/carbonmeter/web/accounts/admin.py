"""Admin for who may see what: memberships, verifier grants, regulator regions, API tokens.

Only an organization admin manages the people of its organization (a metrology officer could otherwise
promote itself); regulator regions and API tokens belong to no organization, so only superusers see them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest

from carbonmeter.web.accounts.models import (
    ApiToken,
    LoginThrottle,
    Membership,
    RegulatorScope,
    VerifierGrant,
)
from carbonmeter.web.admin_scoping import ScopedHistoryAdmin

ORG_ADMIN_ONLY = frozenset({"org_admin"})


@admin.register(Membership)
class MembershipAdmin(ScopedHistoryAdmin):
    write_roles: ClassVar[frozenset[str] | None] = ORG_ADMIN_ONLY
    list_display = ("user", "organization", "role", "updated_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__first_name", "user__last_name", "organization__name")
    list_select_related = ("user", "organization")


@admin.register(VerifierGrant)
class VerifierGrantAdmin(ScopedHistoryAdmin):
    write_roles: ClassVar[frozenset[str] | None] = ORG_ADMIN_ONLY
    list_display = ("user", "organization", "valid_from", "valid_until")
    list_filter = ("organization", "valid_until")
    search_fields = ("user__username", "organization__name")
    date_hierarchy = "valid_until"
    list_select_related = ("user", "organization")


@admin.register(RegulatorScope)
class RegulatorScopeAdmin(ScopedHistoryAdmin):
    list_display = ("user", "region")
    list_filter = ("region",)
    search_fields = ("user__username", "region")


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedHistoryAdmin):
    """Tokens are issued by ``manage.py create_api_token`` (the key is shown once); here they are read and
    revoked with the action "归档".  The holder cannot be changed: that would hand the key to someone else."""

    list_display = ("name", "user", "expires", "last_used", "created_at")
    search_fields = ("name", "user__username")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "user", "last_used"] if obj is not None else fields


@admin.register(LoginThrottle)
class LoginThrottleAdmin(ScopedHistoryAdmin):
    """Login counters (``carbonmeter.web.accounts.throttle``), read-only: who is locked out until when. The
    counts change only through the throttle, so the admin cannot reopen an account under attack."""

    list_display = ("key", "count", "window_ends", "updated_at")
    search_fields = ("key",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "key", "count", "window_ends"]
