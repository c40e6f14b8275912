"""Who may call: a live Bearer token acts as its user, anything else is 401; the browser needs CSRF."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from carbonmeter.web.accounts.models import ApiToken
from carbonmeter.web.registry.models import Organization
from tests.web.api.conftest import ApiClient, key_for


def test_valid_token_acts_as_its_user(users: dict[str, Any], org_a: Organization) -> None:
    response = ApiClient(key_for(users["officer_a"])).get("/api/organizations")
    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [org_a.pk]


def test_token_refused_without_or_with_a_wrong_key(users: dict[str, Any]) -> None:
    key_for(users["officer_a"])
    assert Client().get("/api/organizations").status_code == 401
    response = ApiClient("cm_not-a-key").get("/api/organizations")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_expired_token_is_refused(users: dict[str, Any]) -> None:
    token, key = ApiToken.issue(users["officer_a"], "short-lived", timezone.now() + timedelta(hours=1))
    assert ApiClient(key).get("/api/organizations").status_code == 200
    token.expires = timezone.now() - timedelta(seconds=1)
    token._change_reason = "test: expire"
    token.save()
    assert ApiClient(key).get("/api/organizations").status_code == 401


def test_revoked_token_and_inactive_user_are_refused(users: dict[str, Any]) -> None:
    token, key = ApiToken.issue(users["officer_a"], "revoked")
    token.archive("leaked")
    assert ApiClient(key).get("/api/organizations").status_code == 401
    clerk_key = key_for(users["clerk_a"])
    users["clerk_a"].is_active = False
    users["clerk_a"].save()
    assert ApiClient(clerk_key).get("/api/organizations").status_code == 401


def test_only_the_hash_of_the_key_is_kept(users: dict[str, Any]) -> None:
    token, key = ApiToken.issue(users["officer_a"], "script")
    assert key.startswith("cm_") and len(key) > 40
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(v) for row in ApiToken.history.values() for v in row.values()]
    assert key not in stored


def test_last_used_is_recorded(users: dict[str, Any]) -> None:
    token, key = ApiToken.issue(users["officer_a"], "script")
    assert token.last_used is None
    ApiClient(key).get("/api/organizations")
    token.refresh_from_db()
    assert token.last_used is not None
    assert timezone.now() - token.last_used < timedelta(minutes=1)


def test_a_wrong_key_does_not_fall_back_to_the_session(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["officer_a"])
    assert client.get("/api/organizations").status_code == 200
    response = client.get("/api/organizations", headers={"Authorization": "Bearer cm_wrong"})
    assert response.status_code == 401


def test_session_writes_need_the_csrf_token(users: dict[str, Any], org_a: Organization) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["officer_a"])
    body = {"organization": org_a.pk, "as_of": "2026-01-15"}
    refused = client.post("/api/assessments", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/login/")  # any page that renders the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/assessments", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


def test_bearer_writes_need_no_csrf_token(users: dict[str, Any], org_a: Organization) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/assessments",
        {"organization": org_a.pk, "as_of": "2026-01-15"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key_for(users['officer_a'])}"},
    )
    assert response.status_code == 201


def test_openapi_document_and_docs_are_served(db: Any) -> None:
    document = Client().get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "carbonmeter API"
    assert document["info"]["version"] == "1"
    assert set(document["components"]["securitySchemes"]) == {"TokenAuth", "SessionCsrfAuth"}
    docs = Client().get("/api/docs")
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content
