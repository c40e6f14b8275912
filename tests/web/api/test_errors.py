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


# --- issue 9: strict types, documented statuses, stable operation ids -----------------------------------


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/assessments", "as_of", 0),  # was stored as 1970-01-01
        ("/api/assessments", "as_of", 20260115),
        ("/api/assessments", "organization", "1"),
        ("/api/assessments", "organization", True),
        ("/api/assessments", "organization", 1.0),
        ("/api/instruments", "portable", 1),
        ("/api/instruments", "portable", "yes"),
        ("/api/instruments", "seal_intact", 0),
        ("/api/instruments", "mpe_percent", "0.5"),
        ("/api/instruments", "interval_months", "12"),
        ("/api/calibrations", "date", 1),
    ],
)
def test_a_value_of_another_json_type_than_the_schema_names_is_422(
    as_user: Any, org_a: Organization, path: str, field: str, value: Any
) -> None:
    base: dict[str, dict[str, Any]] = {
        "/api/assessments": {"organization": org_a.pk, "as_of": "2026-01-15"},
        "/api/instruments": {"organization": org_a.pk, "code": "STRICT-1"},
        "/api/calibrations": {
            "instrument": Instrument.objects.filter(organization=org_a).order_by("pk").first().pk,  # type: ignore[union-attr]
            "kind": "verification",
            "date": "2026-01-10",
            "result": "pass",
            "valid_until": "2027-01-09",
        },
    }
    response = as_user("officer_a").post(path, base[path] | {field: value})
    assert response.status_code == 422, response.json()
    assert any(field in problem["loc"] for problem in response.json()["detail"])


def test_a_reading_value_of_true_is_422(as_user: Any, org_a: Organization) -> None:
    row = {"point": "P1", "ts": "2025-01-01T00:00", "value": True}
    response = as_user("clerk_a").post("/api/readings/batch", {"organization": org_a.pk, "rows": [row]})
    assert response.status_code == 422


def test_every_write_documents_400_413_and_422() -> None:
    from carbonmeter.web.api.app import api

    document = api.get_openapi_schema()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "patch", "put"):
                assert {"400", "413", "422"} <= {str(k) for k in operation["responses"]}, (method, path)


def test_operation_ids_are_the_operations_names() -> None:
    """django-ninja 1.7 made them module paths (``carbonmeter_web_api_routes_readings_submit_batch``)."""
    from carbonmeter.web.api.app import api

    document = api.get_openapi_schema()
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == [
        "change_instrument",
        "create_assessment",
        "create_calibration",
        "create_instrument",
        "get_advisor",
        "get_assessment",
        "get_balance",
        "get_budget",
        "get_emissions",
        "get_instrument",
        "get_ledger",
        "get_organization",
        "list_assessments",
        "list_batches",
        "list_calibrations",
        "list_instruments",
        "list_organizations",
        "list_points",
        "list_quarantine",
        "list_runs",
        "list_streams",
        "submit_batch",
    ]
