"""The emissions pages of a run (contract §6.3): declared vs computed with U95, tiers, the plant total, a
stream's uncertainty budget and the advisor, read from the stored document, in Chinese and English, for
every reading role; findings carry their tonnes at stake on the run's page.

The web snapshot does not carry formulas and values yet, so the run here stores the document the engine
writes for ``examples/demo-cement-plant.json`` (the same plant the fixture imports) with its pack,
``cq-part2-cement``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.registry.models import Organization
from tests.web.conftest import login
from tests.web.terms_check import chinese_text_problems
from tests.web.v11_run import PACK, store_run, v11_document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return v11_document()


@pytest.fixture
def run(org_a: Organization, document: dict[str, Any], users: dict[str, Any]) -> AssessmentRun:
    org_a.pack = PACK
    org_a._change_reason = "test fixture"
    org_a.save()
    return store_run(org_a, json.loads(json.dumps(document)), users["officer_a"])


def _stream(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["streams"] if s["id"] == sid)


def _row(html: str, attr: str, value: str) -> str:
    return html.split(f'{attr}="{value}"', 1)[1].split("</tr>", 1)[0]


def _text(html: str) -> str:
    body = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("role", ["admin_a", "verifier_a", "regulator_cq"])
def test_the_emissions_page_shows_each_stream_and_the_total(
    client: Client, users: dict[str, Any], run: AssessmentRun, document: dict[str, Any], role: str
) -> None:
    login(client, users[role])
    response = client.get(f"/assessments/{run.pk}/emissions/")
    assert response.status_code == 200
    html = response.content.decode()
    # S05 (1#窑生料碳酸盐分解, clinker): declared 532,700 t, computed 532,688.75 t, U95 4,806.9 t = 0.90 %,
    # activity U95 0.577 % ≤ 1.5 % → tier 4.
    s05 = _stream(document, "S05")
    assert (s05["declared_emissions_t"], round(s05["computed_emissions_t"], 2)) == (532700.0, 532688.75)
    row = _row(html, "data-stream", "S05")
    assert "1#窑生料碳酸盐分解" in row and "熟料煅烧" in row and "clinker" not in row
    assert "532,700" in row and "532,689" in row and "4,807" in row and "0.90%" in row
    assert "0.58%" in row and "层级 4" in row
    # S09 (废旧轮胎): its consumption point P09.1 has no uncertainty source → 未评定, with the reason.
    row = _row(html, "data-stream", "S09")
    assert "未评定" in row and "P09.1" in row and "data-u95" not in row
    # The plant: 1,834,342 t net, U95 22,547 t (1.23 %, k = 2), incomplete (S09, S22, S24 left out).
    total = document["uncertainty"]
    assert round(document["total_emissions_t"]) == 1834342 and round(total["total_u95_t"]) == 22547
    text = _text(html)
    assert "1,834,342 tCO2" in text and "± 22,547 t" in text and "1.23%" in text and "k = 2" in text
    assert 'id="incomplete"' in html and 'id="monte-carlo"' not in html
    # The chart's data: every formula stream and the total, with U95 where judged.
    found = re.search(r'<script id="emissions-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    chart = json.loads(found.group(1))
    assert len(chart["rows"]) == sum(bool(s.get("formula")) for s in document["streams"]) + 1
    assert chart["rows"][-1]["name"] == "全厂净排放量" and round(chart["rows"][-1]["u95"]) == 22547
    assert next(r for r in chart["rows"] if r["name"].startswith("S09 "))["u95"] is None
    assert "vendor/echarts.min.js" in html and "js/emissions-chart.js" in html


def test_the_advisor_ranks_actions_in_words(
    client: Client, users: dict[str, Any], run: AssessmentRun, document: dict[str, Any]
) -> None:
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/emissions/").content.decode()
    advisor = html.split('id="advisor"', 1)[1]
    first = document["advisor"][0]
    # P02.3 (S02 carbon content) carries 18.0 % of the plant's variance; the pack has no ladder for it.
    assert (first["point"], round(first["contribution"] * 100, 1), first["to"]) == ("P02.3", 18.0, None)
    row = _row(advisor, "data-point", "P02.3")
    assert "含碳量" in row and "18.0%" in row and "提高测量准确度" in row
    assert "规则包未给出升级阶梯" in row and f"{round(first['max_reduction_t']):,}" in row
    assert "carbon_content" not in row and "upgrade" not in _text(row.split(">", 1)[1])
    assert advisor.count("<tr data-point=") == len(document["advisor"])


def test_a_measure_action_reads_as_measuring_instead_of_a_default(
    client: Client, users: dict[str, Any], org_a: Organization, document: dict[str, Any]
) -> None:
    doc = json.loads(json.dumps(document))
    doc["advisor"][0] |= {"action": "measure", "to": None, "reduction_t": 1234.4}
    run = store_run(org_a, doc)
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/emissions/").content.decode()
    row = _row(html.split('id="advisor"', 1)[1], "data-point", doc["advisor"][0]["point"])
    assert "由缺省值改为实测" in row and "1,234" in row and "规则包未给出升级阶梯" not in row


def test_the_monte_carlo_figure_and_a_tier_below_1_are_shown(
    client: Client, users: dict[str, Any], org_a: Organization, document: dict[str, Any]
) -> None:
    doc = json.loads(json.dumps(document))
    doc["uncertainty"]["monte_carlo"] = {"draws": 20000, "u95_t": 22610.4}
    next(x for x in doc["streams"] if x["id"] == "S05")["tier"] = 0  # activity U95 above 7.5 %
    run = store_run(org_a, doc)
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/emissions/").content.decode()
    assert "低于层级 1" in _row(html, "data-stream", "S05")
    mc = _text(html.split('id="monte-carlo"', 1)[1].split("</div></div>", 1)[0])
    assert "± 22,610 t" in mc and "20,000 次抽样" in mc


@pytest.mark.parametrize("role", ["admin_a", "verifier_a", "regulator_cq"])
def test_a_streams_budget_lists_its_inputs(
    client: Client, users: dict[str, Any], run: AssessmentRun, document: dict[str, Any], role: str
) -> None:
    login(client, users[role])
    response = client.get(f"/assessments/{run.pk}/emissions/S01/")
    assert response.status_code == 200
    html = response.content.decode()
    # S01's carbon content P01.3: 0.02618 tC/GJ, u_rel 1.5 %, on HY-04 (certificate CQJY-C2025-00342),
    # 56.6 % of the stream's variance.
    line = next(b for b in _stream(document, "S01")["budget"] if b["point"] == "P01.3")
    assert (line["value"], line["u_rel"], line["instrument"]) == (0.02618, 0.015, "HY-04")
    row = _row(html, "data-point", "P01.3")
    assert "含碳量" in row and "0.02618" in row and "tC/GJ" in row and "1.50%" in row
    assert 'href="/instruments/HY-04/"' in row and "CQJY-C2025-00342" in row and "56.6%" in row
    # A pure number (oxidation rate 0.98) has no unit; a default without instrument shows a dash.
    row = _row(html, "data-point", "P01.4")
    assert "碳氧化率" in row and "dimensionless" not in row
    assert html.index('data-point="P01.3"') < html.index('data-point="P01.1"')  # largest share first


def test_a_stream_not_judged_says_why_on_its_budget(
    client: Client, users: dict[str, Any], run: AssessmentRun
) -> None:
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/emissions/S09/").content.decode()
    assert "未评定" in html.split('id="stream-u95"', 1)[1].split("</dd>", 1)[0]
    assert "P09.1 没有不确定度来源" in html.split('id="not-judged"', 1)[1]


def test_unknown_or_non_formula_streams_and_other_plants_are_not_found(
    client: Client, users: dict[str, Any], run: AssessmentRun
) -> None:
    login(client, users["admin_a"])
    assert client.get(f"/assessments/{run.pk}/emissions/S07/").status_code == 404  # no formula
    assert client.get(f"/assessments/{run.pk}/emissions/S99/").status_code == 404
    login(client, users["admin_b"])
    assert client.get(f"/assessments/{run.pk}/emissions/").status_code == 404
    assert client.get(f"/assessments/{run.pk}/emissions/S01/").status_code == 404


def test_a_run_without_formulas_says_so(
    client: Client, users: dict[str, Any], org_a: Organization, document: dict[str, Any]
) -> None:
    doc = {k: v for k, v in document.items() if k not in ("uncertainty", "advisor")}
    keep = ("id", "category", "share", "annual_emissions_t")
    doc["streams"] = [{k: v for k, v in s.items() if k in keep} for s in doc["streams"]]
    run = store_run(org_a, doc)
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/emissions/").content.decode()
    assert 'id="no-formulas"' in html and "emissions-data" not in html


def test_the_pages_are_linked_and_findings_carry_tonnes_at_stake(
    client: Client, users: dict[str, Any], run: AssessmentRun, document: dict[str, Any]
) -> None:
    login(client, users["verifier_a"])
    assert f'href="/assessments/{run.pk}/emissions/"' in client.get("/assessments/").content.decode()
    html = client.get(f"/assessments/{run.pk}/").content.decode()
    assert f'href="/assessments/{run.pk}/emissions/"' in html
    # EQP-01-A on P06.1 serves S06: 516,917.97 t at stake.
    finding = next(f for f in document["findings"] if (f["code"], f["subject"]) == ("EQP-01-A", "P06.1"))
    assert round(finding["tonnes_at_stake"], 2) == 516917.97
    item = html.split('data-code="EQP-01-A" data-subject="P06.1"', 1)[1].split("</li>", 1)[0]
    assert "涉及排放量 516,918 t" in _text(item)
    emissions = client.get(f"/assessments/{run.pk}/emissions/").content.decode()
    assert f'href="/assessments/{run.pk}/emissions/S01/"' in emissions


def test_the_pages_read_in_english(client: Client, users: dict[str, Any], run: AssessmentRun) -> None:
    login(client, users["admin_a"])
    client.cookies["django_language"] = "en"
    html = client.get(f"/assessments/{run.pk}/emissions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = _text(html)
    assert "Emissions and uncertainty" in text and "Tier 4" in text and "Not judged" in text
    assert "The pack gives no upgrade ladder" in text and "Improve the measurement accuracy" in text
    assert "± 22,547 t (1.23 %, k = 2)" in text and "U95 (%)" in text and "(at least 1 %, at most 10" in text
    budget = _text(client.get(f"/assessments/{run.pk}/emissions/S01/").content.decode())
    assert "Uncertainty budget" in budget and "Carbon content" in budget and " Unit " in budget
    assert "(3.99 %)" in budget


@pytest.mark.parametrize("path", ["emissions/", "emissions/S01/", "emissions/S09/", ""])
def test_the_chinese_pages_show_no_internal_code(
    client: Client, users: dict[str, Any], run: AssessmentRun, path: str
) -> None:
    html = login(client, users["admin_a"]).get(f"/assessments/{run.pk}/{path}").content.decode()
    text = _text(html)
    problems = chinese_text_problems(text, prose=False)
    formulas = set(load_pack(PACK).formulas)
    problems += [f for f in formulas if re.search(rf"(?<![\w-]){f}(?![\w-])", text)]
    assert not problems, problems


def test_anonymous_and_expired_readers_are_kept_out(
    client: Client, users: dict[str, Any], run: AssessmentRun
) -> None:
    for path in ("emissions/", "emissions/S01/"):
        response = client.get(f"/assessments/{run.pk}/{path}")
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    login(client, users["expired_verifier"])
    assert client.get(f"/assessments/{run.pk}/emissions/").status_code == 404
