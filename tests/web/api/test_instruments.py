"""The register through the API: paging and search, adding, and changing with a reason kept in the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from carbonmeter.core.traceability import TRACEABLE_STATES, state, trace
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.api.pagination import MAX_LIMIT
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.metrology.services import calibration_plan
from carbonmeter.web.registry import queries
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization
from carbonmeter.web.registry.queries import RegisterFilter


def _first(org: Organization) -> Instrument:
    inst = Instrument.objects.filter(organization=org, archived=False).order_by("code").first()
    assert inst is not None
    return inst


def test_pages_cover_the_register_once(as_user: Any, org_a: Organization) -> None:
    a = as_user("officer_a")
    total = Instrument.objects.filter(organization=org_a, archived=False).count()
    first = a.get("/api/instruments", organization=org_a.pk, limit=10).json()
    assert first["count"] == total > 10
    assert len(first["items"]) == 10
    seen: list[int] = []
    for offset in range(0, total, MAX_LIMIT):
        page = a.get("/api/instruments", organization=org_a.pk, limit=MAX_LIMIT, offset=offset).json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == len(set(seen)) == total
    assert a.get("/api/instruments", limit=MAX_LIMIT + 1).status_code == 422
    assert a.get("/api/instruments", limit=0).status_code == 422


def test_filter_by_status_and_search(as_user: Any, org_a: Organization) -> None:
    a = as_user("officer_a")
    standby = a.get("/api/instruments", status="standby", limit=MAX_LIMIT).json()
    assert standby["count"] == Instrument.objects.filter(organization=org_a, status="standby").count()
    assert {i["status"] for i in standby["items"]} <= {"standby"}
    inst = _first(org_a)
    found = a.get("/api/instruments", q=inst.serial_no).json()
    assert inst.pk in {i["id"] for i in found["items"]}
    assert a.get("/api/instruments", status="broken").status_code == 422
    nul = a.get("/api/instruments", q="a\x00b")  # PostgreSQL would refuse the query: a 500 without the check
    assert nul.status_code == 422
    assert "NUL" in nul.json()["detail"][0]["msg"]


def test_instrument_shows_its_points(as_user: Any, org_a: Organization) -> None:
    inst = Instrument.objects.filter(organization=org_a, points__isnull=False).first()
    assert inst is not None
    body = as_user("verifier_a").get(f"/api/instruments/{inst.pk}").json()
    assert body["code"] == inst.code
    assert body["points"] == sorted(inst.points.values_list("pk", flat=True))


def test_officer_adds_an_instrument(as_user: Any, org_a: Organization) -> None:
    point = MeasuringPoint.objects.filter(organization=org_a).first()
    assert point is not None
    body = {
        "organization": org_a.pk,
        "code": "API-1",
        "name": "电子皮带秤",
        "accuracy_class": "0.5",
        "points": [point.pk],
    }
    response = as_user("officer_a").post("/api/instruments", body)
    assert response.status_code == 201, response.content
    inst = Instrument.objects.get(organization=org_a, code="API-1")
    assert response.json()["id"] == inst.pk
    assert list(inst.points.all()) == [point]
    assert inst.history.first().history_change_reason == "经 API 创建"  # type: ignore[union-attr]
    duplicate = as_user("officer_a").post("/api/instruments", body)
    assert duplicate.status_code == 422
    assert any(p["loc"][-1] in ("__all__", "code") for p in duplicate.json()["detail"])


def test_points_of_another_organization_are_refused(
    as_user: Any, org_a: Organization, org_b: Organization
) -> None:
    foreign = MeasuringPoint.objects.filter(organization=org_b).first()
    assert foreign is not None
    body = {"organization": org_a.pk, "code": "API-2", "points": [foreign.pk]}
    response = as_user("officer_a").post("/api/instruments", body)
    assert response.status_code == 422
    assert "points" in str(response.json())
    assert not Instrument.objects.filter(code="API-2").exists()


def test_change_records_the_reason_and_the_user(
    as_user: Any, users: dict[str, Any], org_a: Organization
) -> None:
    inst = _first(org_a)
    response = as_user("officer_a").patch(
        f"/api/instruments/{inst.pk}", {"status": "stopped", "reason": "停用：传感器故障"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "stopped"
    inst.refresh_from_db()
    assert inst.status == "stopped"
    latest = inst.history.first()
    assert latest is not None
    assert latest.history_change_reason == "停用：传感器故障"
    assert latest.history_user == users["officer_a"]


def test_change_leaves_unsent_fields_alone(as_user: Any, org_a: Organization) -> None:
    inst = _first(org_a)
    before = as_user("officer_a").get(f"/api/instruments/{inst.pk}").json()
    after = as_user("officer_a").patch(
        f"/api/instruments/{inst.pk}", {"location": "2#窑头", "reason": "moved"}
    )
    changed = {k for k in before if before[k] != after.json()[k]}
    assert changed == {"location", "updated_at"}


@pytest.mark.parametrize(
    "body",
    [
        {"status": "stopped"},  # no reason
        {"status": "stopped", "reason": "   "},  # a blank one
        {"status": "stopped", "reason": "x" * 101},  # longer than the history keeps
        {"status": "broken", "reason": "typo"},  # not a contract status
        {"statuss": "stopped", "reason": "typo"},  # an unknown field
        {"name": None, "reason": "null"},  # a field that cannot be empty-valued
    ],
)
def test_change_refuses_bad_bodies(as_user: Any, org_a: Organization, body: dict[str, Any]) -> None:
    inst = _first(org_a)
    response = as_user("officer_a").patch(f"/api/instruments/{inst.pk}", body)
    assert response.status_code == 422, response.content
    inst.refresh_from_db()
    assert inst.status != "stopped"


@pytest.mark.parametrize("user", ["verifier_a", "regulator_cq", "clerk_a"])
def test_readers_and_clerks_may_not_change_the_register(as_user: Any, org_a: Organization, user: str) -> None:
    inst = _first(org_a)
    api = as_user(user)
    assert api.get(f"/api/instruments/{inst.pk}").status_code == 200
    assert api.patch(f"/api/instruments/{inst.pk}", {"status": "stopped", "reason": "x"}).status_code == 403
    assert api.post("/api/instruments", {"organization": org_a.pk, "code": "NOPE"}).status_code == 403
    inst.refresh_from_db()
    assert inst.status != "stopped"
    assert not Instrument.objects.filter(code="NOPE").exists()


def test_other_organizations_cannot_tell_the_instrument_exists(as_user: Any, org_a: Organization) -> None:
    inst = _first(org_a)
    b = as_user("admin_b")
    assert b.patch(f"/api/instruments/{inst.pk}", {"status": "stopped", "reason": "x"}).status_code == 404
    assert b.post("/api/instruments", {"organization": org_a.pk, "code": "NOPE"}).status_code == 404


def test_a_change_that_changes_nothing_writes_no_history(as_user: Any, org_a: Organization) -> None:
    inst = _first(org_a)
    before = inst.history.count()
    response = as_user("officer_a").patch(
        f"/api/instruments/{inst.pk}", {"status": inst.status, "reason": "same"}
    )
    assert response.status_code == 200
    assert inst.history.count() == before


def test_every_instrument_reads_the_same_state_on_every_page_and_in_the_api(
    as_user: Any, org_a: Organization, users: dict[str, Any]
) -> None:
    """Issue 9: the demo's L2-04 read 已过期 on the register, 复检不合格 on the plan, 停用 on its label.
    Now the API, the register, the instrument page, the plan and the label all give each instrument the
    core's state (and the label is derived from it)."""
    today = timezone.localdate()
    horizon = load_pack(org_a.pack_ref).settings.verification_due_soon_days.value
    officer = users["officer_a"]
    # A failure after a still-running pass (the L2-04 case) and a record dated after today.
    voided, booked = Instrument.objects.filter(organization=org_a, status="in_use").order_by("code")[:2]
    for inst, on, until, result in (
        (voided, today - timedelta(days=1), None, "fail"),
        (booked, today + timedelta(days=5), today + timedelta(days=370), "pass"),
    ):
        row = Calibration(instrument=inst, kind="verification", date=on, valid_until=until, result=result)
        row._change_reason = "test"
        row.save()
    core = {
        i.code: state(
            trace(list(Calibration.objects.filter(instrument=i, archived=False)), today), today, horizon
        )
        for i in Instrument.objects.filter(organization=org_a, archived=False)
    }
    assert core[voided.code] == "failed" and len(set(core.values())) >= 4
    api = {
        i["code"]: i["state"]
        for i in as_user("officer_a")
        .get("/api/instruments", organization=org_a.pk, limit=MAX_LIMIT)
        .json()["items"]
    }
    api |= {
        i["code"]: i["state"]
        for i in as_user("officer_a")
        .get("/api/instruments", organization=org_a.pk, limit=MAX_LIMIT, offset=MAX_LIMIT)
        .json()["items"]
    }
    register = {i.code: i.state for i in queries.register(officer, org_a, RegisterFilter(), today)}
    plan = {i.code: i.state for g in calibration_plan(officer, org_a, today).groups for i in g.items}
    assert api == register == core
    assert plan == {c: s for c, s in core.items() if c in plan} and voided.code in plan
    for inst in (voided, booked):
        assert queries.instrument_page(officer, inst, today).standing.state == core[inst.code]
        label = queries.instrument_label(officer, inst, today)
        assert (label.state == "stopped") == (
            core[inst.code] not in TRACEABLE_STATES or inst.status != "in_use"
        )
    one = as_user("officer_a").get(f"/api/instruments/{voided.pk}").json()
    assert (one["state"], one["valid_until"]) == (
        "failed",
        register_until(officer, org_a, voided.code, today),
    )


def register_until(user: Any, org: Organization, code: str, today: Any) -> str | None:
    row: Any = queries.register(user, org, RegisterFilter(q=code), today).get(code=code)
    return row.valid_until.isoformat() if row.valid_until else None
