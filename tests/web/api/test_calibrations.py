"""Calibration records through the API: data clerks add them; a pass is valid until the date it gives, or
for the instrument's verification interval, as the web form fills 有效期至 (the same service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, Organization


@pytest.fixture
def instrument(org_a: Organization) -> Instrument:
    inst = Instrument.objects.filter(organization=org_a).order_by("code").first()
    assert inst is not None
    return inst


def record(instrument: Instrument, **fields: Any) -> dict[str, Any]:
    return {
        "instrument": instrument.pk,
        "kind": "verification",
        "date": "2026-01-10",
        "valid_until": "2027-01-09",
        "result": "pass",
        "certificate_no": "JD2026-API",
    } | fields


def test_clerk_records_a_calibration(as_user: Any, users: dict[str, Any], instrument: Instrument) -> None:
    response = as_user("clerk_a").post("/api/calibrations", record(instrument))
    assert response.status_code == 201, response.content
    stored = Calibration.objects.get(pk=response.json()["id"])
    assert (stored.instrument_id, stored.certificate_no, str(stored.valid_until)) == (
        instrument.pk,
        "JD2026-API",
        "2027-01-09",
    )
    assert stored.history.first().history_user == users["clerk_a"]  # type: ignore[union-attr]
    listed = as_user("verifier_a").get("/api/calibrations", instrument=instrument.pk).json()
    assert stored.pk in {r["id"] for r in listed}


def test_a_fail_needs_no_validity(as_user: Any, instrument: Instrument) -> None:
    response = as_user("clerk_a").post(
        "/api/calibrations", record(instrument, result="fail", valid_until=None)
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"valid_until": "2025-12-31"}, "valid_until", "valid_until (有效期至) may not be before date"),
        ({"result": "ok"}, "result", "'pass' or 'fail'"),
        ({"date": "1066-10-14", "valid_until": "1067-10-14"}, "date", "between 1900-01-01 and 2199-12-31"),
    ],
)
def test_invalid_records_are_refused_with_a_clear_message(
    as_user: Any, instrument: Instrument, fields: dict[str, Any], where: str, says: str
) -> None:
    before = Calibration.objects.count()
    response = as_user("clerk_a").post("/api/calibrations", record(instrument, **fields))
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["loc"][-1] == where
    assert says in problem["msg"]
    assert Calibration.objects.count() == before


def test_a_pass_without_valid_until_is_valid_for_the_instruments_interval(
    as_user: Any, instrument: Instrument
) -> None:
    """Issue 9: the API refused what the form accepts; both fill 有效期至 from ``interval_months``."""
    Instrument.objects.filter(pk=instrument.pk).update(interval_months=6)
    response = as_user("clerk_a").post("/api/calibrations", record(instrument, valid_until=None))
    assert response.status_code == 201, response.content
    assert response.json()["valid_until"] == "2026-07-09"
    stored = Calibration.objects.get(pk=response.json()["id"])
    assert stored.valid_until == dt.date(2026, 7, 9)
    assert stored.history.first().history_change_reason == "经 API 记录"  # type: ignore[union-attr]


def test_a_pass_without_valid_until_or_interval_is_422(as_user: Any, instrument: Instrument) -> None:
    Instrument.objects.filter(pk=instrument.pk).update(interval_months=None)
    before = Calibration.objects.count()
    response = as_user("clerk_a").post("/api/calibrations", record(instrument, valid_until=None))
    assert response.status_code == 422, response.content
    problem = response.json()["detail"][0]
    assert problem["loc"][-1] == "valid_until"
    assert "有效期至" in problem["msg"] and instrument.code in problem["msg"]
    assert Calibration.objects.count() == before


def test_the_openapi_description_says_how_valid_until_is_filled() -> None:
    from carbonmeter.web.api.app import api

    schema = api.get_openapi_schema()["components"]["schemas"]["CalibrationIn"]
    assert "interval_months" in schema["properties"]["valid_until"]["description"]
    assert "valid_until" not in schema.get("required", [])


def test_verifier_reads_but_does_not_record(as_user: Any, instrument: Instrument) -> None:
    verifier = as_user("verifier_a")
    assert verifier.get("/api/calibrations", instrument=instrument.pk).status_code == 200
    assert verifier.post("/api/calibrations", record(instrument)).status_code == 403
    assert not Calibration.objects.filter(certificate_no="JD2026-API").exists()


def test_other_organizations_get_404(as_user: Any, instrument: Instrument) -> None:
    assert as_user("admin_b").post("/api/calibrations", record(instrument)).status_code == 404
    assert not Calibration.objects.filter(certificate_no="JD2026-API").exists()


def test_a_restricted_range_is_recorded_and_returned(as_user: Any, instrument: Instrument) -> None:
    response = as_user("clerk_a").post("/api/calibrations", record(instrument, restricted_range="0–50 t/h"))
    assert response.status_code == 201, response.content
    assert response.json()["restricted_range"] == "0–50 t/h"
    assert Calibration.objects.get(pk=response.json()["id"]).restricted_range == "0–50 t/h"
    plain = as_user("clerk_a").post("/api/calibrations", record(instrument)).json()
    assert plain["restricted_range"] == ""
