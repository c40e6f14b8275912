"""The metrology pages: the verification plan groups what the database says falls due, bulk entry writes one
attributed record per instrument (and only for those who may write), the monitoring plan shows each point's
instruments.  Today is the real date, so expectations are computed from the rows, never written down."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbonmeter.core.traceability import due_date, state, trace, valid_until_from_interval
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.metrology.services import calibration_plan, record_results
from carbonmeter.web.registry.models import Instrument, Organization
from tests.web.conftest import login


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def expected_groups(org: Organization, today: date) -> dict[str, set[str]]:
    """The plan worked out the slow way, instrument by instrument, from the same rows: the core's state,
    then the traceable ones by display band (0–30, 31–60, 61–90 days, later)."""
    horizon = load_pack(org.pack_ref).settings.verification_due_soon_days.value
    keys = ("failed", "expired", "within_30", "within_60", "within_90", "later", "never")
    out: dict[str, set[str]] = {k: set() for k in keys}
    for inst in Instrument.objects.filter(organization=org, status__in=["in_use", "standby"], archived=False):
        t = trace(list(Calibration.objects.filter(instrument=inst, archived=False)), today)
        value = state(t, today, horizon)
        if value in ("failed", "expired", "never"):
            out[value].add(inst.code)
            continue
        until = due_date(t)
        assert until is not None
        days = (until - today).days
        band = (
            "within_30"
            if days <= 30
            else "within_60"
            if days <= 60
            else "within_90"
            if days <= 90
            else "later"
        )
        out[band].add(inst.code)
    return out


def shown_groups(response: Any) -> dict[str, set[str]]:
    return {g.key: {i.code for i in g.items} for g in response.context["plan"].groups}


def test_plan_groups_hold_the_instruments_the_records_say(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    today = timezone.localdate()
    expected = expected_groups(org_a, today)
    assert expected["expired"] and expected["later"]  # the expectation is not trivially empty
    response = login(client, users["officer_a"]).get("/calibration/plan/")
    assert response.status_code == 200
    assert shown_groups(response) == expected
    html = response.content.decode()
    some_overdue = sorted(expected["expired"])[0]
    assert f'data-code="{some_overdue}"' in html
    assert f'value="{some_overdue}"' in html  # a write role gets checkboxes
    b_codes = set(Instrument.objects.filter(organization=org_b).values_list("code", flat=True))
    assert not b_codes & set().union(*shown_groups(response).values())
    scrapped = Instrument.objects.filter(organization=org_a, status="scrapped").values_list("code", flat=True)
    assert not set(scrapped) & set().union(*shown_groups(response).values())


def test_plan_month_filter_keeps_what_falls_due_that_month(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    today = timezone.localdate()
    future = [
        i.valid_until
        for i in calibration_plan(users["officer_a"], org_a, today).groups[-2].items  # "later"
        if i.valid_until
    ]
    month = min(future)
    response = login(client, users["officer_a"]).get("/calibration/plan/", {"month": month.strftime("%Y-%m")})
    items = [i for g in response.context["plan"].groups for i in g.items]
    expected = {c for codes in expected_groups(org_a, today).values() for c in codes} & {
        i.code
        for i in Instrument.objects.filter(organization=org_a)
        if (v := _last_pass_valid_until(i)) and (v.year, v.month) == (month.year, month.month)
    }
    assert items and {i.code for i in items} == expected
    assert all((i.valid_until.year, i.valid_until.month) == (month.year, month.month) for i in items)


def _last_pass_valid_until(inst: Instrument) -> date | None:
    records = list(Calibration.objects.filter(instrument=inst, archived=False))
    return due_date(trace(records, timezone.localdate()))


def test_plan_bad_month_is_a_field_error_not_a_crash(client: Client, users: dict[str, Any]) -> None:
    response = login(client, users["officer_a"]).get("/calibration/plan/", {"month": "2026-13"})
    assert response.status_code == 200
    assert "月份格式应为 YYYY-MM" in response.content.decode()
    assert response.context["plan"].month is None


def test_plan_costs_the_same_few_queries_however_many_instruments(
    users: dict[str, Any], org_a: Organization, django_assert_max_num_queries: Any
) -> None:
    assert Instrument.objects.filter(organization=org_a).count() > 100
    with django_assert_max_num_queries(4):
        plan = calibration_plan(users["officer_a"], org_a, timezone.localdate())
    assert plan.total > 100


def test_verifier_sees_the_plan_without_checkboxes(client: Client, users: dict[str, Any]) -> None:
    response = login(client, users["verifier_a"]).get("/calibration/plan/")
    assert response.status_code == 200
    assert response.context["may_record"] is False
    assert 'name="instrument"' not in response.content.decode()


def _record_post(codes: list[str], **over: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "shown": codes,
        "instruments": codes,
        "kind": "verification",
        "date": today.isoformat(),
        "result": "pass",
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "certificate_no": "BATCH-001",
        "agency": "重庆市计量质量检测研究院",
        "reason": "2026年度周期检定",
    }
    return data | over


def test_bulk_record_writes_one_attributed_calibration_per_instrument(
    client: Client, users: dict[str, Any], org_a: Organization, media: Path
) -> None:
    codes = ["WB-03", "L2-04", "KS-05"]
    before = Calibration.objects.count()
    data = _record_post(codes) | {
        "certificate_file": SimpleUploadedFile("batch.pdf", b"%PDF-1.4 batch"),
        "row-L2-04-certificate_no": "OWN-L2-04",
    }
    response = login(client, users["clerk_a"]).post("/calibration/record/", data, follow=True)
    assert response.status_code == 200
    assert Calibration.objects.count() == before + 3
    rows = {
        c.instrument.code: c
        for c in Calibration.objects.filter(certificate_no__in=["BATCH-001", "OWN-L2-04"])
    }
    assert set(rows) == set(codes)
    assert rows["L2-04"].certificate_no == "OWN-L2-04" and rows["WB-03"].certificate_no == "BATCH-001"
    for c in rows.values():
        assert c.date == timezone.localdate() and c.result == "pass"
        first = c.history.first()
        assert first is not None
        assert first.history_change_reason == "2026年度周期检定"
        assert first.history_user == users["clerk_a"]
    # the shared certificate is stored once and referenced by each record
    assert len({c.certificate_file.name for c in rows.values()}) == 1
    assert (media / rows["WB-03"].certificate_file.name).read_bytes() == b"%PDF-1.4 batch"
    message = " ".join(str(m) for m in response.context["messages"])
    assert all(code in message for code in codes)


def test_bulk_record_form_preselects_what_the_plan_ticked(client: Client, users: dict[str, Any]) -> None:
    response = login(client, users["officer_a"]).get(
        "/calibration/record/", {"instrument": ["WB-03", "KS-05"]}
    )
    assert response.status_code == 200
    assert [i.code for i, _no, _file in response.context["form"].rows] == ["WB-03", "KS-05"]
    assert 'name="row-WB-03-certificate_no"' in response.content.decode()


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq"])
def test_bulk_record_is_refused_to_read_only_roles(
    client: Client, users: dict[str, Any], org_a: Organization, role: str
) -> None:
    before = Calibration.objects.count()
    login(client, users[role])
    assert client.get("/calibration/record/").status_code == 403
    assert client.post("/calibration/record/", _record_post(["WB-03"])).status_code == 403
    assert Calibration.objects.count() == before
    with pytest.raises(PermissionDenied):
        record_results(
            users[role],
            org_a,
            ["WB-03"],
            kind="verification",
            on=date(2026, 1, 1),
            result="fail",
            valid_until=None,
            reason="x",
        )


def test_bulk_record_refuses_another_organizations_instruments(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    b_code = Instrument.objects.filter(organization=org_b).values_list("code", flat=True).first()
    assert b_code and not Instrument.objects.filter(organization=org_a, code=b_code).exists()
    before = Calibration.objects.count()
    response = login(client, users["officer_a"]).post("/calibration/record/", _record_post(["WB-03", b_code]))
    assert response.status_code == 200
    assert f"不是本单位的器具：{b_code}" in response.content.decode()
    assert Calibration.objects.count() == before
    with pytest.raises(ValidationError) as exc:
        record_results(
            users["officer_a"],
            org_a,
            ["WB-03", b_code],
            kind="verification",
            on=date(2026, 1, 1),
            result="pass",
            valid_until=date(2027, 1, 1),
            reason="x",
        )
    assert b_code in str(exc.value)
    assert Calibration.objects.count() == before


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"valid_until": "2020-01-01"}, "有效期不能早于检定/校准日期"),
        ({"reason": ""}, "请填写变更原因"),
        ({"instruments": []}, "请至少选择一台器具"),
    ],
)
def test_bulk_record_says_in_chinese_what_is_wrong_and_writes_nothing(
    client: Client, users: dict[str, Any], over: dict[str, Any], message: str
) -> None:
    before = Calibration.objects.count()
    response = login(client, users["officer_a"]).post("/calibration/record/", _record_post(["WB-03"], **over))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Calibration.objects.count() == before


def test_a_pass_without_validity_is_valid_for_the_instruments_interval(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """有效期至 left blank: each instrument's own interval (``interval_months``) gives it."""
    on = timezone.localdate()
    ks05, wb03 = (Instrument.objects.get(organization=org_a, code=c) for c in ("KS-05", "WB-03"))
    Instrument.objects.filter(pk=ks05.pk).update(interval_months=6)
    Instrument.objects.filter(pk=wb03.pk).update(interval_months=12)
    response = login(client, users["officer_a"]).post(
        "/calibration/record/", _record_post(["KS-05", "WB-03"], date=on.isoformat(), valid_until="")
    )
    assert response.status_code == 302
    got = {
        c.instrument.code: c.valid_until
        for c in Calibration.objects.filter(instrument__in=[ks05, wb03], date=on).select_related("instrument")
    }
    assert got == {"KS-05": valid_until_from_interval(on, 6), "WB-03": valid_until_from_interval(on, 12)}


