"""The emissions page in a real browser: ECharts draws the declared and computed bars of every formula stream
and the plant total, with an error bar (three strokes) for each U95 the engine judged, and no script fails.
The screenshots are kept in the test's folder (``--basetemp`` to look at them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from carbonmeter.web.registry.models import Organization
from tests.web.v11_run import store_run, v11_document


def test_the_chart_draws_bars_and_error_bars(
    page: Page, signed_in: Any, org_a: Organization, page_errors: list[str], tmp_path: Path
) -> None:
    document = v11_document()
    run = store_run(org_a, document)
    page.goto(f"/assessments/{run.pk}/emissions/")
    chart = page.locator("#emissions-chart svg")
    chart.wait_for()
    rows = [s for s in document["streams"] if s.get("formula")]
    judged = sum(s.get("u95_t") is not None for s in rows) + 1  # and the plant total
    # Each error bar is a group of three lines (the whisker and its two caps).
    assert page.locator("#emissions-chart svg path").count() >= 2 * len(rows)
    page.screenshot(path=str(tmp_path / "emissions.png"), full_page=True)
    names = page.locator("#emissions-chart svg text").evaluate_all("els => els.map(e => e.textContent)")
    assert any(n.startswith("S05") for n in names) and "全厂净排放量" in names
    assert (
        page.evaluate(
            "() => echarts.getInstanceByDom(document.getElementById('emissions-chart'))"
            ".getOption().series[2].data.length"
        )
        == judged
    )
    page.goto(f"/assessments/{run.pk}/emissions/S01/")
    assert page.locator('#budget tr[data-point="P01.3"] a[data-instrument="HY-04"]').count() == 1
    page.screenshot(path=str(tmp_path / "budget.png"), full_page=True)
    page.goto(f"/assessments/{run.pk}/")
    finding = page.locator('li[data-code="EQP-01-A"][data-subject="P06.1"]')
    assert "涉及排放量 516,918 t" in finding.inner_text()
    finding.locator("xpath=ancestor::div[contains(@class, 'card')][1]").screenshot(
        path=str(tmp_path / "findings.png")
    )
    assert not page_errors, page_errors
