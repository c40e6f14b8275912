"""Calibration records through the API: data clerks add them; a pass must say until when it is valid."""

from __future__ import annotations

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
        ({"valid_until": None}, "valid_until", "a passing record needs valid_until"),
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


def test_verifier_reads_but_does_not_record(as_user: Any, instrument: Instrument) -> None:
    verifier = as_user("verifier_a")
    assert verifier.get("/api/calibrations", instrument=instrument.pk).status_code == 200
    assert verifier.post("/api/calibrations", record(instrument)).status_code == 403
    assert not Calibration.objects.filter(certificate_no="JD2026-API").exists()


def test_other_organizations_get_404(as_user: Any, instrument: Instrument) -> None:
    assert as_user("admin_b").post("/api/calibrations", record(instrument)).status_code == 404
    assert not Calibration.objects.filter(certificate_no="JD2026-API").exists()
