"""Security settings and behaviour (design: Argon2, login throttling, CSRF, secure headers).

The test run uses ``tests.web_settings`` (MD5 hashing, debug on) for speed, so the product settings are
checked where it matters: the module itself, and ``manage.py`` in a subprocess with production-like env.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.web.conftest import PASSWORD, make_user
from tests.web.logins import concurrent_logins, in_subprocess

ROOT = Path(__file__).parents[2]
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``manage.py <args>`` with the product settings and only the given CARBONMETER_* variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CARBONMETER_") and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="carbonmeter.web.settings",
        CARBONMETER_HOME=str(tmp_path),  # the SQLite default goes to tmp_path/var, not the work tree
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        **env,
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env() -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return {
        "CARBONMETER_DEBUG": "0",
        "CARBONMETER_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "CARBONMETER_ALLOWED_HOSTS": "example.org",
        "CARBONMETER_SSL_REDIRECT": "1",
    }


def issue_ids(output: str) -> set[str]:
    return set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", output))


# -- password hashing ---------------------------------------------------------------------------------


def test_argon2_is_the_first_hasher_of_the_product_settings() -> None:
    product = importlib.import_module("carbonmeter.web.settings")
    assert product.PASSWORD_HASHERS[0] == ARGON2
    assert settings.PASSWORD_HASHERS[0] != ARGON2, "the test override is in effect, as documented"
    assert Argon2PasswordHasher().encode(PASSWORD, "somesaltvalue").startswith("argon2$argon2id$")


# -- login throttling ---------------------------------------------------------------------------------


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """Nothing may count in the cache, which outlives a test: start and end empty (the throttle counts
    in the database, which each test rolls back)."""
    cache.clear()
    yield
    cache.clear()


def login(client: Client, username: str, password: str, ip: str) -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_throttle_refuses_a_username_after_n_failures(db: None, clean_cache: None) -> None:
    make_user("victim")
    limit = settings.LOGIN_THROTTLE["attempts"]
    client = Client()
    for i in range(limit):  # each failure from another address: only the per-username count trips
        assert login(client, "victim", "wrong-password", f"10.0.0.{i + 1}").status_code == 200
    refused = login(client, "victim", PASSWORD, "10.0.1.1")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "登录失败次数过多" in refused.content.decode()
    assert login(client, "VICTIM", PASSWORD, "10.0.1.2").status_code == 429  # case does not get around it


def test_correct_login_passes_before_the_limit(db: None, clean_cache: None) -> None:
    make_user("careless")
    limit = settings.LOGIN_THROTTLE["attempts"]
    client = Client()
    for i in range(limit - 1):
        assert login(client, "careless", "wrong-password", f"10.0.2.{i + 1}").status_code == 200
    response = login(client, "careless", PASSWORD, "10.0.2.99")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"]


def test_throttle_refuses_an_address_spraying_usernames(db: None, clean_cache: None) -> None:
    make_user("bystander")
    limit = settings.LOGIN_THROTTLE["address_attempts"]
    client = Client()
    for i in range(limit):
        assert login(client, f"guess{i}", "wrong-password", "10.0.3.1").status_code == 200
    assert login(client, "bystander", PASSWORD, "10.0.3.1").status_code == 429
    assert login(Client(), "bystander", PASSWORD, "10.0.3.2").status_code == 302  # others are unaffected


def test_one_accounts_lockout_does_not_lock_its_address(db: None, clean_cache: None) -> None:
    """Issue 9: five failures from one address locked out everyone behind it (an office NAT)."""
    make_user("forgetful")
    make_user("colleague")
    client = Client()
    for _i in range(settings.LOGIN_THROTTLE["attempts"]):
        assert login(client, "forgetful", "wrong-password", "10.0.5.1").status_code == 200
    assert login(client, "forgetful", PASSWORD, "10.0.5.1").status_code == 429
    colleague = Client()
    assert login(colleague, "colleague", PASSWORD, "10.0.5.1").status_code == 302
    assert colleague.session["_auth_user_id"]


def test_successful_logins_do_not_use_up_the_address(db: None, clean_cache: None) -> None:
    make_user("daily")
    for _i in range(settings.LOGIN_THROTTLE["address_attempts"] + 2):
        assert login(Client(), "daily", PASSWORD, "10.0.6.1").status_code == 302


def run_concurrently(
    tmp_path: Path, overrides: Any, users: list[str], attempts: list[tuple[str, str, str]], **limits: int
) -> tuple[list[int], dict[str, int]]:
    """The attempts at once from real threads, on the database under test: in this process on PostgreSQL,
    in a subprocess on a file database for SQLite (tests/web/logins.py says why). ``overrides``: pytest's
    ``settings`` fixture, which puts the limits back after the test."""
    from django.db import connection

    from carbonmeter.web.accounts.models import LoginThrottle

    if connection.vendor == "sqlite":
        done = in_subprocess(tmp_path, users, attempts, **limits)
        return done["codes"], done["counts"]
    for name in users:
        make_user(name)
    overrides.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, **limits}
    codes = concurrent_logins(attempts)
    return codes, dict(LoginThrottle.objects.values_list("key", "count"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_each_counted(tmp_path: Path, settings: Any) -> None:
    """Issue 9: twelve concurrent wrong passwords all got 200 (the count was read, then written). Counted
    atomically before the password is checked, only ``attempts`` of them are checked at all."""
    limit = settings.LOGIN_THROTTLE["attempts"]
    attempts = [("target", "wrong-password", f"10.1.0.{i + 1}") for i in range(12)]
    codes, counts = run_concurrently(tmp_path, settings, ["target"], attempts)
    assert sorted(codes) == [200] * limit + [429] * (12 - limit)
    assert counts["user:target"] == 12


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_from_one_address_are_each_counted(tmp_path: Path, settings: Any) -> None:
    attempts = [(f"nobody{i}", "wrong-password", "10.2.0.1") for i in range(14)]
    codes, counts = run_concurrently(tmp_path, settings, [], attempts, address_attempts=8)
    assert sorted(codes) == [200] * 8 + [429] * 6
    assert counts["address:10.2.0.1"] == 14


# -- CSRF -----------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_post(db: None, clean_cache: None) -> None:
    make_user("csrf_user")
    client = Client(enforce_csrf_checks=True)
    forged = client.post(reverse("login"), {"username": "csrf_user", "password": PASSWORD})
    assert forged.status_code == 403

    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    genuine = client.post(
        reverse("login"),
        {"username": "csrf_user", "password": PASSWORD, "next": "/", "csrfmiddlewaretoken": token},
    )
    assert genuine.status_code == 302


def test_csrf_is_enforced_on_admin_post(db: None) -> None:
    staff = make_user("csrf_staff", is_superuser=True, is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(reverse("admin:registry_facility_add"), {"name": "x", "change_reason": "x"})
    assert response.status_code == 403


# -- production settings --------------------------------------------------------------------------------


def test_deploy_check_passes_at_warning_level(tmp_path: Path) -> None:
    """``check --deploy --fail-level WARNING`` with production-like env: no error and no warning."""
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], production_env(), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert not issue_ids(output), output


def test_product_settings_refuse_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = manage(["check"], {"CARBONMETER_DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CARBONMETER_SECRET_KEY" in result.stderr


def test_product_settings_start_with_a_secret_key(tmp_path: Path) -> None:
    """The control for the test above: the same command starts once the key is given."""
    result = manage(["check"], production_env(), tmp_path)
    assert result.returncode == 0, result.stderr
