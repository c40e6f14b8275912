from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "carbonmeter.web.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from carbonmeter.web.accounts.models import Membership, RegulatorScope, VerifierGrant
        from carbonmeter.web.accounts.scope import forget_readable
        from carbonmeter.web.registry.models import Organization

        # A request keeps each user's readable organizations (scope.readable_orgs): a write of a row that
        # decides them makes the rest of the request read them again.
        for model in (Membership, VerifierGrant, RegulatorScope, Organization):
            uid = f"cm-readable-{model.__name__}"
            post_save.connect(forget_readable, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(forget_readable, sender=model, dispatch_uid=f"{uid}-delete")
