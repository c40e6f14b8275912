"""Every error is JSON ``{"detail": …}`` with the status that says whose problem it is."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError

from carbonmeter.web.api import routes_assessments
from carbonmeter.web.registry.models import Instrument, Organization

AS_OF = "2026-01-15"


def test_unknown_paths_and_methods(as_user: Any) -> None:
    api = as_user("officer_a")
    unknown = api.get("/api/no-such-thing")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    wrong_method = api.client.delete("/api/organizations", headers=api.headers())
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"detail": "Method Not Allowed"})
    assert "GET" in wrong_method["Allow"]


def test_unreadable_body(as_user: Any) -> None:
    api = as_user("officer_a")
    response = api.client.post(
        "/api/calibrations", b"{not json", content_type="application/json", headers=api.headers()
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_rows_that_make_no_valid_snapshot_are_the_clients_problem(as_user: Any, org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    Instrument.objects.filter(pk=inst.pk).update(mpe_percent=-1.0)  # as an old row or a raw SQL fix might
    response = as_user("officer_a").post(
        "/api/assessments", {"organization": org_a.pk, "as_of": "2026-01-15"}
    )
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["loc"][:2] == ["snapshot", "instruments"]
    assert problem["loc"][-1] == "mpe_percent"


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (IntegrityError("UNIQUE constraint failed"), 409, "conflicts with an existing row"),
        (RuntimeError("boom"), 500, "internal server error"),
    ],
)
def test_unexpected_errors_are_json_too(
    as_user: Any, org_a: Organization, monkeypatch: Any, error: Exception, status: int, detail: str
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(routes_assessments, "run_assessment", fail)
    response = as_user("officer_a").post(
        "/api/assessments", {"organization": org_a.pk, "as_of": "2026-01-15"}
    )
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    assert "boom" not in response.content.decode()
