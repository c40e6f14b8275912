"""Fixtures for the metering-data web tests: a temporary lake, a small plant with data profiles, and — for
tests that run ``carbonmeter`` in a real subprocess (a subprocess cannot see a test transaction) — a
file-based SQLite database, migrated once per session and copied per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.readings.models import PointProfile
from carbonmeter.web.registry.models import MeasuringPoint, Organization
from carbonmeter.web.registry.services import import_snapshot

ROOT = Path(__file__).parents[3]
MINI = ROOT / "tests" / "data" / "mini.json"
#: The mini plant's credit code.
CREDIT = "91500000000000000X"
#: Data profiles of the mini plant's points: quantity, expected interval (s), plausible range. P5 has none
#: (its rows are quarantined RD-QUANTITY), P6 is archived (RD-POINT).
PROFILES: dict[str, tuple[str, int | None, float | None, float | None]] = {
    "P1": ("consumption_mass", 900, 0.0, 100.0),
    "P2": ("ncv", None, 10.0, 40.0),
    "P3": ("consumption_mass", 900, 0.0, 100.0),
    "P4": ("electricity", 900, 0.0, 50.0),
}
CLERK = "clerk"


def build_plant() -> Organization:
    """The mini plant with its data profiles and a data clerk (in-process and in the subprocess set-up)."""
    org, _ = import_snapshot(parse_json(MINI.read_bytes(), str(MINI)), reason="test fixture")
    assert org is not None
    for code, (quantity, interval, lo, hi) in PROFILES.items():
        point = MeasuringPoint.objects.get(organization=org, code=code)
        PointProfile(
            organization=org,
            point=point,
            quantity=quantity,
            expected_interval=interval,
            min_value=lo,
            max_value=hi,
        ).save()
    MeasuringPoint.objects.get(organization=org, code="P6").archive("test fixture: P6 left the plan")
    from carbonmeter.web.accounts.models import Membership

    user = get_user_model().objects.create_user(CLERK, password="test-password-123")
    Membership(user=user, organization=org, role="data_clerk").save()
    return org


@dataclass(frozen=True)
class Plant:
    org: int
    clerk: int


@pytest.fixture(scope="module")
def plant_ids(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Plant]:
    """The plant, built once per module in a transaction rolled back at the end; each test runs in a
    savepoint within it (pytest-django's ``db``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        org = build_plant()
        clerk = get_user_model().objects.get(username=CLERK)
        yield Plant(org.pk, clerk.pk)
        transaction.set_rollback(True)


@pytest.fixture
def plant(db: Any, plant_ids: Plant) -> Organization:
    return Organization.objects.get(pk=plant_ids.org)


@pytest.fixture
def clerk(db: Any, plant_ids: Plant) -> Any:
    return get_user_model().objects.get(pk=plant_ids.clerk)


def make_profile(org: Organization, code: str, quantity: str, **settings: Any) -> PointProfile:
    """A point's data profile, saved with a reason like every registry row."""
    point = MeasuringPoint.objects.get(organization=org, code=code)
    profile = PointProfile(organization=org, point=point, quantity=quantity, **settings)
    profile._change_reason = "test profile"
    profile.save()
    return profile


@pytest.fixture(autouse=True)
def lake(settings: Any, tmp_path: Path) -> Path:
    """A fresh lake (and media folder) for every test here: the database rolls back, the files must not
    outlive it either."""
    settings.CARBONMETER_LAKE = tmp_path / "lake"
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.CARBONMETER_LAKE)


# --- subprocesses -------------------------------------------------------------------------------------

_SETUP = "import django; django.setup(); from tests.web.readings.conftest import build_plant; build_plant()"


def _env(db: Path, lake: Path) -> dict[str, str]:
    """The product's own settings, configured by the environment as an installation is (the test settings
    pick a lake of their own per process, which a subprocess must not)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONMETER_INGEST_PAUSE")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "carbonmeter.web.settings",
        "CARBONMETER_DEBUG": "1",
        "CARBONMETER_SECRET_KEY": "test-only-key",
        "DATABASE_URL": f"sqlite:///{db}",
        "CARBONMETER_LAKE": str(lake),
        "CARBONMETER_HOME": str(db.parent),
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    }
    return env


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the plant (built once per session: migrating takes seconds)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    db = folder / "db.sqlite3"
    env = _env(db, folder / "lake")
    for args in (["-m", "django", "migrate", "-v0"], ["-c", _SETUP]):
        run = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    return db


@dataclass(frozen=True)
class Installation:
    """A file database and a lake for subprocesses, with the environment that points at them."""

    db: Path
    lake: Path
    env: dict[str, str]

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], env=self.env | env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "carbonmeter.cli.main", *args, **env)

    def python(self, code: str) -> str:
        """Run ``code`` with Django set up against this installation; returns its stdout."""
        done = self.run("-c", "import django; django.setup()\n" + code)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def installation(sqlite_template: Path, tmp_path: Path) -> Installation:
    db = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, db)
    lake = tmp_path / "lake"
    return Installation(db, lake, _env(db, lake))
