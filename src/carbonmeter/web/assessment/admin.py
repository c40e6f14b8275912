"""Admin for assessment runs: a run is a record of what the engine said on a date with a pack version, so
it is read (and archived) here, never written — runs are made by the assessment service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from carbonmeter.web.admin_scoping import ScopedHistoryAdmin
from carbonmeter.web.assessment.models import AssessmentRun


@admin.register(AssessmentRun)
class AssessmentRunAdmin(ScopedHistoryAdmin):
    list_display = (
        "organization",
        "as_of",
        "pack_id",
        "pack_version",
        "conforms",
        "nonconformities",
        "observations",
        "created_by",
        "created_at",
    )
    list_filter = ("conforms", "pack_id", "organization")
    search_fields = ("organization__name", "pack_id", "pack_version")
    date_hierarchy = "as_of"
    list_select_related = ("organization", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        own = [f.name for f in AssessmentRun._meta.fields if f.editable and f.name not in ("id", "archived")]
        return [*fields, *(f for f in own if f not in fields)]
