"""The 403, 404 and 500 pages speak the reader's language (Chinese first, English through the switch) and
say what happened in words, not with Django's English defaults or a developer's note (issue 9, item 5).

The 500 page is reached through a URL that fails on purpose (``crash_urls``): the project's urls plus one
view that raises, with debug off as in production.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.web.conftest import login

CRASH_URLS = "tests.web.crash_urls"


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_404_is_a_chinese_page_in_the_layout(client: Client, users: dict[str, Any]) -> None:
    login(client, users["officer_a"])
    response = client.get(reverse("instrument_detail", args=["NO-SUCH"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-status="404"' in html and "页面不存在" in html
    assert "计量器具一览表" in html  # the layout's navigation: the reader can go on from here
    assert "no such instrument" not in html  # the view's developer note stays in the log
    assert "Not Found" not in html


def test_404_in_english(client: Client, users: dict[str, Any]) -> None:
    english(login(client, users["officer_a"]))
    html = client.get("/no/such/page/").content.decode()
    assert 'data-status="404"' in html and "Page not found" in html
    assert "页面不存在" not in html


def test_403_is_a_chinese_page_with_the_reason(client: Client, users: dict[str, Any]) -> None:
    login(client, users["verifier_a"])
    response = client.get(reverse("calibration_record"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-status="403"' in html and "无权访问" in html
    assert "无权录入该单位的检定/校准记录" in html
    assert "Forbidden" not in html


def test_403_in_english(client: Client, users: dict[str, Any]) -> None:
    english(login(client, users["verifier_a"]))
    html = client.get(reverse("calibration_record")).content.decode()
    assert 'data-status="403"' in html and "Access denied" in html
    assert "无权" not in html


@pytest.mark.urls(CRASH_URLS)
@pytest.mark.parametrize(
    ("language", "shown", "absent"),
    [("zh-hans", "服务器错误", "Server Error"), ("en", "Server error", "服务器错误")],
)
def test_500_page_in_the_readers_language(
    client: Client, users: dict[str, Any], language: str, shown: str, absent: str
) -> None:
    client.raise_request_exception = False
    login(client, users["officer_a"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/crash/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-status="500"' in html and shown in html
    assert absent not in html
    assert "deliberate" not in html  # the exception's text is never shown
