"""Load a synthetic plant into the configured database and print two session cookies (JSON) for wrk:
an organization admin's (the product's pages) and a superuser's (Django admin, the baseline)."""

from __future__ import annotations

import json
import os
import sys
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carbonmeter.web.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from carbonmeter.io.snapshot_json import parse_json  # noqa: E402
from carbonmeter.web.accounts.models import Membership  # noqa: E402
from carbonmeter.web.assessment.services.run import run_assessment  # noqa: E402
from carbonmeter.web.registry.services import import_snapshot  # noqa: E402


def session(user: object) -> str:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client.cookies["sessionid"].value


def main(plant: str) -> None:
    with open(plant, "rb") as f:
        org, report = import_snapshot(parse_json(f.read(), plant), reason="benchmark plant")
    assert org is not None
    users = get_user_model()
    manager = users.objects.create_user("bench-manager", password="bench-password-123")
    Membership(user=manager, organization=org, role="org_admin").save()
    root = users.objects.create_superuser("bench-root", password="bench-password-123")
    run_assessment(org, date(2026, 1, 15), manager)
    print(json.dumps({"manager": session(manager), "superuser": session(root), "rows": report.changes}))


if __name__ == "__main__":
    main(sys.argv[1])
