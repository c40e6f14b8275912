"""Browser tests: Python Playwright (sync API) drives Debian's Chromium against pytest-django's live server.

One Chromium for all the browser tests, a fresh context (locale zh-CN, no cookies) for every test.  The live
server runs in a thread of this process and sees this test's database, so every test needs
``transactional_db``: its rows are committed, and flushed afterwards.  The demo plant is imported here, per
test, not taken from a cache another module keeps.

Sync Playwright keeps an asyncio loop running in the main thread for as long as it is started; Django
refuses ORM calls from such a thread unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set (stack.md §8).  Both last
only while this package's tests run (``package`` scope): set for the whole session, the variable leaks into
the subprocesses of other tests (``manage.py check --deploy`` then fails with async.E001).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.web.accounts.models import Membership
from carbonmeter.web.registry.models import Organization
from carbonmeter.web.registry.services import import_snapshot
from tests.web.conftest import DEMO, PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Milliseconds a locator or navigation may wait: a page of this app answers in well under a second, so a
#: stuck step fails quickly instead of eating the suite's time budget.
TIMEOUT_MS = 10_000


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all the browser tests; Playwright, and the permission Django needs beside its loop,
    end with them."""
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ.setdefault(ASYNC_UNSAFE, "true")
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop(ASYNC_UNSAFE, None)


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Path) -> None:
    """Uploads go to this test's folder; the login throttle (a cache) starts from zero."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def org_a(transactional_db: Any) -> Organization:
    """The demo cement plant, imported for this test with the same call as ``tests/web/conftest.py``."""
    org, _ = import_snapshot(parse_json(DEMO.read_bytes(), str(DEMO)), reason="browser test fixture")
    assert org is not None
    return org


@pytest.fixture
def admin_a(org_a: Organization) -> Any:
    """An org admin of organization A (may read, run assessments and import)."""
    user = get_user_model().objects.create_user("admin_a", password=PASSWORD)
    Membership(user=user, organization=org_a, role="org_admin").save()
    return user


@pytest.fixture
def context(browser: Browser, live_server: Any, transactional_db: Any) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 1400, "height": 900}
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page_errors() -> list[str]:
    """What went wrong in the test's page (see :func:`page`): uncaught script errors and HTTP answers of 400
    or more (a missing script or stylesheet breaks a page without failing a visible assertion).  Each test
    ends by asserting it empty."""
    return []


@pytest.fixture
def page(context: BrowserContext, page_errors: list[str]) -> Page:
    new = context.new_page()
    new.on("pageerror", lambda exc: page_errors.append(f"script error: {exc}"))
    new.on(
        "response",
        lambda r: (
            page_errors.append(f"HTTP {r.status} {r.request.method} {r.url}") if r.status >= 400 else None
        ),
    )
    return new


@pytest.fixture
def signed_in(context: BrowserContext, admin_a: Any, live_server: Any) -> Any:
    """``admin_a``'s session put into the browser context (the login form itself is tested on its own)."""
    client = Client()
    client.force_login(admin_a)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return admin_a


@pytest.fixture
def today() -> date:
    return timezone.localdate()
