"""The Django admin, held to the same tenancy as every page: :class:`ScopedAdmin`.

Django's admin trusts model permissions, which know nothing of organizations, so a stock ``ModelAdmin`` would
show a staff member of plant B every plant's instruments.  Here the roles of :mod:`accounts.scope` are the
permission system, for the admin too:

* rows come from :func:`scope_for` (what the user may read); changing, adding and archiving need the write
  scope (``scope_for(..., write=True)``) — so verifiers and regulators see the admin read-only;
* nothing is deleted (registry rows are evidence): delete is never permitted, the action "归档" archives
  instead and records who did it;
* every form asks "变更原因", which goes into the history next to who, when, old and new;
* the choices of foreign keys and many-to-many fields are limited to the organizations the user may write,
  and relation filters in the changelist only offer values of visible rows, so no widget lists another
  tenant's rows or names;
* the history pages of django-simple-history are checked per object, and its "revert" (a POST to the
  history form) needs the change permission — upstream only checks the view permission there.

Staff status stays Django's: an organization user reaches the admin only when ``is_staff`` is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, flatten_fieldsets, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.registry.models import Organization

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
    _FieldsetSpec = Any
else:
    _ModelAdmin = admin.ModelAdmin

#: The extra form field every add/change form carries; its value becomes the history's change reason.
REASON_FIELD = "change_reason"
#: Audit columns shown (read-only) on change pages.
AUDIT_FIELDS = ("created_at", "updated_at")


def _org_lookup(path: str) -> str:
    """The ``__in`` lookup from a model to its organization, from the model's ``org_path``."""
    return "pk__in" if path == "" else f"{path}__in"


def is_active_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def _reason_max_length(model: type[models.Model]) -> int | None:
    """The length the history table keeps (simple-history's default column is ``CharField(100)``)."""
    history = getattr(model, "history", None)
    if history is None:
        return None
    try:
        field = history.model._meta.get_field("history_change_reason")
    except FieldDoesNotExist:
        return None
    length = getattr(field, "max_length", None)
    return int(length) if length else None


def archive_reason(request: HttpRequest, model: type[models.Model]) -> str:
    """The reason recorded by the admin action "归档" (cut to what the history column holds)."""
    reason = f"由 {request.user.get_username()} 在管理后台归档"
    length = _reason_max_length(model)
    return reason[:length] if length else reason


