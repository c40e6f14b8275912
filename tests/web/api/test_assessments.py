"""Assessment runs through the API: the stored run is the engine's verdict; its document comes back whole."""

from __future__ import annotations

from datetime import date
from typing import Any

from carbonmeter.core.assess import assess
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.registry.models import Organization

AS_OF = date(2026, 1, 15)


def test_run_stores_the_engines_verdict(as_user: Any, users: dict[str, Any], org_a: Organization) -> None:
    response = as_user("clerk_a").post(
        "/api/assessments", {"organization": org_a.pk, "as_of": AS_OF.isoformat()}
    )
    assert response.status_code == 201, response.content
    run = AssessmentRun.objects.get(pk=response.json()["id"])
    engine = to_document(assess(build_snapshot(org_a, AS_OF), load_pack(org_a.pack_ref), AS_OF))
    assert run.document["equipping"] == engine["equipping"]
    assert run.document["findings"] == engine["findings"]
    assert (run.organization, run.as_of, run.created_by) == (org_a, AS_OF, users["clerk_a"])
    assert response.json()["conforms"] is run.conforms is engine["conforms"]
    assert response.json()["nonconformities"] == sum(
        f["severity"] == "nonconformity" for f in engine["findings"]
    )


def test_document_comes_back_exactly_as_stored(as_user: Any, org_a: Organization) -> None:
    created = as_user("officer_a").post("/api/assessments", {"organization": org_a.pk, "as_of": "2026-01-15"})
    run = AssessmentRun.objects.get(pk=created.json()["id"])
    document = as_user("verifier_a").get(f"/api/assessments/{run.pk}").json()
    assert document == run.document
    assert document["schema"] == "carbonmeter.assessment/1"
    listed = as_user("verifier_a").get("/api/assessments", organization=org_a.pk).json()
    assert [r["id"] for r in listed] == [run.pk]
    assert "document" not in listed[0]


def test_readers_may_not_run_and_others_cannot_see(as_user: Any, org_a: Organization) -> None:
    body = {"organization": org_a.pk, "as_of": "2026-01-15"}
    assert as_user("verifier_a").post("/api/assessments", body).status_code == 403
    assert as_user("regulator_cq").post("/api/assessments", body).status_code == 403
    assert as_user("admin_b").post("/api/assessments", body).status_code == 404
    assert not AssessmentRun.objects.exists()


def test_as_of_must_be_a_plausible_date(as_user: Any, org_a: Organization) -> None:
    for as_of in ("9999-12-31", "0001-01-01", "2026-02-30", None):
        response = as_user("officer_a").post("/api/assessments", {"organization": org_a.pk, "as_of": as_of})
        assert response.status_code == 422, as_of
    assert not AssessmentRun.objects.exists()
