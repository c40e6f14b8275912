"""Verification/calibration records (检定/校准, 6.3.5–6.3.7) and the reminders they give rise to."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.base import BaseModel, KeepsExtra
from carbonmeter.web.registry.models import Instrument, InstrumentOwned, Organization, choices
from carbonmeter.web.uploads import UploadValidator


def positive(value: float) -> None:
    """U and k of a certificate are positive numbers (the snapshot refuses 0 and below)."""
    if not value > 0:
        raise ValidationError(_("须大于0"), code="positive")


class Calibration(KeepsExtra, InstrumentOwned):
    kind = models.CharField(_("方式"), max_length=20, choices=choices("calibration_kind"), db_comment="kind")
    date = models.DateField(_("日期"), db_comment="date of verification/calibration")
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, db_comment="validity, inclusive")
    result = models.CharField(_("结论"), max_length=10, choices=choices("result"), db_comment="pass or fail")
    certificate_no = models.CharField(_("证书编号"), max_length=100, blank=True, db_comment="certificate")
    agency = models.CharField(_("机构"), max_length=200, blank=True, db_comment="verifying agency")
    restricted_range = models.CharField(
        _("限用范围"),
        max_length=200,
        blank=True,
        help_text=_("仅在此范围内确认合格时填写，如“0–50 t/h”；标识显示为准用"),
        db_comment="the range the instrument is confirmed for, when restricted (e.g. 0-50 t/h); blank: none",
    )
    expanded_uncertainty_percent = models.FloatField(
        _("扩展不确定度U(%)"),
        null=True,
        blank=True,
        validators=[positive],
        help_text=_("证书给出的扩展不确定度，相对于测量值的百分数"),
        db_comment="expanded uncertainty U of the certificate, percent of the measured value",
    )
    coverage_factor = models.FloatField(
        _("包含因子k"),
        null=True,
        blank=True,
        validators=[positive],
        help_text=_("证书给出的包含因子，未填写按 k=2"),
        db_comment="coverage factor k of U (null: 2)",
    )
    certificate_file = models.FileField(
        _("证书文件"),
        upload_to="certificates/%Y/",
        blank=True,
        validators=[UploadValidator()],
        db_comment="scanned certificate",
    )

    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin", "metrology_officer", "data_clerk"})

    class Meta:
        verbose_name = _("检定校准记录")
        verbose_name_plural = _("检定校准记录")
        db_table_comment = "verification and calibration history"
        indexes = [models.Index(fields=["instrument", "date"]), models.Index(fields=["valid_until"])]

    def clean(self) -> None:
        if self.valid_until and self.valid_until < self.date:
            raise ValidationError({"valid_until": _("有效期不能早于检定/校准日期")})
        if self.result == "pass" and not self.valid_until:
            raise ValidationError({"valid_until": _("合格记录须填写有效期至")})


class Notification(BaseModel):
    """A reminder shown in the app (and sent by e-mail): verification due soon or overdue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("用户"), db_comment="recipient"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name=_("单位"), db_comment="organization"
    )
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("器具"),
        db_comment="subject",
    )
    kind = models.CharField(
        _("类别"),
        max_length=20,
        choices=[("due", _("即将到期")), ("overdue", _("已过期"))],
        db_comment="due or overdue",
    )
    due = models.DateField(_("到期日"), db_comment="valid_until of the record concerned")
    message = models.TextField(_("内容"), db_comment="message text")
    read = models.BooleanField(_("已读"), default=False, db_comment="read by the user")
    org_path: ClassVar[str] = "organization"

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        db_table_comment = "in-app reminders"
        constraints = [
            models.UniqueConstraint(fields=["user", "instrument", "kind", "due"], name="notification_once")
        ]
