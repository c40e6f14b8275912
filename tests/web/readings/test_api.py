"""``/api/readings``: a batch of JSON readings goes through the same ingest as an upload and is answered with
the run's report; runs, batches, quarantine and ledger are read through the caller's scope, like every
other route (a row of another organization is a 404, a read-only role gets a 403 on writes)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from carbonmeter.web.readings.models import IngestRun, PointProfile, QuarantinedRow, ReadingBatch
from carbonmeter.web.registry.models import Organization
from tests.web.api.conftest import ApiClient, key_for
from tests.web.readings.conftest import make_profile

YEAR = 2025
COAL = "P01.1"


@pytest.fixture
def profile(org_a: Organization) -> PointProfile:
    return make_profile(org_a, COAL, "consumption_mass", expected_interval=3600, min_value=0, max_value=100)


@pytest.fixture
def as_user(users: dict[str, Any]) -> Any:
    def make(name: str) -> ApiClient:
        return ApiClient(key_for(users[name]))

    return make


def readings(day: date, hours: int, value: float) -> list[dict[str, Any]]:
    start = datetime(day.year, day.month, day.day)
    return [
        {"point": COAL, "ts": (start + timedelta(hours=h)).isoformat(), "value": value, "unit": "t"}
        for h in range(hours)
    ]


def test_a_batch_is_ingested_and_answered_with_its_report(
    as_user: Any, org_a: Organization, users: dict[str, Any], profile: PointProfile
) -> None:
    rows = [*readings(date(YEAR, 1, 1), 3, 10.0), {"point": COAL, "ts": "yesterday", "value": 1}]
    response = as_user("clerk_a").post(
        "/api/readings/batch", {"organization": org_a.pk, "rows": rows, "filename": "logger-7"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    run = IngestRun.objects.get(pk=body["id"])
    assert run.source == "api" and run.created_by == users["clerk_a"] and run.filename == "logger-7"
    assert (body["rows_total"], body["rows_accepted"], body["rows_quarantined"]) == (4, 3, 1)
    assert run.batch is not None and body["batch"] == run.batch.seq
    [exception] = body["exceptions"]
    assert (exception["fate"], exception["code"], exception["first_row"]) == ("quarantined", "RD-TIME", 4)
    assert exception["quarantined"] == QuarantinedRow.objects.get(run=run).pk

    again = as_user("officer_a").post("/api/readings/batch", {"organization": org_a.pk, "rows": rows[:3]})
    assert again.status_code == 201
    assert again.json()["rows_duplicate"] == 3 and again.json()["batch"] is None


def test_a_correction_through_the_api_names_the_corrected_batch_and_needs_a_reason(
    as_user: Any, org_a: Organization, profile: PointProfile
) -> None:
    client = as_user("officer_a")
    first = client.post(
        "/api/readings/batch", {"organization": org_a.pk, "rows": readings(date(YEAR, 2, 1), 2, 5.0)}
    )
    seq = first.json()["batch"]
    fixed = [dict(readings(date(YEAR, 2, 1), 1, 6.0)[0])]
    no_reason = client.post("/api/readings/batch", {"organization": org_a.pk, "rows": fixed, "corrects": seq})
    assert no_reason.status_code == 422
    response = client.post(
        "/api/readings/batch",
        {"organization": org_a.pk, "rows": fixed, "corrects": seq, "reason": "复核更正"},
    )
    assert response.status_code == 201, response.json()
    batch = ReadingBatch.objects.get(seq=response.json()["batch"])
    assert batch.corrects is not None and batch.corrects.seq == seq and batch.reason == "复核更正"
    unknown = client.post(
        "/api/readings/batch", {"organization": org_a.pk, "rows": fixed, "corrects": 10**9, "reason": "x"}
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq"])
def test_read_only_roles_cannot_submit(as_user: Any, org_a: Organization, role: str) -> None:
    response = as_user(role).post(
        "/api/readings/batch", {"organization": org_a.pk, "rows": readings(date(YEAR, 1, 1), 1, 1.0)}
    )
    assert response.status_code == 403
    assert not IngestRun.objects.exists()


def test_another_organization_cannot_submit_or_read(
    as_user: Any, org_a: Organization, org_b: Organization, profile: PointProfile
) -> None:
    a = as_user("clerk_a")
    a.post(
        "/api/readings/batch",
        {"organization": org_a.pk, "rows": [*readings(date(YEAR, 1, 1), 2, 1.0), {"point": "X"}]},
    )
    b = as_user("admin_b")
    denied = b.post(
        "/api/readings/batch", {"organization": org_a.pk, "rows": readings(date(YEAR, 1, 2), 1, 1.0)}
    )
    assert denied.status_code == 404
    for path in ("/api/readings/runs", "/api/readings/batches", "/api/readings/quarantine"):
        assert b.get(path).json() == {"items": [], "count": 0}, path
        assert b.get(path, organization=org_a.pk).status_code == 404, path
        assert a.get(path).json()["count"] >= 1, path
    assert b.get("/api/readings/ledger", organization=org_a.pk, year=YEAR).status_code == 404
    assert b.get("/api/readings/ledger", organization=org_b.pk, year=YEAR).json() == []


def test_lists_and_ledger(as_user: Any, org_a: Organization, profile: PointProfile) -> None:
    client = as_user("verifier_a")
    as_user("clerk_a").post(
        "/api/readings/batch",
        {
            "organization": org_a.pk,
            "rows": [
                *readings(date(YEAR, 3, 1), 24, 2.5),
                {"point": COAL, "ts": f"{YEAR}-03-02 00:00", "value": 999},
            ],
        },
    )
    runs = client.get("/api/readings/runs", organization=org_a.pk).json()
    assert runs["count"] == 1 and runs["items"][0]["rows_accepted"] == 24
    batches = client.get("/api/readings/batches", organization=org_a.pk).json()["items"]
    assert len(batches) == 1 and batches[0]["rows"] == 24 and len(batches[0]["chain_hash"]) == 64
    assert sum(f["rows"] for f in batches[0]["files"]) == 24
    quarantine = client.get("/api/readings/quarantine", organization=org_a.pk, code="RD-RANGE").json()
    assert quarantine["count"] == 1 and quarantine["items"][0]["state"] == "open"
    assert client.get("/api/readings/quarantine", state="dismissed").json()["count"] == 0

    monthly = client.get("/api/readings/ledger", organization=org_a.pk, year=YEAR).json()
    [march] = [r for r in monthly if r["point"] == COAL]
    assert march["period_start"] == f"{YEAR}-03-01" and march["total"] == pytest.approx(60.0)
    assert march["n"] == 24 and march["expected"] == 31 * 24
    daily = client.get(
        "/api/readings/ledger", organization=org_a.pk, year=YEAR, period="day", point=COAL
    ).json()
    assert [(r["period_start"], r["total"]) for r in daily] == [(f"{YEAR}-03-01", pytest.approx(60.0))]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{"point": COAL, "ts": "2025-01-01", "value": 1, "colour": "red"}],
        [{"point": "P\x00", "ts": "2025-01-01", "value": 1}],
    ],
    ids=["empty", "unknown-key", "nul"],
)
def test_malformed_bodies_are_422(as_user: Any, org_a: Organization, rows: list[dict[str, Any]]) -> None:
    response = as_user("clerk_a").post("/api/readings/batch", {"organization": org_a.pk, "rows": rows})
    assert response.status_code == 422
    assert not IngestRun.objects.exists()


# --- issue 9: real clients ---------------------------------------------------------------------------


def test_a_batch_without_any_value_is_quarantined_not_a_500(as_user: Any, org_a: Organization) -> None:
    rows = [{"point": COAL, "ts": f"{YEAR}-01-01T00:00"}, {"point": COAL, "ts": f"{YEAR}-01-01T01:00"}]
    response = as_user("clerk_a").post("/api/readings/batch", {"organization": org_a.pk, "rows": rows})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows_total"], body["rows_quarantined"]) == (2, 2)
    assert [(e["code"], e["first_row"]) for e in body["exceptions"]] == [("RD-MISSING", 1), ("RD-MISSING", 2)]


def test_reposting_a_batch_gives_the_same_quarantined_rows(
    as_user: Any, org_a: Organization, profile: PointProfile
) -> None:
    """A client retrying a batch once grew the open quarantine with every retry."""
    rows = [
        *readings(date(YEAR, 2, 1), 2, 10.0),
        {"point": COAL, "ts": "yesterday", "value": 1},
        {"point": COAL, "ts": f"{YEAR}-02-01T05:00", "value": 1000},
        {"point": COAL, "ts": f"{YEAR}-02-01T05:00", "value": 1000},  # the same bad row twice: two rows
    ]
    first = as_user("clerk_a").post("/api/readings/batch", {"organization": org_a.pk, "rows": rows})
    assert first.status_code == 201
    ids = sorted(e["quarantined"] for e in first.json()["exceptions"] if e["fate"] == "quarantined")
    assert len(ids) == 3 and QuarantinedRow.objects.count() == 3
    for attempt in range(2):
        again = as_user("clerk_a").post(
            "/api/readings/batch", {"organization": org_a.pk, "rows": rows, "filename": f"retry {attempt}"}
        )
        assert again.status_code == 201
        body = again.json()
        assert body["rows_quarantined"] == 3 and body["rows_duplicate"] == 2
        assert sorted(e["quarantined"] for e in body["exceptions"] if e["fate"] == "quarantined") == ids
    assert QuarantinedRow.objects.count() == 3
    listed = as_user("clerk_a").get(f"/api/readings/quarantine?organization={org_a.pk}")
    assert sorted(r["id"] for r in listed.json()["items"]) == ids


def test_a_schema_valid_batch_of_10000_rows_over_2_5_mb_is_accepted(
    as_user: Any, org_a: Organization, profile: PointProfile
) -> None:
    """Django's 2.5 MB default body limit answered such a batch with a 500."""
    from carbonmeter.web.api.routes_readings import MAX_ROWS

    start = datetime(YEAR, 3, 1)
    note = "化验室" * 30  # a long laboratory cell: the body is about 3 MB
    rows = [
        {"point": COAL, "ts": (start + timedelta(minutes=m)).isoformat(), "value": 1.5, "unit": "t",
         "quantity": "consumption_mass", "laboratory": note}
        for m in range(MAX_ROWS)
    ]  # fmt: skip
    body = {"organization": org_a.pk, "rows": rows}
    assert len(json.dumps(body, ensure_ascii=False).encode()) > 2_621_440
    response = as_user("clerk_a").client.post(
        "/api/readings/batch",
        json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
        headers=as_user("clerk_a").headers(),
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["rows_accepted"] == MAX_ROWS


def test_a_body_over_the_documented_limit_is_413_json(as_user: Any, org_a: Organization) -> None:
    from carbonmeter.web.api.routes_readings import MAX_BODY_BYTES

    client = as_user("clerk_a")
    huge = b'{"organization": 1, "rows": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = client.client.post(
        "/api/readings/batch", huge, content_type="application/json", headers=client.headers()
    )
    assert response.status_code == 413
    assert "25,644,096 bytes" in response.json()["detail"]
    # Any other route keeps Django's 2.5 MB, now answered 413 in JSON rather than a 500.
    big = json.dumps({"organization": org_a.pk, "code": "X", "name": "n" * 3_000_000})
    other = client.client.post(
        "/api/instruments", big, content_type="application/json", headers=client.headers()
    )
    assert other.status_code == 413 and "bytes" in other.json()["detail"]
    assert not IngestRun.objects.exists()
