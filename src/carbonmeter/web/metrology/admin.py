"""Admin for verification/calibration records and the reminders the daily job writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from carbonmeter.web.admin_scoping import ScopedHistoryAdmin
from carbonmeter.web.metrology.models import Calibration, Notification


@admin.register(Calibration)
class CalibrationAdmin(ScopedHistoryAdmin):
    list_display = (
        "instrument",
        "kind",
        "date",
        "valid_until",
        "result",
        "restricted_range",
        "certificate_no",
        "agency",
    )
    list_filter = ("kind", "result", "instrument__organization")
    search_fields = ("instrument__code", "instrument__name", "certificate_no", "agency")
    date_hierarchy = "date"
    list_select_related = ("instrument",)
    ordering = ("-date",)


@admin.register(Notification)
class NotificationAdmin(ScopedHistoryAdmin):
    """Reminders come from ``send_reminders`` only; here they are read, marked read or archived."""

    list_display = ("due", "kind", "instrument", "user", "organization", "read")
    list_filter = ("kind", "read", "organization")
    search_fields = ("instrument__code", "instrument__name", "user__username", "message")
    date_hierarchy = "due"
    list_select_related = ("instrument", "user", "organization")
    ordering = ("-due",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "user", "organization", "instrument", "kind", "due", "message"]
