"""``manage.py load_demo``: the demo cement plant and one user per role, ready to log in (development)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from carbonmeter.io.snapshot_file import read_snapshot
from carbonmeter.web.accounts.models import Membership, RegulatorScope, VerifierGrant
from carbonmeter.web.registry.services import import_snapshot

DEMO_PASSWORD = "carbonmeter-demo"
DEMO_USERS = (
    ("admin", "超级管理员", None),
    ("manager", "碳管理员（单位管理员）", "org_admin"),
    ("metrology", "计量管理员", "metrology_officer"),
    ("clerk", "数据员", "data_clerk"),
    ("verifier", "核查人员", "verifier"),
    ("regulator", "监管人员", "regulator"),
)


class Command(BaseCommand):
    help = "Load the demo cement plant and one demo user per role (refuses to run with debug off)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--file", type=Path, default=Path(settings.ROOT) / "examples" / "demo-cement-plant.json"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("load_demo is for development: set CARBONMETER_DEBUG=1")
        org, report = import_snapshot(read_snapshot(opts["file"]), reason="demo plant loaded")
        assert org is not None
        users = get_user_model()
        today = timezone.localdate()
        for username, title, role in DEMO_USERS:
            user = users.objects.filter(username=username).first()
            if user is None:
                user = users.objects.create_user(username, password=DEMO_PASSWORD, first_name=title)
            user.is_superuser = user.is_staff = role is None
            user.save()
            if role in ("org_admin", "metrology_officer", "data_clerk"):
                Membership.objects.get_or_create(user=user, organization=org, defaults={"role": role})
            elif (
                role == "verifier" and not VerifierGrant.objects.filter(user=user, organization=org).exists()
            ):
                VerifierGrant(
                    user=user, organization=org, valid_from=today, valid_until=today + timedelta(days=90)
                ).save()
            elif role == "regulator":
                RegulatorScope.objects.get_or_create(user=user, region=org.region or "重庆市")
        self.stdout.write(f"demo plant: {org.name} ({report.changes} rows created or updated)")
        self.stdout.write(
            "demo users (password {}): {}".format(
                DEMO_PASSWORD, ", ".join(f"{u} = {t}" for u, t, _ in DEMO_USERS)
            )
        )
