"""The dashboard tells how old its assessment is and whether the registry changed since, reads the run's
stored summary (never its document), and links each Table A.1 row and clause to what lies behind it.

Issue 9, item 5 (dashboard bullets) and item 6 (the dashboard reads precomputed figures).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.admin_scoping import REASON_FIELD
from carbonmeter.web.assessment.models import AssessmentRun, document_summary
from carbonmeter.web.assessment.services.snapshot import snapshot_document
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import changes
from carbonmeter.web.registry.models import Instrument, Organization
from carbonmeter.web.registry.queries import change_history
from carbonmeter.web.registry.services import import_snapshot
from tests.web.conftest import login
from tests.web.test_admin import client_for, form_data, instrument_of, url
from tests.web.test_pages_registry import codes


def dashboard(client: Client) -> tuple[Any, str]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response, response.content.decode()


def first_visit(client: Client, user: Any) -> tuple[AssessmentRun, str]:
    """The officer's first visit records a run; the page shows it fresh."""
    login(client, user)
    response, html = dashboard(client)
    run = response.context["board"].run
    assert run is not None
    assert not response.context["board"].stale
    assert "cm-stale" not in html
    return run, html


def test_dashboard_says_when_it_was_assessed_and_how_many_days_ago(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run, html = first_visit(client, users["officer_a"])
    when = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
    assert f"评价于 {when}（今天）" in html
    three_days_ago = run.created_at - timedelta(days=3)
    AssessmentRun.objects.filter(pk=run.pk).update(created_at=three_days_ago)
    _, html = dashboard(client)
    when = timezone.localtime(three_days_ago).strftime("%Y-%m-%d %H:%M")
    assert f"评价于 {when}（3 天前）" in html
    assert 'data-age-days="3"' in html
    client.cookies["django_language"] = "en"
    assert f"Assessed {when} (3 days ago)" in dashboard(client)[1]


def test_an_admin_edit_makes_the_assessment_stale_and_a_new_run_makes_it_fresh(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    first_visit(client, users["officer_a"])
    inst = instrument_of(org_a)
    admin = client_for(users["admin_a"])
    change = url(Instrument, "change", inst.pk)
    data = form_data(admin.get(change))
    data["location"] = "3#窑尾"
    data[REASON_FIELD] = "设备移位"
    assert admin.post(change, data).status_code == 302

    response, html = dashboard(client)
    board = response.context["board"]
    assert board.stale
    latest = inst.history.order_by("-history_date").first()
    assert latest is not None and board.changed_at == latest.history_date
    assert "cm-stale" in html and "已过时" in html
    assert "本次评价之后登记信息已有变更" in html
    client.cookies["django_language"] = "en"
    english = dashboard(client)[1]
    assert "The registry has changed since this assessment" in english and "Out of date" in english
    client.cookies["django_language"] = "zh-hans"
    # Those who may record a run are offered one at today's date; it makes the dashboard fresh again.
    assert 'action="/assessments/"' in html
    today = timezone.localdate().isoformat()
    assert client.post(reverse("assessments"), {"as_of": today}).status_code == 302
    response, html = dashboard(client)
    assert not response.context["board"].stale and "cm-stale" not in html
    assert AssessmentRun.objects.filter(organization=org_a).count() == 2


def test_an_import_and_a_recorded_calibration_make_the_assessment_stale(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run, _ = first_visit(client, users["officer_a"])
    document = snapshot_document(org_a, timezone.localdate())
    document["instruments"][0]["location"] = "新的安装地点"
    raw = json.dumps(document, ensure_ascii=False, default=str).encode()
    imported, report = import_snapshot(parse_json(raw, "changed.json"), reason="re-import")
    assert imported is not None and imported.pk == org_a.pk and report.changes
    response, _ = dashboard(client)
    assert response.context["board"].stale

    AssessmentRun.objects.filter(pk=run.pk).update(created_at=timezone.now())
    response, _ = dashboard(client)
    assert not response.context["board"].stale
    inst = instrument_of(org_a)
    record = Calibration(
        instrument=inst, kind="verification", date=timezone.localdate(), result="fail", agency="重庆市计量院"
    )
    record._change_reason = "test"
    record.save()
    response, _ = dashboard(client)
    assert response.context["board"].stale


def test_an_import_that_only_relinks_an_instrument_makes_the_assessment_stale_attributably(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: the import's ``points.set()`` wrote no history, so a change of links alone escaped
    :func:`changes.changed_after` (and the dashboard).  It is one entry of the instrument's history: who,
    when, why, the points before and after."""
    first_visit(client, users["officer_a"])
    version = changes.version()
    document = snapshot_document(org_a, timezone.localdate())
    entry = next(i for i in document["instruments"] if i.get("points"))
    old_points = sorted(entry["points"])
    spare = next(p["id"] for p in document["measuring_points"] if p["id"] not in old_points)
    entry["points"] = [*old_points[1:], spare]
    raw = json.dumps(document, ensure_ascii=False, default=str).encode()
    _, report = import_snapshot(parse_json(raw, "relinked.json"), reason="测点对应关系调整")
    assert report.updated == {"instruments": [entry["id"]]}  # nothing else changed
    response, _ = dashboard(client)
    assert response.context["board"].stale
    assert changes.version() != version
    inst = Instrument.objects.get(organization=org_a, code=entry["id"])
    latest = inst.history.order_by("-history_date", "-history_id").first()
    assert latest is not None and latest.history_change_reason == "测点对应关系调整"
    assert response.context["board"].changed_at == latest.history_date
    (line,) = [c for e in change_history(inst)[:1] for c in e["changes"]]
    assert line == {
        "field": "计量点",
        "old": "、".join(old_points),
        "new": "、".join(sorted(entry["points"])),
    }


def test_another_organizations_change_does_not_make_a_stale(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    first_visit(client, users["officer_a"])
    other = Instrument.objects.filter(organization=org_b).first()
    assert other is not None
    other.location = "别处"
    other._change_reason = "test"
    other.save()
    response, _ = dashboard(client)
    assert not response.context["board"].stale


def test_due_counts_follow_a_new_record_at_once(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """The counts are cached per state of the registry: a new record changes that state, so the next view
    counts again (a cache that outlived the change would show yesterday's truth)."""
    first_visit(client, users["officer_a"])
    before = dict(dashboard(client)[0].context["board"].due)
    expired = codes(client.get(reverse("register"), {"status": "in_use", "due": "expired"}))
    assert expired, "the demo plant has expired instruments in use"
    inst = Instrument.objects.get(organization=org_a, code=expired[0])
    today = timezone.localdate()
    record = Calibration(
        instrument=inst,
        kind="verification",
        date=today,
        result="pass",
        valid_until=today + timedelta(days=400),
        agency="重庆市计量院",
    )
    record._change_reason = "test"
    record.save()
    after = dashboard(client)[0].context["board"].due
    # now valid for 400 days: it leaves the 已过期 card, and 有效 has no card
    assert after == {**before, "expired": before["expired"] - 1}


def test_dashboard_reads_the_runs_summary_not_its_document(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run, html = first_visit(client, users["officer_a"])
    stored = AssessmentRun.objects.get(pk=run.pk)
    assert stored.summary == document_summary(stored.document)
    assert stored.summary["equipping"] and stored.summary["clauses"]
    # Were the page to read the document, an emptied one would change it.
    AssessmentRun.objects.filter(pk=run.pk).update(document={"equipping": [], "findings": []})
    again = dashboard(client)[1]
    table = re.compile(r'<table class="table table-sm align-middle mb-0 cm-rate-table">.*?</table>', re.S)
    clauses = re.compile(
        r'<table class="table table-sm table-hover align-middle mb-0 cm-clause-table">.*?</table>', re.S
    )
    for pattern in (table, clauses):
        first, second = pattern.search(html), pattern.search(again)
        assert first is not None and second is not None and first[0] == second[0]


def test_the_cached_dashboard_is_one_organizations_in_one_language(
    users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    """The rendered figures are kept per organization and language: B's admin, after A's officer filled
    the cache in Chinese, sees B's dashboard; A's officer in English gets it in English."""
    a, b = Client(), Client()
    first_visit(a, users["officer_a"])
    _, html_a = dashboard(a)
    login(b, users["admin_b"])
    response_b, html_b = dashboard(b)
    assert response_b.context["board"].run.organization_id == org_b.pk
    assert org_b.name in html_b and org_a.name not in html_b
    assert html_a.count('data-due="') == html_b.count('data-due="')  # the same page, another organization's
    assert "碳计量器具配备率（表A.1）" in html_a
    a.cookies["django_language"] = "en"
    _, english = dashboard(a)
    assert "Equipping rate of carbon measuring instruments (Table A.1)" in english
    assert "碳计量器具配备率（表A.1）" not in english


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_row_and_clause_links_to_its_place_on_the_run_page(
    client: Client, users: dict[str, Any], org_a: Organization, lang: str
) -> None:
    login(client, users["officer_a"])
    client.cookies["django_language"] = lang
    response, html = dashboard(client)
    board = response.context["board"]
    assert board.rates and board.clauses
    links = re.findall(r'href="(/assessments/(\d+)/#((?:row|clause)-[^"]+))"', html)
    rows = {anchor for _, _, anchor in links if anchor.startswith("row-")}
    clauses = {anchor for _, _, anchor in links if anchor.startswith("clause-")}
    assert rows == {f"row-{r.row}" for r in board.rates}
    assert clauses == {f"clause-{c.clause}" for c in board.clauses}
    pages: dict[str, str] = {}
    for href, pk, anchor in links:
        assert int(pk) == board.run.pk
        path = href.split("#")[0]
        if path not in pages:
            page = client.get(path)
            assert page.status_code == 200
            pages[path] = page.content.decode()
        assert f'id="{anchor}"' in pages[path], f"{href}: no element with that id on the run page"


# --- the register's cached table ---------------------------------------------------------------------


def test_the_register_shows_a_change_at_once_though_its_table_is_cached(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    inst = instrument_of(org_a)
    client.get(reverse("register"))
    assert "page" not in client.get(reverse("register")).context  # the second view's table: from the cache
    row = re.compile(rf'<tr data-code="{re.escape(inst.code)}">.*?</tr>', re.S)
    inst.location = "缓存之后的新地点"
    inst._change_reason = "test"
    inst.save()
    shown = row.search(client.get(reverse("register")).content.decode())
    assert shown is not None and "缓存之后的新地点" in shown[0]
    # A change of links alone (the import's points.set()) writes no history entry, and still shows.
    other = org_a.measuringpoint_set.exclude(instruments=inst).order_by("code").first()
    assert other is not None
    inst.points.add(other)
    shown = row.search(client.get(reverse("register")).content.decode())
    assert shown is not None and other.code in shown[0]
