"""``manage.py create_api_token``: prints a working key once, lists tokens, revokes one."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from carbonmeter.web.accounts.models import ApiToken
from tests.web.api.conftest import ApiClient


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_issued_key_works_and_is_printed_alone(users: dict[str, Any]) -> None:
    out, err = run("officer_a", "--name", "ERP export", "--days", "30")
    key = out.strip()
    assert key.startswith("cm_") and "\n" not in key
    assert "not shown again" in err
    assert ApiClient(key).get("/api/organizations").status_code == 200
    token = ApiToken.objects.get(user=users["officer_a"])
    assert token.name == "ERP export"
    assert token.expires is not None


def test_list_and_revoke(users: dict[str, Any]) -> None:
    key = run("officer_a", "--name", "ci")[0].strip()
    token = ApiToken.objects.get(user=users["officer_a"])
    assert f"{token.pk}\tci" in run("officer_a", "--list")[0]
    run("officer_a", "--revoke", str(token.pk), "--reason", "rotated")
    assert ApiClient(key).get("/api/organizations").status_code == 401
    assert run("officer_a", "--list")[0] == ""
    token.refresh_from_db()
    assert token.history.first().history_change_reason == "rotated"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "args",
    [("nobody", "--name", "x"), ("officer_a",), ("officer_a", "--name", "x", "--days", "0")],
)
def test_refusals(users: dict[str, Any], args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        run(*args)
    assert not ApiToken.objects.exists()


def test_another_users_token_cannot_be_revoked(users: dict[str, Any]) -> None:
    run("officer_a", "--name", "mine")
    token = ApiToken.objects.get()
    with pytest.raises(CommandError):
        run("admin_b", "--revoke", str(token.pk))
    token.refresh_from_db()
    assert not token.archived
