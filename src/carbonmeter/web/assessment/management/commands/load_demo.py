"""``manage.py load_demo``: the demo cement plant and one user per role, ready to log in (development)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.snapshot_file import read_snapshot
from carbonmeter.web.accounts.models import Membership, RegulatorScope, VerifierGrant
from carbonmeter.web.readings.demo_loader import load_demo_readings, previous_month
from carbonmeter.web.registry.services import import_snapshot

#: The demo plant shipped in the repository's examples/ (the app runs from a checkout).
DEMO_FILE = Path(__file__).resolve().parents[6] / "examples" / "demo-cement-plant.json"
DEMO_PASSWORD = "carbonmeter-demo"
DEMO_USERS = (
    ("admin", "超级管理员", None),
    ("manager", "碳管理员（单位管理员）", "org_admin"),
    ("metrology", "计量管理员", "metrology_officer"),
    ("clerk", "数据员", "data_clerk"),
    ("verifier", "核查人员", "verifier"),
    ("regulator", "监管人员", "regulator"),
)


def shift_dates(plant: Snapshot, by: timedelta) -> Snapshot:
    """The plant moved in time so that its as_of is today.

    The demo then shows the same situation (what is due, what expired, what failed) whatever day it is
    started; the file itself, and the CLI demo, keep their dates.
    """

    def move(d: date | None) -> date | None:
        return d + by if d else None

    return msgspec.structs.replace(
        plant,
        as_of=plant.as_of + by,
        reporting_year=(plant.as_of + by).year - 1,
        calibrations=tuple(
            msgspec.structs.replace(c, date=c.date + by, valid_until=move(c.valid_until))
            for c in plant.calibrations
        ),
        personnel=tuple(
            msgspec.structs.replace(
                p,
                certificates=tuple(
                    msgspec.structs.replace(c, valid_until=move(c.valid_until)) for c in p.certificates
                ),
            )
            for p in plant.personnel
        ),
        documents=tuple(msgspec.structs.replace(d, approved=move(d.approved)) for d in plant.documents),
    )


class Command(BaseCommand):
    help = "Load the demo cement plant and one demo user per role (refuses to run with debug off)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, default=DEMO_FILE)

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("load_demo is for development: set CARBONMETER_DEBUG=1")
        today = timezone.localdate()
        original = read_snapshot(opts["file"])
        plant = shift_dates(original, today - original.as_of)
        org, report = import_snapshot(plant, reason="载入演示单位")
        assert org is not None
        users = get_user_model()
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
        month = previous_month(plant.as_of)
        runs = load_demo_readings(org, month, user=users.objects.get(username="clerk"))
        self.stdout.write(
            f"demo metering data for {month:%Y-%m}: "
            + ", ".join(f"{r.filename} {r.rows_accepted}/{r.rows_total}" for r in runs)
        )
        self.stdout.write(
            "demo users (password {}): {}".format(
                DEMO_PASSWORD, ", ".join(f"{u} = {t}" for u, t, _ in DEMO_USERS)
            )
        )
