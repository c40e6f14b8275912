"""Admin for the metering data: point data profiles and counter events are edited here (with history and a
reason, like the registry); ingest runs, batches, their files and quarantined rows are shown read-only.

Batches and their files are links of the hash chain: only ``services.ingest`` writes them, and nothing may
change or delete them (``carbonmeter ledger verify`` would report the broken link), so their admin offers
neither add, change, delete nor the archive action — for superusers too.  Quarantined rows are fixed or
dismissed on the quarantine page, where the fix goes through the ingest; the admin only shows them and
their history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.admin_labels import labelled_column, labelled_filter
from carbonmeter.web.admin_scoping import ScopedAdmin, ScopedHistoryAdmin
from carbonmeter.web.readings.models import (
    ArchivedPartition,
    BatchFile,
    CounterEvent,
    IngestRun,
    PointProfile,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.templatetags.labels import quantity_label

if TYPE_CHECKING:
    _ModelForm = forms.ModelForm[Any]
    _Inline = admin.TabularInline[BatchFile, ReadingBatch]
else:  # the classes are generic for the type checker only
    _ModelForm = forms.ModelForm
    _Inline = admin.TabularInline


class _PointOwnedForm(_ModelForm):
    """The organization of a profile or an event is its point's: it is not chosen separately, so the two
    can never disagree (and a point of another plant cannot be paired with this plant's instrument)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        point, instrument = data.get("point"), data.get("instrument")
        if (
            point is not None
            and instrument is not None
            and instrument.organization_id != point.organization_id
        ):
            self.add_error("instrument", _("器具与计量点不属于同一单位"))
        return data


class _PointOwnedAdmin(ScopedHistoryAdmin):
    form = _PointOwnedForm

    def get_exclude(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        return [*super().get_exclude(request, obj), "organization"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: Any) -> None:
        obj.organization_id = obj.point.organization_id
        super().save_model(request, obj, form, change)


@admin.register(PointProfile)
class PointProfileAdmin(_PointOwnedAdmin):
    list_display = (
        "point",
        labelled_column("quantity", _("量"), quantity_label),
        "expected_interval",
        "min_value",
        "max_value",
        "counter_modulus",
        "substitution",
        "instrument",
        "organization",
    )
    list_filter = ("substitution", labelled_filter("quantity", _("量"), quantity_label), "organization")
    search_fields = ("point__code", "point__name", "quantity")
    list_select_related = ("point", "instrument", "organization")


@admin.register(CounterEvent)
class CounterEventAdmin(_PointOwnedAdmin):
    list_display = ("point", "ts", "kind", "old_end", "new_start", "reason", "organization")
    list_filter = ("kind", "organization")
    search_fields = ("point__code", "point__name", "reason")
    date_hierarchy = "ts"
    list_select_related = ("point", "organization")


class _ReadOnly:
    """Viewing only: no add, change, delete or archive, whoever asks (rows come from the ingest)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


@admin.register(IngestRun)
class IngestRunAdmin(_ReadOnly, ScopedHistoryAdmin):
    list_display = (
        "created_at",
        "source",
        "filename",
        "rows_total",
        "rows_accepted",
        "rows_duplicate",
        "rows_quarantined",
        "batch",
        "created_by",
        "organization",
    )
    list_filter = ("source", "organization")
    search_fields = ("filename",)
    date_hierarchy = "created_at"
    list_select_related = ("batch", "created_by", "organization")
    ordering = ("-created_at",)


@admin.register(QuarantinedRow)
class QuarantinedRowAdmin(_ReadOnly, ScopedHistoryAdmin):
    list_display = ("run", "row", "column", "code", "reason", "state", "resolved_by", "organization")
    list_filter = ("code", "state", "organization")
    search_fields = ("reason", "code")
    list_select_related = ("run", "resolved_by", "organization")


class _FileInline(_Inline):
    model = BatchFile
    fields = ("path", "sha256", "rows")
    readonly_fields = ("path", "sha256", "rows")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        return False


@admin.register(ReadingBatch)
class ReadingBatchAdmin(_ReadOnly, ScopedAdmin):
    list_display = (
        "seq",
        "source",
        "filename",
        "rows",
        "corrects",
        "created_by",
        "created_at",
        "organization",
    )
    list_filter = ("source", "organization")
    search_fields = ("filename", "content_hash", "chain_hash", "reason")
    list_select_related = ("corrects", "created_by", "organization")
    ordering = ("-seq",)
    inlines = [_FileInline]


@admin.register(BatchFile)
class BatchFileAdmin(_ReadOnly, ScopedAdmin):
    list_display = ("path", "batch", "rows", "sha256")
    list_filter = ("batch__organization",)
    search_fields = ("path", "sha256")
    list_select_related = ("batch",)


@admin.register(ArchivedPartition)
class ArchivedPartitionAdmin(_ReadOnly, ScopedHistoryAdmin):
    """Archiving and deleting after retention are ``carbonmeter ledger`` commands, which verify first."""

    list_display = ("organization", "year", "month", "archive_dir", "archived_by", "deleted_at", "deleted_by")
    list_filter = ("organization", "year")
    search_fields = ("archive_dir", "manifest_sha256", "reason")
    list_select_related = ("organization", "archived_by", "deleted_by")
