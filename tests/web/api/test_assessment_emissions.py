"""A run's emissions, a stream's uncertainty budget and the advisor through the API (contract §6.3): the
stored document's figures, named, for every reader of the run and nobody else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.registry.models import Organization
from tests.web.v11_run import store_run, v11_document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return v11_document()


@pytest.fixture
def run(org_a: Organization, document: dict[str, Any]) -> AssessmentRun:
    return store_run(org_a, json.loads(json.dumps(document)))


@pytest.mark.parametrize("role", ["admin_a", "clerk_a", "verifier_a", "regulator_cq"])
def test_emissions_list_the_formula_streams_and_the_total(
    as_user: Any, run: AssessmentRun, document: dict[str, Any], role: str
) -> None:
    response = as_user(role).get(f"/api/assessments/{run.pk}/emissions")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run"] == run.pk
    assert round(body["total_emissions_t"]) == 1834342
    assert round(body["uncertainty"]["total_u95_t"]) == 22547 and body["uncertainty"]["k"] == 2
    assert body["uncertainty"]["complete"] is False
    formula_ids = {s["id"] for s in document["streams"] if s.get("formula")}
    assert {s["id"] for s in body["streams"]} == formula_ids and "S07" not in formula_ids
    # Largest first: S05 (532,689 t) then S06 (516,918 t).
    assert [s["id"] for s in body["streams"][:2]] == ["S05", "S06"]
    s05 = body["streams"][0]
    assert s05["name"] == "1#窑生料碳酸盐分解" and s05["formula"] == "clinker"
    assert s05["formula_title"] == "熟料煅烧" and s05["formula_title_en"]
    assert (s05["declared_emissions_t"], round(s05["u95_t"])) == (532700.0, 4807)
    assert s05["tier"] == 4 and s05["not_judged"] == [] and "budget" not in s05
    s09 = next(s for s in body["streams"] if s["id"] == "S09")
    assert s09["u95_t"] is None and s09["tier"] is None
    assert [(n["subject"], n["what"]) for n in s09["not_judged"]] == [("P09.1", "uncertainty")]


def test_a_streams_budget(as_user: Any, run: AssessmentRun, document: dict[str, Any]) -> None:
    response = as_user("verifier_a").get(f"/api/assessments/{run.pk}/emissions/S01/budget")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run"] == run.pk and body["stream"]["id"] == "S01"
    expected = next(s for s in document["streams"] if s["id"] == "S01")["budget"]
    assert body["budget"] == expected
    line = next(b for b in body["budget"] if b["point"] == "P01.3")
    assert (line["parameter"], line["value"], line["unit"]) == ("carbon_content", 0.02618, "tC/GJ")
    assert (line["instrument"], line["certificate_no"]) == ("HY-04", "CQJY-C2025-00342")
    # The contributions are the shares of the stream's variance: they add up to 1.
    assert sum(b["contribution"] for b in body["budget"]) == pytest.approx(1.0)


def test_the_advisor(as_user: Any, run: AssessmentRun, document: dict[str, Any]) -> None:
    response = as_user("regulator_cq").get(f"/api/assessments/{run.pk}/advisor")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == document["advisor"] and 0 < len(body) <= 10
    assert body[0]["point"] == "P02.3" and body[0]["action"] == "upgrade" and body[0]["to"] is None
    shares = [a["contribution"] for a in body]
    assert shares == sorted(shares, reverse=True) and min(shares) >= 0.01


def test_unknown_streams_and_other_plants_are_not_found(as_user: Any, run: AssessmentRun) -> None:
    admin = as_user("admin_a")
    assert admin.get(f"/api/assessments/{run.pk}/emissions/S07/budget").status_code == 404  # no formula
    assert admin.get(f"/api/assessments/{run.pk}/emissions/S99/budget").status_code == 404
    other = as_user("admin_b")
    for path in ("emissions", "emissions/S01/budget", "advisor"):
        assert other.get(f"/api/assessments/{run.pk}/{path}").status_code == 404, path
    assert as_user("expired_verifier").get(f"/api/assessments/{run.pk}/advisor").status_code == 404


def test_a_run_without_formulas_has_no_uncertainty(
    as_user: Any, org_a: Organization, document: dict[str, Any]
) -> None:
    doc = {k: v for k, v in document.items() if k not in ("uncertainty", "advisor")}
    keep = ("id", "category", "share", "annual_emissions_t")
    doc["streams"] = [{k: v for k, v in s.items() if k in keep} for s in doc["streams"]]
    run = store_run(org_a, doc)
    body = as_user("admin_a").get(f"/api/assessments/{run.pk}/emissions").json()
    assert body["uncertainty"] is None and body["streams"] == []
    assert as_user("admin_a").get(f"/api/assessments/{run.pk}/advisor").json() == []


def test_the_openapi_document_describes_the_endpoints(as_user: Any) -> None:
    schema = as_user("admin_a").get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/assessments/{id}/emissions",
        "/api/assessments/{id}/emissions/{stream}/budget",
        "/api/assessments/{id}/advisor",
    ):
        assert set(paths[path]) == {"get"}, path
        assert {"200", "401", "404"} <= set(paths[path]["get"]["responses"]), path
    components = schema["components"]["schemas"]
    assert {"EmissionsOut", "BudgetOut", "AdviceDoc", "EmissionStreamOut"} <= set(components)
    assert set(components["AdviceDoc"]["properties"]["action"]["enum"]) == {"upgrade", "measure"}
