"""Fixtures for the web tests: two organizations (A is the demo cement plant, B a small other plant) and a
user per role, so every tenancy test can ask "can A's user reach B's rows?"."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.accounts.models import Membership, RegulatorScope, VerifierGrant
from carbonmeter.web.registry.models import Organization
from carbonmeter.web.registry.services import import_snapshot

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "examples" / "demo-cement-plant.json"
MINI = ROOT / "tests" / "data" / "mini.json"
PASSWORD = "test-password-123"


@pytest.fixture
def org_a(db: Any) -> Organization:
    org, _ = import_snapshot(parse_json(DEMO.read_bytes(), str(DEMO)), reason="test fixture")
    assert org is not None
    return org


@pytest.fixture
def org_b(db: Any) -> Organization:
    org, _ = import_snapshot(parse_json(MINI.read_bytes(), str(MINI)), reason="test fixture")
    assert org is not None
    org.region = "四川省"
    org._change_reason = "test fixture"
    org.save()
    return org


def make_user(username: str, **flags: Any) -> Any:
    return get_user_model().objects.create_user(username, password=PASSWORD, **flags)


@pytest.fixture
def users(org_a: Organization, org_b: Organization) -> dict[str, Any]:
    """One user per role of organization A, a member of B, and a superuser."""
    today = date.today()
    out = {name: make_user(name) for name in ("admin_a", "officer_a", "clerk_a", "verifier_a", "regulator_cq",
                                              "admin_b", "expired_verifier")}
    out["superuser"] = make_user("superuser", is_superuser=True, is_staff=True)
    Membership(user=out["admin_a"], organization=org_a, role="org_admin").save()
    Membership(user=out["officer_a"], organization=org_a, role="metrology_officer").save()
    Membership(user=out["clerk_a"], organization=org_a, role="data_clerk").save()
    Membership(user=out["admin_b"], organization=org_b, role="org_admin").save()
    VerifierGrant(user=out["verifier_a"], organization=org_a, valid_from=today - timedelta(days=1),
                  valid_until=today + timedelta(days=30)).save()
    VerifierGrant(user=out["expired_verifier"], organization=org_a, valid_from=today - timedelta(days=60),
                  valid_until=today - timedelta(days=1)).save()
    RegulatorScope(user=out["regulator_cq"], region=org_a.region).save()
    return out


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client
