"""Admin for the plant's facts, the instrument register (Table B.1) first.

Labels are the models' zh ``verbose_name``; every admin here scopes through :class:`ScopedHistoryAdmin`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.admin_labels import labelled_column, labelled_filter
from carbonmeter.web.admin_scoping import ScopedHistoryAdmin, is_active_superuser
from carbonmeter.web.registry.forms import MeasuringPointAdminForm, SourceStreamAdminForm, type_label
from carbonmeter.web.registry.models import (
    Attachment,
    Component,
    Facility,
    Instrument,
    ManagementDocument,
    MeasuringPoint,
    Organization,
    Person,
    PersonCertificate,
    SealEvent,
    SourceStream,
)
from carbonmeter.web.registry.templatetags.labels import document_kind_label
from carbonmeter.web.terms import parameter_label

_TYPE = _("类型")


@admin.register(Organization)
class OrganizationAdmin(ScopedHistoryAdmin):
    """Organizations are created by superusers; an organization admin edits its own details but not the
    facts others rely on: the credit code, the region (it decides which regulator reads the plant) and the
    key-emission-unit listing."""

    write_roles: ClassVar[frozenset[str] | None] = frozenset({"org_admin"})
    list_display = ("name", "credit_code", "industry", "region", "key_emission_unit", "reporting_year")
    list_filter = ("industry", "region", "key_emission_unit")
    search_fields = ("name", "credit_code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_active_superuser(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        if is_active_superuser(request):
            return fields
        return [*fields, "credit_code", "region", "key_emission_unit"]


@admin.register(Facility)
class FacilityAdmin(ScopedHistoryAdmin):
    list_display = ("code", "name", "level", "organization")
    list_filter = ("level", "organization")
    search_fields = ("code", "name")
    ordering = ("organization", "code")


@admin.register(SourceStream)
class SourceStreamAdmin(ScopedHistoryAdmin):
    form = SourceStreamAdminForm
    list_display = (
        "code",
        "name",
        "facility",
        "kind",
        "method",
        "emission_mode",
        "annual_emissions_t",
        "organization",
    )
    list_filter = ("kind", "method", "emission_mode", "organization")
    search_fields = ("code", "name")
    ordering = ("organization", "code")


@admin.register(MeasuringPoint)
class MeasuringPointAdmin(ScopedHistoryAdmin):
    form = MeasuringPointAdminForm
    list_display = (
        "code",
        "name",
        "stream",
        "role",
        labelled_column("parameter", _("参数"), parameter_label),
        "determination",
        "value",
        "unit",
        "trade_settlement",
    )
    list_filter = ("role", "determination", "trade_settlement", "organization")
    search_fields = ("code", "name", "parameter", "stream__code", "stream__name")
    list_select_related = ("stream",)
    ordering = ("organization", "code")


@admin.register(Instrument)
class InstrumentAdmin(ScopedHistoryAdmin):
    """The register as the metrology officer reads Table B.1: code, name, status, location, asset number."""

    list_display = (
        "code",
        "name",
        "status",
        "location",
        "asset_no",
        labelled_column("type", _TYPE, type_label),
        "accuracy_class",
        "organization",
    )
    list_display_links = ("code", "name")
    list_filter = (
        "status",
        labelled_filter("type", _TYPE, type_label),
        "ownership",
        "smart",
        "seal_intact",
        "organization",
    )
    search_fields = ("code", "name", "asset_no", "serial_no", "location", "model", "manufacturer")
    filter_horizontal = ("points",)
    ordering = ("organization", "code")


@admin.register(Component)
class ComponentAdmin(ScopedHistoryAdmin):
    list_display = ("instrument", labelled_column("type", _TYPE, type_label), "accuracy_class", "mpe_percent")
    list_filter = (labelled_filter("type", _TYPE, type_label),)
    search_fields = ("instrument__code", "instrument__name", "type")
    list_select_related = ("instrument",)


@admin.register(SealEvent)
class SealEventAdmin(ScopedHistoryAdmin):
    list_display = ("instrument", "date", "event", "seal_no")
    list_filter = ("event",)
    search_fields = ("instrument__code", "instrument__name", "seal_no")
    date_hierarchy = "date"
    list_select_related = ("instrument",)
    ordering = ("-date",)


@admin.register(Attachment)
class AttachmentAdmin(ScopedHistoryAdmin):
    list_display = ("title", "kind", "instrument", "organization", "created_at")
    list_filter = ("kind", "organization")
    search_fields = ("title", "instrument__code", "instrument__name")
    list_select_related = ("instrument", "organization")


@admin.register(Person)
class PersonAdmin(ScopedHistoryAdmin):
    list_display = ("name", "role", "responsible", "organization")
    list_filter = ("responsible", "organization")
    search_fields = ("name", "role")


@admin.register(PersonCertificate)
class PersonCertificateAdmin(ScopedHistoryAdmin):
    list_display = ("person", "name", "valid_until")
    search_fields = ("person__name", "name")
    date_hierarchy = "valid_until"
    list_select_related = ("person",)


@admin.register(ManagementDocument)
class ManagementDocumentAdmin(ScopedHistoryAdmin):
    list_display = (
        labelled_column("kind", _("类别"), document_kind_label),
        "title",
        "approved",
        "organization",
    )
    list_filter = (labelled_filter("kind", _("类别"), document_kind_label), "organization")
    search_fields = ("kind", "title")