def test_a_pass_without_validity_or_interval_is_refused_by_form_and_service(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    Instrument.objects.filter(organization=org_a, code="WB-03").update(interval_months=None)
    before = Calibration.objects.count()
    response = login(client, users["officer_a"]).post(
        "/calibration/record/", _record_post(["WB-03"], valid_until="")
    )
    assert response.status_code == 200
    assert "合格记录须填写有效期至（未登记检定周期：WB-03）" in response.content.decode()
    with pytest.raises(ValidationError) as exc:
        record_results(
            users["officer_a"],
            org_a,
            ["WB-03"],
            kind="verification",
            on=date(2026, 1, 1),
            result="pass",
            valid_until=None,
            reason="x",
        )
    assert "WB-03" in str(exc.value)
    assert Calibration.objects.count() == before


def test_valid_until_from_interval_is_the_day_before_the_same_date_later() -> None:
    assert valid_until_from_interval(date(2026, 1, 15), 12) == date(2027, 1, 14)
    assert valid_until_from_interval(date(2026, 1, 31), 1) == date(2026, 2, 27)
    assert valid_until_from_interval(date(2024, 2, 29), 12) == date(2025, 2, 27)
    assert valid_until_from_interval(date(2026, 11, 30), 14) == date(2028, 1, 29)
    with pytest.raises(ValueError, match="positive"):
        valid_until_from_interval(date(2026, 1, 1), 0)


def test_a_failed_result_needs_no_validity(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    response = login(client, users["officer_a"]).post(
        "/calibration/record/", _record_post(["KS-05"], result="fail", valid_until="")
    )
    assert response.status_code == 302
    last = Calibration.objects.filter(instrument__organization=org_a, instrument__code="KS-05").latest("id")
    assert last.result == "fail" and last.valid_until is None


def test_streams_page_lists_points_with_their_instruments_and_the_latest_category(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["verifier_a"])
    html = client.get("/streams/").content.decode()
    assert 'id="stream-S07"' in html and 'data-point="P07.1"' in html
    row = html.split('data-point="P07.1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-instrument="WB-03"' in row
    assert "data-category" not in html  # no run yet: no category
    run_assessment(org_a, timezone.localdate(), users["officer_a"])
    response = client.get("/streams/")
    html = response.content.decode()
    categories = {s["id"]: s["category"] for s in response.context["plan"].run.document["streams"]}
    section = html.split('id="stream-S07"', 1)[1].split("</section>", 1)[0]
    assert f'data-category="{categories["S07"]}"' in section
    row = section.split('data-point="P07.1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-trace="expired"' in row  # WB-03's verification has run out


def test_plan_and_streams_link_every_instrument_to_its_page(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: from the plan and the streams page the reader goes on to the instrument."""
    login(client, users["officer_a"])
    plan = client.get("/calibration/plan/")
    listed = {i.code for g in plan.context["plan"].groups for i in g.items}
    assert listed
    html = plan.content.decode()
    for code in listed:
        assert f'<a href="{reverse("instrument_detail", args=[code])}">{code}</a>' in html, code
    html = client.get("/streams/").content.decode()
    row = html.split('data-point="P07.1"', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="{reverse("instrument_detail", args=["WB-03"])}">WB-03 ' in row


def test_streams_page_names_parameters_and_purposes_instead_of_codes(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: 消耗量 and the Table A.3 row's title, not ``consumption`` and ``weighing_dynamic``."""
    login(client, users["officer_a"])
    html = client.get("/streams/").content.decode()
    row = html.split('data-point="P01.1"', 1)[1].split("</tr>", 1)[0]
    assert "<td>消耗量</td>" in row and "动态衡器（电子皮带秤）" in row
    assert "consumption" not in row and "weighing_dynamic" not in row
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    row = client.get("/streams/").content.decode().split('data-point="P01.1"', 1)[1].split("</tr>", 1)[0]
    assert "<td>Consumption</td>" in row and "Dynamic weighing (belt scale)" in row


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_date_and_month_inputs_show_iso_dates_in_both_languages(
    client: Client, users: dict[str, Any], language: str
) -> None:
    """Issue 9: the browser's own date/month controls show its locale's format (or a blank "--------- ----");
    the inputs are ISO text fields, filled in ISO, whatever the page's language."""
    login(client, users["officer_a"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    today = timezone.localdate()
    month = today.strftime("%Y-%m")
    pages = {
        f"/calibration/plan/?month={month}": ("month", month),
        "/calibration/record/?instrument=WB-03": ("date", today.isoformat()),
        "/readings/quality/": ("month", None),
    }
    for url, (name, value) in pages.items():
        html = client.get(url).content.decode()
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag is not None, url
        assert 'type="text"' in tag.group(0), (url, tag.group(0))
        pattern = r"\d{4}-\d{2}-\d{2}" if name == "date" else r"\d{4}-\d{2}"
        assert f'pattern="{pattern}"' in tag.group(0), (url, tag.group(0))
        shown = re.search(r'value="([^"]*)"', tag.group(0))
        assert shown is not None and re.fullmatch(pattern, shown.group(1)), (url, tag.group(0))
        if value:
            assert shown.group(1) == value


def test_pages_need_a_login(client: Client, org_a: Organization) -> None:
    for url in ("/calibration/plan/", "/calibration/record/", "/streams/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_failed_recheck_puts_a_still_valid_instrument_among_the_failed(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    today = timezone.localdate()
    code = sorted(expected_groups(org_a, today)["later"])[0]
    login(client, users["officer_a"])
    response = client.post(
        "/calibration/record/", _record_post([code], result="fail", valid_until="", reason="复检不合格")
    )
    assert response.status_code == 302
    plan = client.get("/calibration/plan/").context["plan"]
    overdue = {i.code: i for g in plan.groups if g.key == "failed" for i in g.items}
    assert code in overdue and overdue[code].voided and overdue[code].state == "failed"
    assert overdue[code].valid_until and overdue[code].valid_until > today  # the old certificate still runs
    assert shown_groups(client.get("/calibration/plan/")) == expected_groups(org_a, today)


def test_recording_a_verification_re_assesses_so_the_dashboard_rate_moves(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """The walk-through of issue 3: find an overdue scale, record its verification, watch the rate change."""
    from carbonmeter.web.assessment.models import AssessmentRun

    before = run_assessment(org_a, timezone.localdate(), users["admin_a"])
    rate_before = {r["row"]: r["equipped"] for r in before.document["equipping"]}
    login(client, users["officer_a"]).post("/calibration/record/", _record_post(["WB-03"]), follow=True)
    latest = AssessmentRun.objects.filter(organization=org_a).order_by("-created_at", "-pk").first()
    assert latest is not None and latest.pk != before.pk
    rate_after = {r["row"]: r["equipped"] for r in latest.document["equipping"]}
    assert rate_after["calculation.minor.activity_data"] == rate_before["calculation.minor.activity_data"] + 1
    dashboard = client.get("/").content.decode()
    assert str(latest.as_of) in dashboard