class ScopedAdmin(_ModelAdmin):
    """A ``ModelAdmin`` whose reads, writes and choices all go through the tenancy scope.

    Use it before ``SimpleHistoryAdmin`` (see :class:`ScopedHistoryAdmin`).  ``write_roles`` may narrow the
    model's write roles for the admin (e.g. only an organization admin manages memberships); it can never
    widen them, because the write queryset always starts from ``scope_for(..., write=True)``.
    """

    #: Narrower write roles for this admin than the model's (None: the model's own ``write_roles``).
    write_roles: ClassVar[frozenset[str] | None] = None
    actions = ["archive_selected"]

    # -- scope ------------------------------------------------------------------------------------------

    def _roles(self) -> frozenset[str]:
        roles: frozenset[str] = getattr(self.model, "write_roles", frozenset())
        return roles & self.write_roles if self.write_roles is not None else roles

    def _org_path(self) -> str | None:
        path: str | None = getattr(self.model, "org_path", None)
        return path

    def writable_orgs(self, request: HttpRequest) -> QuerySet[Organization]:
        """Organizations whose rows of this model the user may change through this admin."""
        if self._org_path() is None and not is_active_superuser(request):
            return Organization.objects.none()
        return writable_orgs(request.user, self._roles())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = scope_for(request.user, self.model)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def write_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """The rows the user may change: the model's write scope, narrowed to this admin's roles."""
        qs = scope_for(request.user, self.model, write=True)
        path = self._org_path()
        if is_active_superuser(request) or self.write_roles is None:
            return qs
        if path is None:
            return qs.none()
        return qs.filter(**{_org_lookup(path): self.writable_orgs(request).values("pk")})

    # -- permissions ------------------------------------------------------------------------------------

    def has_view_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        if obj is not None:
            return scope_for(request.user, self.model).filter(pk=obj.pk).exists()
        if is_active_superuser(request):
            return True
        return self._org_path() is not None and scope_for(request.user, Organization).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        if obj is not None:
            return self.write_queryset(request).filter(pk=obj.pk).exists()
        return self.writable_orgs(request).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.writable_orgs(request).exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any | None = None) -> bool:
        """Never: registry rows are evidence; the action "归档" hides a row and keeps it."""
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Shown on the admin index when the user may read some rows (model permissions are not used)."""
        return self.has_view_permission(request)

    def _may_save(self, request: HttpRequest, obj: Any | None) -> bool:
        return self.has_add_permission(request) if obj is None else self.has_change_permission(request, obj)

    # -- forms ------------------------------------------------------------------------------------------

    def get_exclude(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        """``archived`` is never edited in a form: the action archives, with a reason."""
        return ["archived", *(super().get_exclude(request, obj) or ())]

    def get_readonly_fields(self, request: HttpRequest, obj: Any | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [f for f in AUDIT_FIELDS if f not in fields and hasattr(self.model, f)]
        return fields

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        """The model form plus a required "变更原因" whenever the user may save it."""
        if self._may_save(request, obj) and "form" not in kwargs:
            reason = forms.CharField(
                label=_("变更原因"),
                max_length=_reason_max_length(self.model),
                help_text=_("必填，将与修改人、时间及新旧值一并记入变更历史。"),
            )
            kwargs["form"] = type(f"{self.form.__name__}WithReason", (self.form,), {REASON_FIELD: reason})
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any | None = None) -> _FieldsetSpec:
        fieldsets = list(super().get_fieldsets(request, obj))
        if self._may_save(request, obj) and REASON_FIELD not in flatten_fieldsets(fieldsets):
            fieldsets.append((_("变更原因"), {"fields": [REASON_FIELD]}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: Any) -> None:
        """Save with the form's reason; refuse (and roll back) a save that leaves the write scope.

        The checks repeat the view's own because django-simple-history's revert view calls this method
        after checking only the view permission.
        """
        if not self._may_save(request, obj if change else None):
            raise PermissionDenied
        reason = form.cleaned_data.get(REASON_FIELD) if REASON_FIELD in form.fields else None
        if not reason:
            raise PermissionDenied(gettext("须填写变更原因"))
        obj._change_reason = reason
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not self.write_queryset(request).filter(pk=obj.pk).exists():
                raise PermissionDenied(gettext("保存后该记录将不属于您可修改的单位"))

    def choices_for(self, request: HttpRequest, related: type[models.Model]) -> QuerySet[Any] | None:
        """The rows a relation may point to: those of the organizations the user may write here.

        None for a superuser (no limit).  Users are offered only when linked to those organizations (a
        membership or a verifier grant), so the admin never lists another tenant's people; a model that
        declares no ``org_path`` offers nothing to non-superusers.
        """
        if is_active_superuser(request):
            return None
        orgs = self.writable_orgs(request).values("pk")
        if related is get_user_model():
            return (
                related._default_manager.filter(
                    Q(memberships__organization__in=orgs, memberships__archived=False)
                    | Q(verifier_grants__organization__in=orgs, verifier_grants__archived=False)
                )
                .distinct()
                .order_by("username")
            )
        if not hasattr(related, "org_path"):
            return related._default_manager.none()
        path: str | None = getattr(related, "org_path", None)
        if path is None:
            return related._default_manager.none()
        return scope_for(request.user, related).filter(**{_org_lookup(path): orgs})

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if "queryset" not in kwargs:
            qs = self.choices_for(request, db_field.remote_field.model)
            if qs is not None:
                kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        if "queryset" not in kwargs:
            qs = self.choices_for(request, db_field.remote_field.model)
            if qs is not None:
                kwargs["queryset"] = qs
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # -- changelist -------------------------------------------------------------------------------------

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """Relation filters list only values present in visible rows (a plain one lists every tenant's)."""
        out: list[Any] = []
        for spec in super().get_list_filter(request):
            if isinstance(spec, str):
                try:
                    last = get_fields_from_path(self.model, spec)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    last = None
                if last is not None and last.is_relation:
                    out.append((spec, admin.RelatedOnlyFieldListFilter))
                    continue
            out.append(spec)
        return out

    @admin.action(description=_("归档"), permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Archive the selected rows the user may change, at once; history records who did it."""
        selected = queryset.count()
        reason = archive_reason(request, self.model)
        done = failed = 0
        with transaction.atomic():
            for row in self.write_queryset(request).filter(pk__in=queryset.values("pk")):
                try:
                    with transaction.atomic():
                        row.archive(reason)
                except ValidationError:
                    failed += 1
                else:
                    done += 1
        self.message_user(request, gettext("已归档 %(n)d 条记录。") % {"n": done}, messages.SUCCESS)
        if selected - done - failed:
            self.message_user(
                request,
                gettext("%(n)d 条记录无权修改，未归档。") % {"n": selected - done - failed},
                messages.WARNING,
            )
        if failed:
            self.message_user(
                request, gettext("%(n)d 条记录未通过校验，未归档。") % {"n": failed}, messages.ERROR
            )


class ScopedHistoryAdmin(ScopedAdmin, SimpleHistoryAdmin):  # type: ignore[misc]
    """What every model of the four registry apps is registered with: scoping + simple-history pages."""
