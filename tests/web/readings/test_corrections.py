"""Dismissing a quarantined row and recording a counter event go through services in one transaction, with
who and why in the history; a reason is never cut silently (the history's "why" holds 100 characters)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from carbonmeter.web.readings import corrections
from carbonmeter.web.readings.models import CounterEvent, QuarantinedRow
from carbonmeter.web.registry.models import Organization
from tests.web.conftest import login
from tests.web.readings.conftest import make_profile
from tests.web.readings.test_pages import YEAR, csv_file, good_and_bad, profiles, upload

__all__ = ["profiles"]  # the fixture, used by name

LONG = "停用测点：该点位已于年内拆除，读数来自调试期的临时采集器，" * 6  # 150 characters


def test_a_dismissal_reason_over_the_history_limit_is_refused_with_the_limit_not_cut(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    assert len(LONG) > corrections.HISTORY_REASON_MAX
    login(client, users["officer_a"])
    row = QuarantinedRow.objects.get(run=upload(client, csv_file(good_and_bad())), code="RD-POINT")
    response = client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": LONG}, follow=True)
    row.refresh_from_db()
    assert row.state == "open", "refused, not stored shortened"
    html = response.content.decode()
    assert f"原因最多 {corrections.HISTORY_REASON_MAX} 个字符，当前 {len(LONG)} 个" in html
    assert "驳回须填写原因" not in html  # the message says what is wrong
    # the form does not let the browser cut a pasted reason either
    detail = client.get(f"/readings/quarantine/{row.pk}/").content.decode()
    (textarea,) = re.findall(r'<textarea id="dismiss-reason"[^>]*>', detail)
    assert "maxlength" not in textarea

    exact = LONG[: corrections.HISTORY_REASON_MAX]
    client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": exact})
    row.refresh_from_db()
    last = row.history.order_by("-history_date").first()
    assert row.state == "dismissed" and last is not None
    assert last.history_change_reason == exact and last.history_user == users["officer_a"]


def test_dismissing_twice_is_refused_by_the_service(
    users: dict[str, Any], client: Client, profiles: Any
) -> None:
    login(client, users["officer_a"])
    row = QuarantinedRow.objects.get(run=upload(client, csv_file(good_and_bad())), code="RD-POINT")
    corrections.dismiss_row(row, user=users["officer_a"], reason="测试点位")
    written = row.history.count()
    with pytest.raises(corrections.RowNotOpen):
        corrections.dismiss_row(row, user=users["officer_a"], reason="再次")
    with pytest.raises(corrections.CorrectionError):
        corrections.dismiss_row(row, user=users["officer_a"], reason="   ")
    assert row.history.count() == written  # refused: nothing written


def test_a_long_counter_event_reason_is_kept_whole_and_the_history_says_it_is_shortened(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    code = "P22.1"
    make_profile(org_a, code, "register_electricity", expected_interval=3600, min_value=0, max_value=10**7)
    login(client, users["officer_a"])
    url = f"/readings/ledger/daily/?point={code}&month={YEAR}-04"
    event = {"ts": f"{YEAR}-04-01T02:00", "kind": "replacement", "old_end": "1015", "new_start": "0"}
    assert client.post(url, event | {"reason": LONG}).status_code == 302
    saved = CounterEvent.objects.get(organization=org_a, point__code=code)
    assert saved.reason == LONG, "the full reason is stored"
    last = saved.history.order_by("-history_date").first()
    assert last is not None and last.reason == LONG and last.history_user == users["officer_a"]
    why = last.history_change_reason or ""
    assert len(why) == corrections.HISTORY_REASON_MAX and why.endswith(corrections.SHORTENED)
    assert why[:-1] == LONG[: corrections.HISTORY_REASON_MAX - 1]
