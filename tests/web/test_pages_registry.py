"""The registry pages: dashboard, register (Table B.1), instrument page, label, organization switch, login.

Organization A is the demo cement plant (169 instruments), B the small other plant.  "Today" is the real
date, so every expectation about validity is worked out from the calibration rows the slow way (one
instrument at a time, in Python) and compared with what the page shows, never written down as a number.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carbonmeter.core.traceability import STATES, state, trace
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.accounts.current import SESSION_KEY
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import queries, validity
from carbonmeter.web.registry.models import (
    Attachment,
    Component,
    Instrument,
    Organization,
    SealEvent,
)
from carbonmeter.web.registry.views import qr_content
from tests.web.conftest import login

STATIC = Path(__file__).parents[2] / "src" / "carbonmeter" / "web" / "static"
TEMPLATES = Path(__file__).parents[2] / "src" / "carbonmeter" / "web" / "templates"
CODES = re.compile(r'<tr data-code="([^"]+)"')


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files of these tests go to a temporary directory, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def codes(response: Any) -> list[str]:
    """The instrument codes of the register's rows, in the order shown."""
    return CODES.findall(response.content.decode())


def get_all_codes(client: Client, **params: str) -> list[str]:
    """Every code the register lists for ``params``, walking all its pages."""
    out: list[str] = []
    page = 1
    while True:
        response = client.get(reverse("register"), {**params, "page": str(page)})
        assert response.status_code == 200
        out += codes(response)
        if 'rel="next"' not in response.content.decode():  # the last page (the table may come from the cache)
            return out
        page += 1


