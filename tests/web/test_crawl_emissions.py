"""The crawl of the demo (``test_crawl``) over a run with contract v1.1 figures: the emissions page, every
stream's uncertainty budget and the run's page answer for every demo role in both languages, and on the
Chinese pages no internal code (nor a formula id of the pack) reaches the reader.

``load_demo`` runs no assessment, and the web snapshot does not carry formulas yet, so the run is stored
from the engine's document of ``examples/demo-cement-plant.json`` (see ``tests/web/v11_run``) for the demo
plant, which the demo users can read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.management.commands.load_demo import DEMO_PASSWORD
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.registry.models import Organization
from tests.web.test_crawl import Crawl, Page, demo_months
from tests.web.v11_run import PACK, store_run, v11_document

ROLES = ("manager", "verifier", "regulator")


@pytest.fixture
def run(demo: None, db: Any) -> AssessmentRun:
    org = Organization.objects.get()
    return store_run(org, v11_document())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_the_emissions_pages_of_the_demo_answer_and_read_without_codes(
    run: AssessmentRun, role: str, language: str
) -> None:
    client = Client()
    assert client.login(username=role, password=DEMO_PASSWORD)
    if language == "en":
        assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    crawl = Crawl(client, role, language, demo_months(timezone.localdate()), full=False)
    emissions = reverse("assessment_emissions", args=[run.pk])
    crawl.offer(emissions, "/")
    crawl.run()
    assert crawl.visited.get(emissions) == 200
    assert crawl.visited.get(reverse("assessment_detail", args=[run.pk])) == 200
    assert any(f["code"] == "EMI-01" for f in run.document["findings"])
    # Every stream's budget (the sampling crawl visits one of them), read with the same checks.
    streams = [s["id"] for s in run.document["streams"] if s.get("budget")]
    assert len(streams) >= 10
    formulas = re.compile(r"(?<![\w-])(?:" + "|".join(load_pack(PACK).formulas) + r")(?![\w-])")
    detail = reverse("assessment_detail", args=[run.pk])  # EMI-01 and EQP-02 name formulas in evidence
    for url in [emissions, detail] + [reverse("assessment_budget", args=[run.pk, s]) for s in streams]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = Page()
        page.feed(response.content.decode())
        crawl.read(url, page.text)
        if language != "en":
            crawl.problems += [f"{url}: formula id in “{t}”" for t, _ in page.text if formulas.search(t)]
    problems = list(dict.fromkeys(crawl.problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
