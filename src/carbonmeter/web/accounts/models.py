"""Who may see and change what: memberships with a role, verifier grants with an expiry, regulator regions.

Roles (issue: organization admin, metrology officer, data clerk, verifier, regulator, superuser).  A verifier
reads one organization while the grant it gave runs; a regulator reads every organization of its regions.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.base import BaseModel
from carbonmeter.web.registry.models import Organization

ROLES = [("org_admin", "单位管理员"), ("metrology_officer", "计量管理员"), ("data_clerk", "数据员")]


class Membership(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("用户"),
        db_comment="member",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name=_("单位"), db_comment="organization"
    )
    role = models.CharField(_("角色"), max_length=30, choices=ROLES, db_comment="role in the organization")
    org_path: ClassVar[str] = "organization"

    class Meta:
        verbose_name = _("成员")
        verbose_name_plural = _("成员")
        db_table_comment = "users of an organization with their role"
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_once")]


class VerifierGrant(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="verifier_grants",
        verbose_name=_("核查人员"),
        db_comment="verifier",
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        verbose_name=_("单位"),
        db_comment="organization granting access",
    )
    valid_from = models.DateField(_("起始日期"), db_comment="first day of access")
    valid_until = models.DateField(_("截止日期"), db_comment="last day of access, inclusive")
    org_path: ClassVar[str] = "organization"

    class Meta:
        verbose_name = _("核查授权")
        verbose_name_plural = _("核查授权")
        db_table_comment = "read-only access granted by an organization to a verifier, with an expiry"

    def clean(self) -> None:
        if self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("截止日期不能早于起始日期")})


class RegulatorScope(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="regulator_scopes",
        verbose_name=_("监管人员"),
        db_comment="regulator",
    )
    region = models.CharField(_("所属地区"), max_length=50, db_comment="region overseen (read-only)")
    #: Not organization data: only superusers see or change it.
    org_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("监管范围")
        verbose_name_plural = _("监管范围")
        db_table_comment = "regions a regulator reads"
