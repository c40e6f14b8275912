"""Who may see and change what: memberships with a role, verifier grants with an expiry, regulator regions.

Roles (issue: organization admin, metrology officer, data clerk, verifier, regulator, superuser).  A verifier
reads one organization while the grant it gave runs; a regulator reads every organization of its regions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.base import BaseModel
from carbonmeter.web.registry.models import Organization

#: Membership roles; the labels are translated when shown (the stored value is the key).
ROLES = [
    ("org_admin", _("单位管理员")),
    ("metrology_officer", _("计量管理员")),
    ("data_clerk", _("数据员")),
]


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
    #: Only an organization admin grants roles (a metrology officer must not promote itself).
    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin"})

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
    write_roles: ClassVar[frozenset[str]] = frozenset({"org_admin"})

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


class ApiToken(BaseModel):
    """A key for the REST API that acts as its user: whatever the user may read or write, the token may.

    Only the sha256 of the key is stored, so a copy of the database (or of its history tables) gives no
    working key; the plain key is shown once, by ``manage.py create_api_token``.  A leaked key is revoked by
    archiving its row (with a reason, which the history keeps).
    """

    #: Every key starts with this, so a key pasted into the wrong place is easy to recognise (and to grep).
    PREFIX: ClassVar[str] = "cm_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("用户"),
        db_comment="the user the token acts as",
    )
    name = models.CharField(_("名称"), max_length=100, db_comment="what the token is for, e.g. a script")
    key_hash = models.CharField(
        _("密钥摘要"), max_length=64, unique=True, editable=False, db_comment="sha256 of the key (hex)"
    )
    last_used = models.DateTimeField(
        _("最近使用"), null=True, blank=True, editable=False, db_comment="last request (to the minute)"
    )
    expires = models.DateTimeField(
        _("过期时间"), null=True, blank=True, db_comment="refused from this moment on; null = never"
    )
    #: Tokens belong to users, not to an organization: the generic scoper shows them to superusers only.
    org_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        db_table_comment = "REST API keys (sha256 only), each acting as its user"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @staticmethod
    def digest(key: str) -> str:
        """The stored form of ``key``."""
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def issue(cls, user: Any, name: str, expires: datetime | None = None) -> tuple[ApiToken, str]:
        """A new token for ``user`` and its plain key, which is not kept anywhere: show it once."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, key_hash=cls.digest(key), expires=expires)
        token._change_reason = "签发 API 令牌"
        token.save()
        return token, key

    @classmethod
    def user_for(cls, key: str, now: datetime | None = None) -> Any | None:
        """The active user ``key`` acts as, or None (unknown, archived or expired token, inactive user)."""
        now = now or timezone.now()
        token = (
            cls.objects.select_related("user")
            .filter(key_hash=cls.digest(key), archived=False)
            .filter(models.Q(expires__isnull=True) | models.Q(expires__gt=now))
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        if token.last_used is None or now - token.last_used > timedelta(minutes=1):
            # A queryset update: no history row and no full save per request, at most one write a minute.
            cls.objects.filter(pk=token.pk).update(last_used=now)
        return token.user


class LoginThrottle(BaseModel):
    """Failed (and in-flight) logins of one username or one client address within a window.

    Counted in the database with ``UPDATE … SET count = count + 1`` (``carbonmeter.web.accounts.throttle``),
    so concurrent attempts are each counted on SQLite and PostgreSQL alike, and every worker process on every
    host sees the same counts. Increments are queryset updates: no history row per attempt."""

    key = models.CharField(
        _("键"), max_length=300, unique=True, db_comment="'user:<name>' or 'address:<ip>' being counted"
    )
    count = models.PositiveIntegerField(_("次数"), default=0, db_comment="attempts counted in the window")
    window_ends = models.DateTimeField(_("窗口结束"), db_comment="when the count starts again from zero")
    #: Login counters belong to nobody's organization: superusers only.
    org_path: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("登录限制计数")
        verbose_name_plural = _("登录限制计数")
        db_table_comment = "login attempts per username and per client address, counted atomically"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
