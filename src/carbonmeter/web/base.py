"""What every registry model shares: validation on save, history, no hard delete, a tenancy rule.

* ``save()`` runs ``full_clean()``: the database never holds a row the forms would have refused.
* Every change is kept by django-simple-history with who, when, the old and new values, and a reason
  (``instance._change_reason``); services set the reason, the request middleware the user.
* Nothing is deleted: ``delete()`` refuses, ``archive()`` hides the row and records why.
* ``org_path`` names the lookup from the model to its :class:`Organization`, so one function
  (:func:`carbonmeter.web.accounts.scope.scope_for`) scopes every query; a test walks all models and fails
  on one that does not declare it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

#: django-simple-history keeps the reason in a 100-character column; a longer one would fail on PostgreSQL
#: (SQLite does not enforce the length), so forms and saves refuse it up front.
REASON_MAX_LENGTH = 100


class RecordDeletionError(Exception):
    """Raised on any attempt to delete a registry row: archive it instead."""


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_comment="when the row was created")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_comment="when the row last changed")
    archived = models.BooleanField(
        _("已归档"), default=False, db_comment="archived rows are hidden, never deleted"
    )
    history = HistoricalRecords(inherit=True)

    #: Why the next save happens; django-simple-history stores it with the change.
    _change_reason: str

    #: Lookup from this model to its organization ("" for the organization itself; None: superusers only).
    org_path: ClassVar[str | None]
    #: Roles of an organization that may change rows of this model (verifiers and regulators never may).
    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin", "metrology_officer"})

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        reason = getattr(self, "_change_reason", "") or ""
        if len(reason) > REASON_MAX_LENGTH:
            raise ValidationError({"reason": _("变更原因最多 %(n)d 个字符") % {"n": REASON_MAX_LENGTH}})
        update_fields = kwargs.get("update_fields")
        if update_fields:
            exclude = [f.name for f in self._meta.fields if f.name not in update_fields]
            self.full_clean(exclude=exclude)
        else:
            self.full_clean()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RecordDeletionError(f"{type(self).__name__} rows are never deleted; archive them with a reason")

    def archive(self, reason: str) -> None:
        """Hide the row, keeping it and its history; ``reason`` goes into the history."""
        self.archived = True
        self._change_reason = reason
        self.save()


class KeepsExtra(models.Model):
    """Rows that mirror a snapshot object keep its ``extra`` (contract §2), so an import loses nothing."""

    extra = models.JSONField(
        _("其他信息"), default=dict, blank=True, db_comment="the snapshot object's extra data, kept verbatim"
    )

    class Meta:
        abstract = True
