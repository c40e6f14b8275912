"""Fixtures for the web tests: two organizations (A is the demo cement plant, B a small other plant) and a
user per role, so every tenancy test can ask "can A's user reach B's rows?"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.accounts.models import Membership, RegulatorScope, VerifierGrant
from carbonmeter.web.registry.models import Organization
from carbonmeter.web.registry.services import import_snapshot

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "examples" / "demo-cement-plant.json"
MINI = ROOT / "tests" / "data" / "mini.json"
PASSWORD = "test-password-123"


def _import(path: Path) -> Organization:
    org, _ = import_snapshot(parse_json(path.read_bytes(), str(path)), reason="test fixture")
    assert org is not None
    return org


def make_user(username: str, **flags: Any) -> Any:
    return get_user_model().objects.create_user(username, password=PASSWORD, **flags)


def _people(org_a: Organization, org_b: Organization) -> dict[str, Any]:
    today = date.today()
    names = ("admin_a", "officer_a", "clerk_a", "verifier_a", "regulator_cq", "admin_b", "expired_verifier")
    out = {name: make_user(name) for name in names}
    out["superuser"] = make_user("superuser", is_superuser=True, is_staff=True)
    Membership(user=out["admin_a"], organization=org_a, role="org_admin").save()
    Membership(user=out["officer_a"], organization=org_a, role="metrology_officer").save()
    Membership(user=out["clerk_a"], organization=org_a, role="data_clerk").save()
    Membership(user=out["admin_b"], organization=org_b, role="org_admin").save()
    VerifierGrant(
        user=out["verifier_a"],
        organization=org_a,
        valid_from=today - timedelta(days=1),
        valid_until=today + timedelta(days=30),
    ).save()
    VerifierGrant(
        user=out["expired_verifier"],
        organization=org_a,
        valid_from=today - timedelta(days=60),
        valid_until=today - timedelta(days=1),
    ).save()
    RegulatorScope(user=out["regulator_cq"], region=org_a.region).save()
    return out


@dataclass(frozen=True)
class World:
    """Primary keys of the module's organizations and users; tests fetch fresh rows."""

    org_a: int
    org_b: int
    users: dict[str, int]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """Organization A (the demo cement plant), B (a small plant in another region) and a user per role,
    built once per module (importing the demo takes seconds) inside a transaction rolled back at the end.
    Each test runs in a savepoint within it (pytest-django's ``db``), so tests never see each other's writes.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        org_a, org_b = _import(DEMO), _import(MINI)
        org_b.region = "四川省"
        org_b._change_reason = "test fixture"
        org_b.save()
        people = _people(org_a, org_b)
        yield World(org_a.pk, org_b.pk, {name: u.pk for name, u in people.items()})
        transaction.set_rollback(True)


@pytest.fixture
def org_a(db: Any, world: World) -> Organization:
    return Organization.objects.get(pk=world.org_a)


@pytest.fixture
def org_b(db: Any, world: World) -> Organization:
    return Organization.objects.get(pk=world.org_b)


@pytest.fixture
def users(db: Any, world: World) -> dict[str, Any]:
    """One user per role of A, a member of B, an expired verifier, a superuser (fresh instances per test)."""
    by_pk = get_user_model().objects.in_bulk(world.users.values())
    return {name: by_pk[pk] for name, pk in world.users.items()}


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """``manage.py load_demo`` into the test database, with a temporary lake and media folder: the demo as
    a new user meets it, for the crawl of its pages and the check of its exports."""
    tmp = tmp_path_factory.mktemp("crawl")
    # Marked as a test case's outer block (as Django's TestCase.setUpClass marks its own), so the ingest's
    # durable transaction may run inside it; everything is rolled back at the end.
    outer = transaction.atomic()
    outer._from_testcase = True  # type: ignore[attr-defined]
    with (
        override_settings(CARBONMETER_LAKE=tmp / "lake", MEDIA_ROOT=tmp / "media"),
        django_db_blocker.unblock(),
        outer,
    ):
        with override_settings(DEBUG=True), Path("/dev/null").open("w") as quiet:
            call_command("load_demo", stdout=quiet)
        yield
        transaction.set_rollback(True)
