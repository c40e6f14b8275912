"""Tenancy through the API: each caller sees exactly its organizations' rows; anything else is a 404."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization, SourceStream

#: list endpoint → how a row names its organization
LISTS = {
    "/api/streams": lambda row: row["organization"],
    "/api/points": lambda row: row["organization"],
    "/api/instruments": lambda row: row["organization"],
    "/api/assessments": lambda row: row["organization"],
}


@pytest.fixture
def runs(org_a: Organization, org_b: Organization) -> dict[str, AssessmentRun]:
    return {"a": run_assessment(org_a, date(2026, 1, 15)), "b": run_assessment(org_b, date(2026, 1, 15))}


def _rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_lists_hold_only_the_callers_organizations(
    path: str, as_user: Any, org_a: Organization, org_b: Organization, runs: Any
) -> None:
    of_b = {LISTS[path](row) for row in _rows(as_user("admin_b").get(path, limit=200))}
    of_a = {LISTS[path](row) for row in _rows(as_user("officer_a").get(path, limit=200))}
    assert of_b == {org_b.pk}
    assert of_a == {org_a.pk}


def test_organizations_by_role(as_user: Any, org_a: Organization, org_b: Organization) -> None:
    def ids(user: str) -> set[int]:
        return {o["id"] for o in _rows(as_user(user).get("/api/organizations"))}

    assert ids("admin_b") == {org_b.pk}
    assert ids("verifier_a") == {org_a.pk}
    assert ids("regulator_cq") == {org_a.pk}  # A is in 重庆市, B in 四川省
    assert ids("expired_verifier") == set()
    assert ids("superuser") == {org_a.pk, org_b.pk}


def test_calibrations_hold_only_the_callers_instruments(as_user: Any, org_a: Organization) -> None:
    seen = {row["instrument"] for row in _rows(as_user("admin_b").get("/api/calibrations"))}
    of_a = set(Instrument.objects.filter(organization=org_a).values_list("pk", flat=True))
    assert seen
    assert not seen & of_a


def test_rows_of_another_organization_are_not_found(as_user: Any, org_a: Organization, runs: Any) -> None:
    b = as_user("admin_b")
    instrument = Instrument.objects.filter(organization=org_a).first()
    assert instrument is not None
    for path in (
        f"/api/organizations/{org_a.pk}",
        f"/api/instruments/{instrument.pk}",
        f"/api/assessments/{runs['a'].pk}",
    ):
        response = b.get(path)
        assert response.status_code == 404, path
        assert as_user("officer_a").get(path).status_code == 200, path


def test_filters_naming_an_unseen_object_are_not_found(as_user: Any, org_a: Organization) -> None:
    b = as_user("admin_b")
    stream = SourceStream.objects.filter(organization=org_a).first()
    instrument = Instrument.objects.filter(organization=org_a).first()
    assert stream is not None and instrument is not None
    for path, params in (
        ("/api/streams", {"organization": org_a.pk}),
        ("/api/points", {"organization": org_a.pk}),
        ("/api/points", {"stream": stream.pk}),
        ("/api/instruments", {"organization": org_a.pk}),
        ("/api/calibrations", {"instrument": instrument.pk}),
        ("/api/assessments", {"organization": org_a.pk}),
    ):
        assert b.get(path, **params).status_code == 404, (path, params)
        assert as_user("officer_a").get(path, **params).status_code == 200, (path, params)


def test_an_unknown_id_is_answered_like_an_unseen_one(as_user: Any, org_a: Organization) -> None:
    b = as_user("admin_b")
    unseen = b.get(f"/api/organizations/{org_a.pk}")
    missing = b.get("/api/organizations/999999")
    assert unseen.status_code == missing.status_code == 404
    assert unseen.json().keys() == missing.json().keys()


def test_filters_narrow_to_the_named_object(as_user: Any, org_a: Organization) -> None:
    a = as_user("officer_a")
    stream = SourceStream.objects.filter(organization=org_a).order_by("code").first()
    instrument = Calibration.objects.filter(instrument__organization=org_a).first()
    assert stream is not None and instrument is not None
    points = _rows(a.get("/api/points", stream=stream.pk))
    assert {p["stream"] for p in points} == {stream.pk}
    assert len(points) == MeasuringPoint.objects.filter(stream=stream, archived=False).count()
    records = _rows(a.get("/api/calibrations", instrument=instrument.instrument_id))
    assert {r["instrument"] for r in records} == {instrument.instrument_id}


def test_archived_rows_are_gone(as_user: Any, org_a: Organization) -> None:
    instrument = Instrument.objects.filter(organization=org_a).first()
    assert instrument is not None
    a = as_user("officer_a")
    assert a.get(f"/api/instruments/{instrument.pk}").status_code == 200
    assert a.get("/api/instruments", q=instrument.code).json()["count"] >= 1
    instrument.archive("scrapped and removed")
    assert a.get(f"/api/instruments/{instrument.pk}").status_code == 404
    assert a.get("/api/instruments", q=instrument.code).json()["count"] == 0
