"""The assessment pages: a run on the database gives the engine's verdict on the same snapshot, is listed,
reads back by clause in zh or en, and tells what changed since the run before it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from carbonmeter.core.assess import assess
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import changes, run_assessment
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.registry.models import Organization
from tests.web.conftest import login


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_run_is_listed_and_its_rates_are_the_engines(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    today = timezone.localdate()
    login(client, users["clerk_a"])
    response = client.post("/assessments/", {"as_of": today.isoformat()})
    run = AssessmentRun.objects.get(organization=org_a)
    assert response.status_code == 302 and response["Location"] == f"/assessments/{run.pk}/"
    assert run.created_by == users["clerk_a"] and run.as_of == today
    engine = to_document(assess(build_snapshot(org_a, today), load_pack(org_a.pack_ref), today))
    assert [(r["row"], r["required"], r["equipped"], r["rate"]) for r in run.document["equipping"]] == [
        (r["row"], r["required"], r["equipped"], r["rate"]) for r in engine["equipping"]
    ]
    assert run.conforms == engine["conforms"]
    html = client.get("/assessments/").content.decode()
    assert f'data-run="{run.pk}"' in html
    row = html.split(f'data-run="{run.pk}"', 1)[1].split("</tr>", 1)[0]
    assert today.strftime("%Y-%m-%d") in row and run.pack_version in row and "clerk_a" in row
    assert f">{run.nonconformities}<" in row


def test_the_run_date_can_be_chosen(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    as_of = timezone.localdate() - timedelta(days=400)
    login(client, users["admin_a"]).post("/assessments/", {"as_of": as_of.isoformat()})
    assert AssessmentRun.objects.get(organization=org_a).as_of == as_of


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq"])
def test_read_only_roles_read_runs_but_cannot_run(
    client: Client, users: dict[str, Any], org_a: Organization, role: str
) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    login(client, users[role])
    page = client.get("/assessments/")
    assert page.status_code == 200 and "运行评价" not in page.content.decode()
    assert client.post("/assessments/", {"as_of": "2026-01-15"}).status_code == 403
    assert AssessmentRun.objects.count() == 1
    assert client.get(f"/assessments/{run.pk}/").status_code == 200


def test_another_organizations_run_is_not_found(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    login(client, users["admin_b"])
    assert client.get(f"/assessments/{run.pk}/").status_code == 404
    assert client.get(f"/assessments/{run.pk}/document.json").status_code == 404
    assert f'data-run="{run.pk}"' not in client.get("/assessments/").content.decode()


def test_run_page_shows_rates_and_findings_by_clause(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    login(client, users["officer_a"])
    html = client.get(f"/assessments/{run.pk}/").content.decode()
    for r in run.document["equipping"]:
        assert f'data-row="{r["row"]}"' in html
    wb03 = next(f for f in run.document["findings"] if f["subject"] == "WB-03")
    clause = html.split(f'data-clause="{wb03["clause"]}"', 1)[1].split('data-clause="', 1)[0]
    assert 'data-subject="WB-03"' in clause and wb03["message"] in clause
    assert "<details" in clause  # the evidence, folded
    assert "这是本单位的第一次评价" in html
    english = client.get(f"/assessments/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert wb03["message_en"] in english and wb03["message"] not in english


def test_provisional_values_are_marked(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    findings = run.document["findings"]
    marked = next(f for f in findings if f["provisional"])
    plain = next(f for f in findings if not f["provisional"])
    html = login(client, users["officer_a"]).get(f"/assessments/{run.pk}/").content.decode()

    def item(f: dict[str, Any]) -> str:
        return html.split(f'data-code="{f["code"]}" data-subject="{f["subject"]}"', 1)[1].split("</li>", 1)[0]

    assert "※" in item(marked) and "※" not in item(plain)


def test_recording_a_verification_for_wb03_resolves_its_findings(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    today = timezone.localdate()
    login(client, users["officer_a"])
    client.post("/assessments/", {"as_of": today.isoformat()})
    first = AssessmentRun.objects.get()
    assert any(f["subject"] == "WB-03" for f in first.document["findings"])
    recorded = client.post(
        "/calibration/record/",
        {
            "shown": ["WB-03"],
            "instruments": ["WB-03"],
            "kind": "verification",
            "date": today.isoformat(),
            "result": "pass",
            "valid_until": (today + timedelta(days=364)).isoformat(),
            "certificate_no": "ZXJL-J2026-00999",
            "agency": "忠县计量检定测试所",
            "reason": "3#辅料汽车衡周期检定",
        },
    )
    assert recorded.status_code == 302
    # Recording re-assesses on its own: that run is the one that follows ``first``.
    second = AssessmentRun.objects.exclude(pk=first.pk).get()
    diff = changes(first, second)
    assert {f["subject"] for f in diff["resolved"]} >= {"WB-03", "P07.1"}
    assert any(r["after"] > (r["before"] or 0) for r in diff["rates"])
    html = client.get(f"/assessments/{second.pk}/").content.decode()
    resolved = html.split('id="resolved"', 1)[1].split("</ul>", 1)[0]
    assert 'data-subject="WB-03"' in resolved and 'data-subject="P07.1"' in resolved
    assert 'id="rates"' in html


def test_the_runs_document_downloads_as_json(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    response = login(client, users["verifier_a"]).get(f"/assessments/{run.pk}/document.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    doc = json.loads(response.content)
    assert doc == run.document and doc["schema"] == "carbonmeter.assessment/1"


def _finding_item(html: str, f: dict[str, Any]) -> str:
    return html.split(f'data-code="{f["code"]}" data-subject="{f["subject"]}"', 1)[1].split("</li>", 1)[0]


def test_evidence_reads_as_labelled_values_not_json(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Issue 9: the evidence was a JSON dump (keys and codes such as ``verification``, ``pass``); it is a
    list under Chinese names, values by their terms, ids linking to their pages."""
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    findings = run.document["findings"]
    voided = next(f for f in findings if f["code"] == "TRC-01-C")
    unequipped = next(
        f for f in findings if f["code"].startswith("EQP-01") and f["evidence"]["linked_instruments"]
    )
    html = login(client, users["officer_a"]).get(f"/assessments/{run.pk}/").content.decode()
    assert "data-verbatim" not in html.split('id="findings"', 1)[1]
    item = _finding_item(html, voided)
    record, failure = voided["evidence"]["record"], voided["evidence"]["failure"]
    for text in ("判定依据的合格记录", "其后的不合格记录", "有效期至", "证书编号", "检定", "合格", "不合格"):
        assert text in item, text
    assert record["valid_until"] in item and failure["certificate_no"] in item
    assert f'<a href="/instruments/{voided["subject"]}/">{voided["subject"]}</a>' in item
    shown = re.sub(r"<[^>]+>", " ", item)  # the text a reader sees
    for code in ("kind", "verification", "pass", "valid_until", "{"):
        assert code not in shown, code
    item = _finding_item(html, unequipped)
    linked = unequipped["evidence"]["linked_instruments"][0]
    assert "关联器具" in item and "<table" in item and "溯源情况" in item
    assert f'href="/instruments/{linked["instrument"]}/"' in item
    shown = re.sub(r"<[^>]+>", " ", item)
    assert "在用" in shown and "%" in shown and "in_use" not in shown and "measurement." not in shown
    english = client.get(f"/assessments/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    item = _finding_item(english, voided)
    assert "passing record relied on" in item and "valid until" in item and "有效期至" not in item


def test_run_page_lists_what_was_not_judged_and_names_root_causes(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Contract §6.4.3–6.4.4: not-judged items in their own section (not findings), and a finding explained
    by an untraceable instrument names it."""
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    doc = run.document
    assert doc["not_judged"], "the demo register has points whose requirement the pack does not hold"
    html = login(client, users["officer_a"]).get(f"/assessments/{run.pk}/").content.decode()
    section = html.split('id="not-judged"', 1)[1].split("</section>", 1)[0]
    first = doc["not_judged"][0]
    assert f'data-subject="{first["subject"]}"' in section and escape(first["reason"]) in section
    assert "不予判定" in section and "准确度" in section
    assert not any(f["code"].startswith(("ACC-02", "CAT-")) for f in doc["findings"])
    findings = html.split('id="findings"', 1)[1].split('id="not-judged"', 1)[0]
    assert escape(first["reason"]) not in findings
    rooted = [f for f in doc["findings"] if f["root_cause"]]
    assert rooted, "the demo register has an expired instrument serving a required point"
    f = rooted[0]
    item = findings.split(f'data-code="{f["code"]}" data-subject="{f["subject"]}"', 1)[1].split("</li>", 1)[0]
    assert f'data-root-cause="{f["root_cause"]}"' in item and "根源器具" in item
    english = client.get(f"/assessments/{run.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    section_en = english.split('id="not-judged"', 1)[1].split("</section>", 1)[0]
    assert (
        "Not judged" in section_en and escape(first["reason_en"]) in section_en and "Accuracy" in section_en
    )


def test_a_run_stored_before_v1_1_reads_without_not_judged(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    run = run_assessment(org_a, timezone.localdate(), users["officer_a"])
    run.document = {k: v for k, v in run.document.items() if k != "not_judged"}
    run.save(update_fields=["document"])
    html = login(client, users["officer_a"]).get(f"/assessments/{run.pk}/").content.decode()
    assert "无。" in html.split('id="not-judged"', 1)[1].split("</section>", 1)[0]


def test_the_run_page_gives_table_a1_per_production_facility(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """Contract §6.4.6: each facility's rows, by the facility's name, with the engine's counts."""
    run = run_assessment(org_a, timezone.localdate(), users["clerk_a"])
    rows = [r for r in run.document["equipping_by_facility"] if r["required"]]
    assert {r["facility"] for r in rows} == {"F0", "F1", "F2"}
    login(client, users["verifier_a"])
    html = client.get(f"/assessments/{run.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    table = html.split('id="equipping-by-facility"', 1)[1].split("</table>", 1)[0]
    for r in rows:
        marker = f'data-facility="{r["facility"]}" data-facility-row="{r["row"]}"'
        cells = table.split(marker, 1)[1].split("</tr>", 1)[0]
        assert f">{r['required']}<" in cells and f">{r['equipped']}<" in cells
        assert ("不合格" in cells) is (not r["pass"])
    assert "2#熟料生产线" in table and "F2" not in re.sub(r'data-facility="F\d"', "", table)
