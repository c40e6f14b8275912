"""Assessment runs: every verdict the web app computed, with the pack version and date it used."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.base import BaseModel
from carbonmeter.web.registry.models import Organization


class AssessmentRun(BaseModel):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("单位"),
        db_comment="organization assessed",
    )
    as_of = models.DateField(_("评价日期"), db_comment="date validity was judged at")
    pack_id = models.CharField(_("规则包"), max_length=100, db_comment="rule pack id")
    pack_version = models.CharField(_("规则包版本"), max_length=100, db_comment="rule pack version")
    pack_sha256 = models.CharField(_("规则包摘要"), max_length=64, db_comment="sha256 of the pack file")
    document = models.JSONField(_("评价结果"), db_comment="the carbonmeter.assessment/1 document")
    summary = models.JSONField(
        _("评价摘要"),
        default=dict,
        blank=True,
        editable=False,
        db_comment="Table A.1 rows and finding counts per clause, taken from the document when saved",
    )
    conforms = models.BooleanField(_("符合"), db_comment="no nonconformity found")
    nonconformities = models.PositiveIntegerField(_("不符合项"), db_comment="count of nonconformities")
    observations = models.PositiveIntegerField(_("观察项"), db_comment="count of observations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("评价人"),
        db_comment="who ran it",
    )
    org_path: ClassVar[str] = "organization"
    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin", "metrology_officer", "data_clerk"})

    class Meta:
        verbose_name = _("评价记录")
        verbose_name_plural = _("评价记录")
        db_table_comment = "assessments run on the database, kept with their pack version"
        ordering = ["-created_at"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the summary the dashboard reads beside the document, so no page parses the document
        (megabytes for a large plant) to show nine rates and a count per clause."""
        if not self.summary and self.document:
            self.summary = document_summary(self.document)
        super().save(*args, **kwargs)


def document_summary(document: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard shows of an assessment document: each Table A.1 row's counts and rates, and the
    nonconformities and observations per clause (in the document's order; the page sorts them)."""
    keep = ("row", "required", "equipped", "rate", "required_rate", "pass")
    clauses: dict[str, list[int]] = {}
    for f in document.get("findings", []):
        counts = clauses.setdefault(f["clause"], [0, 0])
        counts[0 if f["severity"] == "nonconformity" else 1] += 1
    return {
        "equipping": [{k: r[k] for k in keep} for r in document.get("equipping", [])],
        "clauses": [{"clause": c, "nonconformities": n, "observations": o} for c, (n, o) in clauses.items()],
    }
