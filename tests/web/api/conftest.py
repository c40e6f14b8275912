"""API test fixtures: the two plants loaded once for the package, a token per user, a JSON client.

``org_a``, ``org_b`` and ``users`` mean what they mean in ``tests/web/conftest.py`` (A is the demo cement
plant, B a small plant in another region, one user per role), but the rows are created once for this package
instead of once per test: importing the demo plant takes seconds, and the API tests are many small requests
against it.  Each test still runs in pytest-django's ``db`` transaction, which is rolled back, so every test
starts from the same plant; the package's rows are flushed at the end, as ``transactional_db`` would.  (A
``transactional_db`` test in this package would flush the plant too: keep such tests elsewhere.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.accounts.models import ApiToken, Membership, RegulatorScope, VerifierGrant
from carbonmeter.web.registry.models import Organization
from carbonmeter.web.registry.services import import_snapshot
from tests.web.conftest import DEMO, MINI, make_user


class ApiClient:
    """Django's test client speaking JSON with one user's Bearer token."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = Client()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            path, json.dumps(body), content_type="application/json", headers=self.headers()
        )

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self.headers()
        )


def key_for(user: Any, name: str = "test") -> str:
    """A fresh token's plain key for ``user``."""
    _, key = ApiToken.issue(user, name)
    return key


@dataclass(frozen=True)
class Plant:
    """Primary keys of the package's rows; each test fetches fresh instances."""

    org_a: int
    org_b: int
    users: dict[str, int]


def _import(path: Path) -> Organization:
    org, _ = import_snapshot(parse_json(path.read_bytes(), str(path)), reason="test fixture")
    assert org is not None
    return org


def _people(org_a: Organization, org_b: Organization) -> dict[str, Any]:
    """One user per role of A, a member of B, a superuser: as ``tests/web/conftest.py`` ``users``."""
    today = date.today()
    names = ("admin_a", "officer_a", "clerk_a", "verifier_a", "regulator_cq", "admin_b", "expired_verifier")
    out = {name: make_user(name) for name in names}
    out["superuser"] = make_user("superuser", is_superuser=True, is_staff=True)
    for user, org, role in (
        ("admin_a", org_a, "org_admin"),
        ("officer_a", org_a, "metrology_officer"),
        ("clerk_a", org_a, "data_clerk"),
        ("admin_b", org_b, "org_admin"),
    ):
        Membership(user=out[user], organization=org, role=role).save()
    for user, start, end in (("verifier_a", -1, 30), ("expired_verifier", -60, -1)):
        VerifierGrant(
            user=out[user],
            organization=org_a,
            valid_from=today + timedelta(days=start),
            valid_until=today + timedelta(days=end),
        ).save()
    RegulatorScope(user=out["regulator_cq"], region=org_a.region).save()
    return out


@pytest.fixture(scope="package")
def plant(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Plant]:
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        assert "memory" in name or Path(name).name.startswith("test"), f"not a test database: {name}"
        org_a, org_b = _import(DEMO), _import(MINI)
        org_b.region = "四川省"
        org_b._change_reason = "test fixture"
        org_b.save()
        people = _people(org_a, org_b)
    yield Plant(org_a=org_a.pk, org_b=org_b.pk, users={k: u.pk for k, u in people.items()})
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def org_a(plant: Plant, db: Any) -> Organization:
    return Organization.objects.get(pk=plant.org_a)


@pytest.fixture
def org_b(plant: Plant, db: Any) -> Organization:
    return Organization.objects.get(pk=plant.org_b)


@pytest.fixture
def users(plant: Plant, db: Any) -> dict[str, Any]:
    by_pk = get_user_model().objects.in_bulk(plant.users.values())
    return {name: by_pk[pk] for name, pk in plant.users.items()}


@pytest.fixture
def as_user(users: dict[str, Any]) -> Any:
    """``as_user("officer_a")``: an :class:`ApiClient` acting as that fixture user."""

    def make(name: str) -> ApiClient:
        return ApiClient(key_for(users[name]))

    return make