def expected_due(
    org: Organization, today: date, statuses: tuple[str, ...] | None = None
) -> dict[str, set[str]]:
    """Each instrument's state, the slow way: its records one by one through the core's rule."""
    horizon = load_pack(org.pack_ref).settings.verification_due_soon_days.value
    out: dict[str, set[str]] = {s: set() for s in STATES}
    instruments = Instrument.objects.filter(organization=org, archived=False)
    if statuses:
        instruments = instruments.filter(status__in=statuses)
    for inst in instruments:
        records = list(Calibration.objects.filter(instrument=inst, archived=False))
        out[state(trace(records, today), today, horizon)].add(inst.code)
    return out


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/instruments/", "/instruments/WB-03/", "/instruments/WB-03/label/", "/org/choose/"],
)
def test_anonymous_users_are_sent_to_the_login_page(client: Client, db: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_the_navbar_menu_answers_a_signed_out_request_with_nothing(client: Client, db: Any) -> None:
    """204, so htmx leaves the navbar alone instead of pasting the login page into it."""
    response = client.get(reverse("org_menu"))
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize("page", ["instrument_detail", "instrument_label"])
def test_a_user_of_b_gets_404_for_an_instrument_of_a(
    client: Client, users: dict[str, Any], page: str
) -> None:
    login(client, users["admin_b"])
    assert client.get(reverse(page, args=["WB-03"])).status_code == 404
    # ... while B's own instrument opens, so the 404 is about scope, not about the page.
    assert client.get(reverse(page, args=["I1"])).status_code == 200


def test_a_user_of_b_never_sees_instruments_of_a_in_the_register(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    login(client, users["admin_b"])
    shown = set(get_all_codes(client))
    assert shown == set(Instrument.objects.filter(organization=org_b).values_list("code", flat=True))
    assert not shown & set(Instrument.objects.filter(organization=org_a).values_list("code", flat=True))
    # Searching for A's instrument does not reach it either.
    assert codes(client.get(reverse("register"), {"q": "WB-03"})) == []


def test_an_expired_verifier_grant_reads_nothing(client: Client, users: dict[str, Any]) -> None:
    login(client, users["expired_verifier"])
    assert client.get(reverse("register")).status_code == 404
    assert client.get(reverse("instrument_detail", args=["WB-03"])).status_code == 404


# --- layout, assets, login ---------------------------------------------------------------------------


def test_vendored_assets_are_local_and_their_versions_recorded() -> None:
    versions = (STATIC / "vendor" / "VERSIONS.txt").read_text(encoding="utf-8")
    for name, package, major in [
        ("htmx.min.js", "htmx.org", "2."),
        ("echarts.min.js", "echarts", "6."),
        ("bootstrap.min.css", "bootstrap", "5."),
        ("bootstrap.bundle.min.js", "bootstrap", "5."),
    ]:
        assert (STATIC / "vendor" / name).stat().st_size > 10_000
        line = next(x for x in versions.splitlines() if x.startswith(name))
        assert line.split()[1:3][0] == package and line.split()[2].startswith(major)
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", base), "no CDN: plant networks are offline"


def test_layout_has_the_navigation_language_switch_and_logout(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    html = client.get(reverse("register")).content.decode()
    for text in ("仪表盘", "计量器具一览表", "检定校准计划", "碳源流与监测计划", "评价", "导入导出"):
        assert text in html
    for href in ('href="/"', 'href="/instruments/"', 'href="/calibration/plan/"', 'href="/streams/"'):
        assert href in html
    assert 'href="/assessments/"' in html and 'href="/transfer/"' in html
    assert f'action="{reverse("set_language")}"' in html and 'value="en"' in html
    assert f'action="{reverse("logout")}"' in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
    assert "/static/vendor/htmx.min.js" in html and "/static/vendor/bootstrap.min.css" in html
    assert reverse("org_menu") in html


def test_the_navbar_menu_lists_readable_organizations_and_the_role(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    login(client, users["officer_a"])
    html = client.get(reverse("org_menu"), {"next": "/instruments/"}).content.decode()
    assert org_a.name in html and org_b.name not in html
    assert "计量管理员" in html
    assert 'name="next" value="/instruments/"' in html
    login(client, users["superuser"])
    html = client.get(reverse("org_menu")).content.decode()
    assert org_a.name in html and org_b.name in html and "超级管理员" in html


def test_login_page_is_in_chinese_and_logs_in(client: Client, users: dict[str, Any]) -> None:
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名" in html and "密码" in html and "登录" in html
    assert 'autocomplete="current-password"' in html
    response = client.post(reverse("login"), {"username": "officer_a", "password": "test-password-123"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_a_failed_login_shows_the_error_in_the_styled_form(client: Client, users: dict[str, Any]) -> None:
    response = client.post(reverse("login"), {"username": "officer_a", "password": "wrong-password"})
    assert response.status_code == 200
    assert 'class="alert alert-danger' in response.content.decode()


# --- organization switch -----------------------------------------------------------------------------


def test_switching_organization_changes_what_the_register_shows(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    login(client, users["superuser"])
    response = client.post(reverse("choose_org"), {"org": org_b.pk, "next": "/instruments/"})
    assert response.status_code == 302 and response["Location"] == "/instruments/"
    assert client.session[SESSION_KEY] == org_b.pk
    assert set(codes(client.get(reverse("register")))) == {"I1", "I2", "I3", "I4", "I5", "I6"}
    client.post(reverse("choose_org"), {"org": org_a.pk})
    assert "WB-03" in get_all_codes(client)


def test_switching_to_an_unreadable_organization_is_refused(
    client: Client, users: dict[str, Any], org_b: Organization
) -> None:
    login(client, users["officer_a"])
    assert client.post(reverse("choose_org"), {"org": org_b.pk}).status_code == 404
    assert SESSION_KEY not in client.session


def test_switching_never_redirects_off_site(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    response = client.post(reverse("choose_org"), {"org": org_a.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_the_switch_page_works_without_javascript(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    login(client, users["regulator_cq"])
    html = client.get(reverse("choose_org")).content.decode()
    assert org_a.name in html and org_b.name not in html  # B is in another region


# --- dashboard ---------------------------------------------------------------------------------------


def test_dashboard_runs_a_first_assessment_and_shows_its_rates_and_findings(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    assert not AssessmentRun.objects.filter(organization=org_a).exists()
    login(client, users["officer_a"])
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    run = AssessmentRun.objects.get(organization=org_a)
    assert run.created_by == users["officer_a"]
    html = response.content.decode()
    assert org_a.name in html
    equipping = run.document["equipping"]
    data = re.search(r'<script id="rate-data" type="application/json">(.*?)</script>', html, re.S)
    assert data is not None
    chart = json.loads(data[1])
    assert len(chart["labels"]) == len(equipping) == 9
    for row, rate in zip(equipping, chart["rate"], strict=True):
        assert rate == (None if row["required"] == 0 else round(row["rate"] * 100, 1))
    assert "主要源流·活动数据" in chart["labels"]
    # Findings counted by clause, each clause with its title from the pack.
    by_clause: dict[str, int] = {}
    for f in run.document["findings"]:
        by_clause[f["clause"]] = by_clause.get(f["clause"], 0) + 1
    shown = {c.clause: c.nonconformities + c.observations for c in response.context["board"].clauses}
    assert shown == by_clause and shown
    titles = load_pack(run.pack_id).clauses
    for clause in by_clause:
        assert re.search(
            rf'<tr data-clause="{re.escape(clause)}">\s*<td[^>]*><a [^>]*>{re.escape(clause)}</a></td>\s*'
            rf"<td>{re.escape(titles[clause].zh)}</td>",
            html,
        )
    assert "/static/vendor/echarts.min.js" in html
    # A second visit shows the same run rather than running another.
    client.get(reverse("dashboard"))
    assert AssessmentRun.objects.filter(organization=org_a).count() == 1


def test_dashboard_rows_with_nothing_required_show_a_dash(
    client: Client, users: dict[str, Any], org_b: Organization
) -> None:
    login(client, users["admin_b"])
    response = client.get(reverse("dashboard"))
    rates = response.context["board"].rates
    empty = [r for r in rates if r.required == 0]
    assert empty, "the small plant has Table A.1 rows with nothing required"
    assert all(r.rate_pct is None for r in empty)
    html = response.content.decode()
    row = re.search(rf'<tr data-row="{empty[0].row}">(.*?)</tr>', html, re.S)
    assert row is not None and "—" in row[1] and "%" not in row[1].split("</td>")[2]


def test_dashboard_due_counts_match_the_records_and_link_to_the_register(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    today = timezone.localdate()
    response = client.get(reverse("dashboard"))
    expected = expected_due(org_a, today, statuses=("in_use",))
    assert response.context["board"].due == {k: len(expected[k]) for k in queries.DUE_CARD_STATES}
    html = response.content.decode()
    for value in queries.DUE_CARD_STATES:
        assert f'href="/instruments/?status=in_use&amp;due={value}"' in html
        # The link leads to exactly the instruments counted.
        assert set(get_all_codes(client, status="in_use", due=value)) == expected[value]


def test_a_verifier_does_not_record_an_assessment_by_looking(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["verifier_a"])
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert not AssessmentRun.objects.filter(organization=org_a).exists()
    assert "尚未进行评价" in response.content.decode()
    expected = expected_due(org_a, timezone.localdate(), statuses=("in_use",))
    assert response.context["board"].due == {k: len(expected[k]) for k in queries.DUE_CARD_STATES}


# --- register ----------------------------------------------------------------------------------------


def test_register_shows_table_b1_columns_and_50_rows_a_page(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    response = client.get(reverse("register"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    for heading in (
        "编号",
        "器具名称",
        "型号规格",
        "准确度等级",
        "测量范围",
        "生产厂家",
        "出厂编号",
        "管理编号",
        "安装使用地点",
        "计量点",
        "状态",
        "有效期至",
    ):
        assert f">{heading}</a>" in html
    all_codes = list(
        Instrument.objects.filter(organization=org_a).order_by("code", "pk").values_list("code", flat=True)
    )
    assert codes(response) == all_codes[:50]
    assert "共 169 台器具" in html
    assert codes(client.get(reverse("register"), {"page": "4"})) == all_codes[150:]
    assert codes(client.get(reverse("register"), {"page": "999"})) == all_codes[150:]  # last page
    assert get_all_codes(client) == all_codes


def test_register_row_shows_the_b1_fields_points_and_validity(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    html = client.get(reverse("register"), {"q": "WB-03"}).content.decode()
    row = re.search(r'<tr data-code="WB-03">(.*?)</tr>', html, re.S)
    assert row is not None
    for value in (
        "3#辅料电子汽车衡",
        "SCS-100",
        "III",
        "0–100 t（e=20 kg）",
        "宁波柯力传感科技股份有限公司",
        "KL2017790547",
        "CM-JL-0049",
        "3#地磅房（辅料进厂、窑灰外运）",
        "P07.1",
        "在用",
        "2025-12-09",
    ):
        assert value in row[1]
    assert "已过期" in row[1]  # expired 2025-12-09, and the tests run later than that


#: (GET parameters, the ORM lookup that selects the same instruments).
FILTERS: list[tuple[dict[str, str], dict[str, str]]] = [
    ({"status": "standby"}, {"status": "standby"}),
    ({"status": "scrapped"}, {"status": "scrapped"}),
    ({"type": "truck_scale"}, {"type": "truck_scale"}),
    ({"q": "柯力"}, {"manufacturer__contains": "柯力"}),
    ({"q": "CM-JL-0049"}, {"asset_no": "CM-JL-0049"}),
    ({"q": "KL2017790547"}, {"serial_no": "KL2017790547"}),
    ({"q": "地磅房"}, {"location__contains": "地磅房"}),
    ({"q": "SCS"}, {"model__contains": "SCS"}),
    ({"q": "wb-0"}, {"code__istartswith": "WB-0"}),
]


def test_register_filters_and_search_return_the_matching_rows(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    for params, lookup in FILTERS:
        expected = set(Instrument.objects.filter(organization=org_a, **lookup).values_list("code", flat=True))
        assert expected, f"{params} must select something in the demo"
        assert set(get_all_codes(client, **params)) == expected, params


def test_register_search_terms_must_all_match(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    # WB-03 (3#辅料电子汽车衡) and the scrapped WB-08 (原3#机械式汽车衡) have both terms in their name.
    assert set(get_all_codes(client, q="汽车衡 3#")) == {"WB-03", "WB-08"}
    assert set(get_all_codes(client, q="汽车衡 3# 柯力")) == {"WB-03"}  # a third term, in the manufacturer
    assert get_all_codes(client, q="汽车衡 no-such-thing") == []


def test_register_filters_combine(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    login(client, users["officer_a"])
    shown = set(get_all_codes(client, type="electricity_meter", status="in_use"))
    expected = Instrument.objects.filter(organization=org_a, type="electricity_meter", status="in_use")
    assert shown == set(expected.values_list("code", flat=True)) and shown


def test_register_due_filter_expired_contains_wb03_and_matches_the_records(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    expected = expected_due(org_a, timezone.localdate())
    expired = set(get_all_codes(client, due="expired"))
    assert "WB-03" in expired
    assert expired == expected["expired"]


def test_register_due_states_partition_the_register(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    expected = expected_due(org_a, timezone.localdate())
    seen: set[str] = set()
    for value in STATES:
        shown = set(get_all_codes(client, due=value))
        assert shown == expected[value], value
        assert not shown & seen
        seen |= shown
    assert len(seen) == 169


def test_a_later_failed_record_makes_an_instrument_failed(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """ZJ-01 is valid until 2031; a failed verification after its pass voids that (6.3.7)."""
    login(client, users["officer_a"])
    zj01 = Instrument.objects.get(organization=org_a, code="ZJ-01")
    assert "ZJ-01" not in get_all_codes(client, due="failed")
    fail = Calibration(instrument=zj01, kind="verification", date=timezone.localdate(), result="fail")
    fail._change_reason = "test"
    fail.save()
    assert "ZJ-01" in get_all_codes(client, due="failed")
    html = client.get(reverse("instrument_detail", args=["ZJ-01"])).content.decode()
    assert "复检不合格" in html
    assert "停用" in client.get(reverse("instrument_label", args=["ZJ-01"])).content.decode()


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (-1, None),
        (0, "within_30"),
        (30, "within_30"),
        (31, "within_60"),
        (60, "within_60"),
        (61, "within_90"),
        (90, "within_90"),
        (91, None),
    ],
)
def test_due_bands_at_their_edges(days: int, band: str | None) -> None:
    today = date(2026, 1, 15)
    assert validity.band_of(today + timedelta(days=days), today) == band
    assert validity.band_of(None, today) is None


def test_register_band_filter_shows_traceable_instruments_ending_in_the_band(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    today = timezone.localdate()
    expected = expected_due(org_a, today)
    traceable = expected["valid"] | expected["due_soon"]
    seen: set[str] = set()
    for key, lo, hi in validity.bands():
        shown = set(get_all_codes(client, due=key))
        for code in shown:
            inst = Instrument.objects.get(organization=org_a, code=code)
            t = trace(list(Calibration.objects.filter(instrument=inst, archived=False)), today)
            assert t.record is not None and t.record.valid_until is not None
            assert lo <= (t.record.valid_until - today).days <= hi
        assert shown <= traceable and not shown & seen
        seen |= shown


def test_register_sorts_by_any_whitelisted_column(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    rows = Instrument.objects.filter(organization=org_a)
    # Expected orders come from the database's own collation (SQLite and PostgreSQL differ from Python's).
    by_code = list(rows.order_by("-code").values_list("code", flat=True))
    assert codes(client.get(reverse("register"), {"sort": "-code"})) == by_code[:50]
    by_asset = list(rows.order_by("asset_no", "code", "pk").values_list("code", flat=True))
    assert get_all_codes(client, sort="asset") == by_asset
    by_serial = list(rows.order_by("-serial_no", "code", "pk").values_list("code", flat=True))
    assert get_all_codes(client, sort="-serial") == by_serial
    for key in queries.SORTS:
        for sort in (key, f"-{key}"):
            response = client.get(reverse("register"), {"sort": sort})
            assert response.status_code == 200 and len(codes(response)) == 50, sort


def test_register_sort_by_validity_puts_never_verified_first_then_earliest(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    shown = get_all_codes(client, sort="valid_until")
    page = queries.register(
        users["officer_a"], org_a, queries.RegisterFilter(sort="valid_until"), timezone.localdate()
    )
    validity = {i.code: i.valid_until for i in page}
    keys = [(validity[c] is not None, validity[c] or date.min) for c in shown]
    assert keys == sorted(keys)
    assert shown.index("WB-03") < shown.index("ZJ-01")  # 2025-12-09 before 2031


def test_register_ignores_an_unknown_sort_or_filter_value(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    plain = codes(client.get(reverse("register")))
    assert codes(client.get(reverse("register"), {"sort": "organization__name"})) == plain
    assert codes(client.get(reverse("register"), {"status": "nonsense", "due": "x", "type": "y"})) == plain


def test_register_htmx_request_gets_only_the_table(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    headers = {"HX-Request": "true", "HX-Target": "register-table"}
    response = client.get(reverse("register"), {"type": "truck_scale", "sort": "-code"}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "navbar" not in html and 'id="register-filters"' not in html
    assert "WB-03" in codes(response)
    # The hidden sort field of the filter form follows the table (out-of-band swap).
    assert 'id="id_sort" value="-code" hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]
    # The same URL without htmx (a bookmark, a reload) is the whole page.
    full = client.get(reverse("register"), {"type": "truck_scale", "sort": "-code"})
    assert "<html" in full.content.decode() and codes(full) == codes(response)
    # A history restore by htmx also gets the whole page.
    restore = client.get(reverse("register"), headers={**headers, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_register_links_keep_the_filters_for_htmx(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    html = client.get(reverse("register"), {"status": "in_use", "sort": "name"}).content.decode()
    assert 'hx-target="#register-table"' in html and 'hx-push-url="true"' in html
    assert 'hx-get="?status=in_use&amp;sort=name&amp;page=2"' in html
    assert 'hx-get="?status=in_use&amp;sort=-name"' in html  # the sorted column reverses


def test_register_query_count_does_not_grow_with_the_rows(
    client: Client, users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    login(client, users["officer_a"])
    client.get(reverse("register"))  # session and caches warm
    with django_assert_max_num_queries(12):
        full = client.get(reverse("register"))
    assert len(codes(full)) == 50
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("register"), {"sort": "points"})
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("register"), {"status": "standby"})
    assert len(codes(client.get(reverse("register"), {"status": "standby"}))) == 5
    assert len(many.captured_queries) == len(few.captured_queries)


# --- instrument page ---------------------------------------------------------------------------------


def test_instrument_page_shows_b1_fields_points_and_calibrations_newest_first(
    client: Client, users: dict[str, Any]
) -> None:
    login(client, users["officer_a"])
    response = client.get(reverse("instrument_detail", args=["WB-03"]))
    html = response.content.decode()
    assert response.status_code == 200
    for value in (
        "3#辅料电子汽车衡",
        "电子汽车衡",
        "SCS-100",
        "CM-JL-0049",
        "KL2017790547",
        "JJG 1118-2015",
        "P07.1",
        "S07",
        "忠县计量检定测试所",
    ):
        assert value in html
    newest, middle, oldest = "ZXJL-J2024-00595", "ZXJL-J2024-00329", "ZXJL-J2023-00202"
    assert html.index(newest) < html.index(middle) < html.index(oldest)
    assert "已过期" in html


def test_instrument_page_shows_components_seals_archive_and_certificate_files(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    system = Component.objects.filter(instrument__organization=org_a).select_related("instrument").first()
    assert system is not None, "the demo has measuring systems"
    inst = system.instrument
    seal = SealEvent(instrument=inst, date=date(2026, 3, 1), event="applied", seal_no="QF-7788")
    seal._change_reason = "test"
    seal.save()
    doc = Attachment(
        organization=org_a,
        instrument=inst,
        kind="manual",
        title="使用说明书-测试",
        file=SimpleUploadedFile("manual.pdf", b"%PDF-1.4"),
    )
    doc._change_reason = "test"
    doc.save()
    record = Calibration.objects.filter(instrument=inst).order_by("-date").first()
    assert record is not None
    record.certificate_file = SimpleUploadedFile("cert.pdf", b"%PDF-1.4")
    record._change_reason = "test"
    record.save()
    login(client, users["officer_a"])
    html = client.get(reverse("instrument_detail", args=[inst.code])).content.decode()
    assert system.type in html
    assert "QF-7788" in html and "加封" in html
    # files are linked through the scoped download views, never through MEDIA_URL
    assert "使用说明书-测试" in html
    assert reverse("instrument_attachment", args=[inst.code, doc.pk]) in html
    assert reverse("instrument_certificate", args=[inst.code, record.pk]) in html
    assert "/media/" not in html


def test_instrument_page_shows_who_changed_what_and_why(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    inst.location = "新地磅房"
    inst.status = "standby"
    inst._change_reason = "地磅房搬迁"
    inst.save()
    record = inst.history.first()
    assert record is not None
    record.history_user = users["officer_a"]
    record.save()
    login(client, users["officer_a"])
    html = client.get(reverse("instrument_detail", args=["WB-03"])).content.decode()
    history = html[html.index("变更记录") :]
    assert "地磅房搬迁" in history and "officer_a" in history
    assert re.search(
        r"安装使用地点</span>：<del[^>]*>3#地磅房（辅料进厂、窑灰外运）</del> → <ins>新地磅房</ins>", history
    )
    assert re.search(r"状态</span>：<del[^>]*>在用</del> → <ins>备用</ins>", history)
    assert "test fixture" in history  # the import that created it is listed too


def test_instrument_page_shows_a_change_of_its_json_extra_readably(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: re-importing the demo filled ``extra`` of every instrument, and the history diff of that JSON
    field crashed every instrument page (``unhashable type: 'dict'``).  The change is shown key by key."""
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    inst.extra = {"area": "辅料进厂", "loop": ["A", "B"], "depth": {"m": 2}}
    inst._change_reason = "补充其他信息"
    inst.save()
    inst.extra = {"area": "窑灰外运", "loop": ["A", "B"], "new": True}
    inst._change_reason = "更正区域"
    inst.save()
    login(client, users["officer_a"])
    response = client.get(reverse("instrument_detail", args=["WB-03"]))
    assert response.status_code == 200
    history = response.content.decode()
    history = history[history.index("变更记录") :]
    changed = re.findall(
        r'<li><span class="fw-semibold">([^<]*)</span>：<del[^>]*>([^<]*)</del> → <ins>([^<]*)</ins>', history
    )
    assert ("其他信息 · area", "辅料进厂", "窑灰外运") in changed
    assert ("其他信息 · depth", "m：2", "—") in changed
    assert ("其他信息 · new", "—", "✓") in changed
    assert ("其他信息 · loop", "—", "A、B") in changed  # the first change: from {} to the three keys
    assert not any("{" in old + new for _, old, new in changed)


def test_instrument_page_warns_when_a_scanned_label_belongs_to_another_asset(
    client: Client, users: dict[str, Any]
) -> None:
    login(client, users["officer_a"])
    url = reverse("instrument_detail", args=["WB-03"])
    assert "不一致" not in client.get(url, {"asset": "CM-JL-0049"}).content.decode()
    assert "不一致" in client.get(url, {"asset": "CM-JL-9999"}).content.decode()


def test_unknown_instrument_is_404(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    assert client.get(reverse("instrument_detail", args=["NO-SUCH"])).status_code == 404


# --- label -------------------------------------------------------------------------------------------


def test_label_shows_unit_name_asset_state_next_date_and_a_qr_code(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    response = client.get(reverse("instrument_label", args=["WB-03"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="cm-qr"' in html
    for value in (org_a.name, "3#辅料电子汽车衡", "CM-JL-0049", "2025-12-09", "window.print()"):
        assert value in html
    assert 'data-state="stopped"' in html and "停用" in html  # expired 2025-12-09


@pytest.mark.parametrize("kind", ["verification", "calibration"])
def test_label_of_an_instrument_verified_today_is_green(
    client: Client, users: dict[str, Any], org_a: Organization, kind: str
) -> None:
    """WB-03 expired; a record passed today makes it traceable again: 合格 whether verified or calibrated
    (a calibration is traceable too; only accuracy below the requirement restricts it)."""
    today = timezone.localdate()
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    record = Calibration(
        instrument=inst,
        kind=kind,
        date=today,
        valid_until=today + timedelta(days=365),
        result="pass",
        certificate_no="T-1",
    )
    record._change_reason = "test"
    record.save()
    login(client, users["officer_a"])
    html = client.get(reverse("instrument_label", args=["WB-03"])).content.decode()
    assert 'data-state="qualified"' in html and "合格" in html
    assert (today + timedelta(days=365)).isoformat() in html


def test_label_of_a_traceable_instrument_below_its_accuracy_requirement_is_yellow(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """KS-02 (class 1.0) serves P22.3, which requires 0.5S: traceable, but restricted (准用) once an
    assessment has judged its accuracy; before any run nothing establishes the restriction."""
    login(client, users["officer_a"])
    assert (
        'data-state="qualified"' in client.get(reverse("instrument_label", args=["KS-02"])).content.decode()
    )
    run_assessment(org_a, timezone.localdate(), users["officer_a"])
    html = client.get(reverse("instrument_label", args=["KS-02"])).content.decode()
    assert 'data-state="limited"' in html and "准用" in html
    label = queries.instrument_label(
        users["officer_a"], Instrument.objects.get(organization=org_a, code="KS-02"), timezone.localdate()
    )
    assert label.run is not None and label.standing.state in ("valid", "due_soon")


def test_label_of_an_instrument_confirmed_for_a_restricted_range_is_yellow_and_says_the_range(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: 准用 is also "confirmed for a restricted range": a pass recorded with a 限用范围 makes the
    label 准用 and the label shows the range; the record page, the instrument page and the history keep it."""
    today = timezone.localdate()
    login(client, users["officer_a"])
    posted = client.post(
        reverse("calibration_record"),
        {
            "shown": ["WB-03"],
            "instruments": ["WB-03"],
            "kind": "calibration",
            "date": today.isoformat(),
            "result": "pass",
            "valid_until": (today + timedelta(days=365)).isoformat(),
            "restricted_range": " 0–50 t/h ",
            "reason": "仅在 0–50 t/h 内校准合格",
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:2000]
    record = Calibration.objects.get(instrument__organization=org_a, instrument__code="WB-03", date=today)
    assert record.restricted_range == "0–50 t/h"
    assert record.history.get().history_change_reason == "仅在 0–50 t/h 内校准合格"  # type: ignore[attr-defined]
    html = client.get(reverse("instrument_label", args=["WB-03"])).content.decode()
    assert 'data-state="limited"' in html and "准用" in html
    assert '<dd id="restricted-range">0–50 t/h</dd>' in html
    assert "0–50 t/h" in client.get(reverse("instrument_detail", args=["WB-03"])).content.decode()
    # A later pass over the whole range lifts the restriction.
    later = Calibration(
        instrument=record.instrument,
        kind="calibration",
        date=today,
        valid_until=today + timedelta(days=366),
        result="pass",
    )
    later._change_reason = "test"
    later.save()
    html = client.get(reverse("instrument_label", args=["WB-03"])).content.decode()
    assert 'data-state="qualified"' in html and "restricted-range" not in html


def test_label_qr_code_holds_the_page_url_and_the_asset_number(
    users: dict[str, Any], org_a: Organization
) -> None:
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    request = RequestFactory().get("/instruments/WB-03/label/")
    assert qr_content(request, inst) == "http://testserver/instruments/WB-03/?asset=CM-JL-0049"


def test_label_prints_on_a_70_by_40_mm_page() -> None:
    css = (STATIC / "carbonmeter.css").read_text(encoding="utf-8")
    assert re.search(r"@page cm-label \{ size: 70mm 40mm;", css)
    assert "page: cm-label;" in css
