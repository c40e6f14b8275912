"""Layout in a real browser: in English (longer labels than Chinese) and in Chinese, with the demo manager's
long name in the bar, the navigation and the main pages fit a 1366 × 768 screen, the most common office
laptop, without a horizontal scroll bar (issue 9, item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from carbonmeter.web.assessment.management.commands.load_demo import DEMO_USERS

WIDTH, HEIGHT = 1366, 768
MAIN_PAGES = (
    "/",
    "/instruments/",
    "/calibration/plan/",
    "/streams/",
    "/readings/ledger/",
    "/readings/quality/",
    "/readings/quarantine/",
    "/readings/batches/",
    "/readings/upload/",
    "/assessments/",
    "/transfer/",
)


@pytest.fixture
def laptop(context: BrowserContext, page: Page) -> Page:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    # The dashboard runs the plant's first assessment and the ledger reads the lake: slower than a step.
    page.set_default_navigation_timeout(60_000)
    page.set_default_timeout(60_000)
    return page


def overflow(page: Page) -> dict[str, int]:
    """Widths wider than the window: the document's, and the navigation bar's content."""
    widths: dict[str, int] = page.evaluate(
        """() => {
            const nav = document.querySelector("nav.cm-navbar");
            return {document: document.documentElement.scrollWidth,
                    nav: nav ? nav.scrollWidth : 0,
                    navContent: nav ? Math.ceil(Math.max(...Array.from(
                        nav.querySelectorAll(".navbar-brand, .nav-link, .cm-org-menu, .cm-lang, .cm-user"),
                        (e) => e.getBoundingClientRect().right))) : 0};
        }"""
    )
    return {k: v for k, v in widths.items() if v > WIDTH}


@pytest.mark.parametrize(("button", "lang"), [("EN", "en"), ("中文", "zh-CN")])
def test_navigation_fits_1366_pixels_on_every_main_page(
    laptop: Page, signed_in: Any, page_errors: list[str], button: str, lang: str
) -> None:
    # the demo's manager, whose name (shown in the bar) is the longest of the demo users
    signed_in.first_name = dict((u, t) for u, t, _ in DEMO_USERS)["manager"]
    signed_in.save()
    laptop.goto("/")
    laptop.get_by_role("button", name=button, exact=True).click()  # the navbar's language switch
    expect(laptop.locator("html")).to_have_attribute("lang", lang)
    expect(laptop.locator("#cm-nav .nav-link").first).to_be_visible()  # expanded, not the burger menu
    too_wide = {}
    for path in MAIN_PAGES:
        laptop.goto(path)
        expect(laptop.locator("html")).to_have_attribute("lang", lang)
        laptop.wait_for_load_state("networkidle")  # the organization menu is loaded by htmx
        if found := overflow(laptop):
            too_wide[path] = found
    assert not too_wide, too_wide
    assert not page_errors
