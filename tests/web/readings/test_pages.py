"""The metering-data pages: an upload gets a report naming every row's fate, quarantined rows are fixed and
re-submitted (or dismissed with a reason), corrections are new batches, and the ledger shows the totals of
what was stored — computed here the slow way from the rows the test itself uploaded.  Each organization sees
only its own runs, rows, batches and ledger; verifiers and regulators read but never write.

Everything is stored through the real ingest into a Parquet lake in the test's temporary folder.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from carbonmeter.readings.series import LOCAL
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.readings import ledger as ledger_queries
from carbonmeter.web.readings import xlsx
from carbonmeter.web.readings.models import (
    CounterEvent,
    IngestRun,
    PointProfile,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.models import MeasuringPoint, Organization
from tests.web.conftest import login
from tests.web.readings.conftest import make_profile

#: A past month, so no reading is "in the future" whatever day the tests run.
YEAR = 2025
COAL = "P01.1"  # 1#窑头喂煤量, stream S01: an interval quantity (t per hour)
COAL_2 = "P02.1"  # 1#分解炉喂煤量, stream S02


@pytest.fixture
def profiles(org_a: Organization) -> dict[str, PointProfile]:
    """Hourly coal scales on two streams, plausible between 0 and 100 t per hour."""
    return {
        code: make_profile(
            org_a, code, "consumption_mass", expected_interval=3600, min_value=0, max_value=100
        )
        for code in (COAL, COAL_2)
    }


def hourly(point: str, day: date, hours: int, value: float) -> list[dict[str, str]]:
    start = datetime(day.year, day.month, day.day)
    return [
        {
            "point": point,
            "ts": f"{start + timedelta(hours=h):%Y-%m-%d %H:%M}",
            "value": str(value),
            "unit": "t",
        }
        for h in range(hours)
    ]


def csv_file(rows: list[dict[str, str]], name: str = "readings.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    columns = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"), content_type="text/csv")


def upload(client: Client, file: SimpleUploadedFile) -> IngestRun:
    response = client.post("/readings/upload/", {"file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    run = IngestRun.objects.order_by("-pk").first()
    assert run is not None and response["Location"] == f"/readings/runs/{run.pk}/"
    return run


def good_and_bad() -> list[dict[str, str]]:
    """Three good readings, then a value that is no number, an unknown point and one out of range."""
    rows = hourly(COAL, date(YEAR, 1, 1), 3, 10.0)
    rows.append({"point": COAL, "ts": f"{YEAR}-01-01 03:00", "value": "十二", "unit": "t"})
    rows.append({"point": "NOPE", "ts": f"{YEAR}-01-01 04:00", "value": "1", "unit": "t"})
    rows.append({"point": COAL, "ts": f"{YEAR}-01-01 05:00", "value": "500", "unit": "t"})
    return rows


# ------------------------------------------------------------------------------------------------------
# Upload and report
# ------------------------------------------------------------------------------------------------------


def test_upload_reports_every_row_and_the_batch(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    run = upload(client, csv_file(good_and_bad()))
    assert (run.rows_total, run.rows_accepted, run.rows_duplicate, run.rows_quarantined) == (6, 3, 0, 3)
    assert run.source == "upload" and run.created_by == users["clerk_a"] and run.filename == "readings.csv"
    batch = run.batch
    assert batch is not None and batch.rows == 3 and batch.organization == org_a

    html = client.get(f"/readings/runs/{run.pk}/").content.decode()
    assert f'data-seq="{batch.seq}"' in html
    assert batch.content_hash in html and batch.chain_hash in html
    assert 'data-count="accepted">3<' in html and 'data-count="quarantined">3<' in html
    # rows 2–4 are the good ones (header is row 1): the three exceptions are rows 5, 6 and 7
    codes = {q.row: q.code for q in QuarantinedRow.objects.filter(run=run)}
    assert codes == {5: "RD-PARSE", 6: "RD-POINT", 7: "RD-RANGE"}
    for row, code in codes.items():
        assert f'data-fate="quarantined" data-row="{row}" data-code="{code}"' in html
    assert "readings.csv" in html
    # the file as received is kept beside its run and downloads byte for byte
    assert 'id="source-file"' in html
    response = client.get(f"/readings/runs/{run.pk}/file/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == csv_file(good_and_bad()).read()


def test_the_same_file_twice_is_stored_once(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["officer_a"])
    rows = hourly(COAL, date(YEAR, 1, 2), 4, 8.0)
    first = upload(client, csv_file(rows))
    second = upload(client, csv_file(rows, "again.csv"))
    assert first.batch is not None and second.batch is None
    assert second.rows_duplicate == 4 and second.rows_accepted == 0
    assert first.upload and not second.upload  # a run that only repeats stored content keeps no copy
    assert ReadingBatch.objects.filter(organization=org_a).count() == 1
    html = client.get(f"/readings/runs/{second.pk}/").content.decode()
    assert f'data-existing="{first.batch.seq}"' in html
    # the four duplicate rows (2–5) are one line of the report, naming the batch that holds them
    assert html.count('data-fate="duplicate"') == 1 and 'data-row="2"' in html and "2–5" in html
    assert f"批次 #{first.batch.seq}" in html


def test_the_run_and_ledger_pages_show_the_chain_head(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    """Issue 9: the chain's end is shown where people can write it down (and check it later with
    ``ledger verify --expect-head``): on every ingest report, a repeat included, and on the ledger page."""
    login(client, users["clerk_a"])
    rows = hourly(COAL, date(YEAR, 1, 3), 2, 8.0)
    first = upload(client, csv_file(rows))
    repeat = upload(client, csv_file(rows, "again.csv"))
    head = first.batch.chain_hash
    count = ReadingBatch.objects.count()
    for run in (first, repeat):
        html = client.get(f"/readings/runs/{run.pk}/").content.decode()
        assert f'id="chain-head" data-batches="{count}" data-head="{head}"' in html
        assert f"数据链：{count} 个批次，链头 #{first.batch.seq}" in html
    ledger = client.get("/readings/ledger/", {"year": YEAR}).content.decode()
    assert f'data-batches="{count}" data-head="{head}"' in ledger


def test_xlsx_with_chinese_headers_and_parquet_are_read(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["admin_a"])
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "读数"
    ws.append(["计量点", "时间", "数值", "单位"])
    ws.append([COAL, datetime(YEAR, 2, 1, 0, 0), 12.5, "t"])
    ws.append([COAL, datetime(YEAR, 2, 1, 1, 0), 13.5, "吨"])
    body = io.BytesIO()
    wb.save(body)
    run = upload(client, SimpleUploadedFile("二月.xlsx", body.getvalue()))
    assert (run.rows_accepted, run.rows_quarantined) == (2, 0), run.report

    table = pa.table(
        {
            "point": [COAL_2, COAL_2],
            "ts": [f"{YEAR}-02-01 00:00", f"{YEAR}-02-01 01:00"],
            "value": [7.0, 7.5],
        }
    )
    parquet = io.BytesIO()
    pq.write_table(table, parquet)
    run = upload(client, SimpleUploadedFile("feb.parquet", parquet.getvalue()))
    assert (run.rows_accepted, run.rows_quarantined) == (2, 0), run.report


def test_other_file_types_are_refused_before_the_ingest(client: Client, users: dict[str, Any]) -> None:
    login(client, users["clerk_a"])
    response = client.post("/readings/upload/", {"file": SimpleUploadedFile("notes.txt", b"point,ts\n")})
    assert response.status_code == 200
    assert "只接受 CSV、XLSX 或 Parquet 文件" in response.content.decode()
    assert not IngestRun.objects.exists()


def test_a_file_that_cannot_be_read_is_explained_and_nothing_is_recorded(
    client: Client, users: dict[str, Any]
) -> None:
    login(client, users["clerk_a"])
    no_value = SimpleUploadedFile("缺列.csv", f"计量点,时间\n{COAL},{YEAR}-01-01 00:00\n".encode())
    response = client.post("/readings/upload/", {"file": no_value})
    assert response.status_code == 200
    assert "缺少必填列“value”（或“数值”）" in response.content.decode()
    assert not IngestRun.objects.exists()


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq"])
def test_read_only_roles_read_but_cannot_upload(
    client: Client, users: dict[str, Any], org_a: Organization, role: str, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    run = upload(client, csv_file(good_and_bad()))
    client.logout()
    login(client, users[role])
    page = client.get("/readings/upload/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="read-only"' in html and 'name="file"' not in html
    assert f'data-run="{run.pk}"' in html
    assert (
        client.post(
            "/readings/upload/", {"file": csv_file(hourly(COAL, date(YEAR, 3, 1), 1, 1.0))}
        ).status_code
        == 403
    )
    assert client.get(f"/readings/runs/{run.pk}/").status_code == 200
    row = QuarantinedRow.objects.filter(run=run).first()
    assert row is not None
    detail = client.get(f"/readings/quarantine/{row.pk}/").content.decode()
    assert 'id="fix"' not in detail and 'id="dismiss"' not in detail
    assert client.post(f"/readings/quarantine/{row.pk}/", {"reason": "x", "value": "1"}).status_code == 403
    assert client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": "x"}).status_code == 403
    assert client.get("/readings/batches/correct/").status_code == 403
    row.refresh_from_db()
    assert row.state == "open"
    assert IngestRun.objects.filter(organization=org_a).count() == 1


# ------------------------------------------------------------------------------------------------------
# Quarantine
# ------------------------------------------------------------------------------------------------------


def test_a_fixed_row_is_resubmitted_as_a_new_batch_that_resolves_it(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    first = upload(client, csv_file(good_and_bad()))
    row = QuarantinedRow.objects.get(run=first, code="RD-PARSE")
    page = client.get(f"/readings/quarantine/{row.pk}/")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["value"] == "十二" and form.initial["point"] == COAL

    response = client.post(
        f"/readings/quarantine/{row.pk}/",
        {
            "point": COAL,
            "ts": f"{YEAR}-01-01 03:00",
            "value": "12",
            "unit": "t",
            "reason": "手写数字录入错误",
        },
    )
    assert response.status_code == 302
    run = IngestRun.objects.order_by("-pk").first()
    assert run is not None and response["Location"] == f"/readings/runs/{run.pk}/"
    assert run.source == "resubmission" and run.rows_accepted == 1 and run.batch is not None
    assert run.batch.reason == "手写数字录入错误" and run.batch.created_by == users["clerk_a"]
    row.refresh_from_db()
    assert row.state == "resubmitted" and row.resolved_by == run.batch
    # a resolved row is no longer open, and cannot be submitted twice
    again = client.post(f"/readings/quarantine/{row.pk}/", {"value": "12", "reason": "again"})
    assert again.status_code == 302 and IngestRun.objects.filter(organization=org_a).count() == 2


def test_the_fix_form_labels_its_fields_in_chinese_and_marks_the_bad_one(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    """Issue 9: labels in Chinese only (not the column codes beside them), the column the quarantine names
    marked invalid."""
    login(client, users["clerk_a"])
    row = QuarantinedRow.objects.get(run=upload(client, csv_file(good_and_bad())), code="RD-PARSE")
    assert row.column == "value"
    html = client.get(f"/readings/quarantine/{row.pk}/").content.decode()
    form = html[html.index('id="fix"') : html.index('id="dismiss"')]
    labels = re.findall(r'<label class="form-label small[^"]*" for="id_(\w+)">([^<]*)', form)
    assert {k: v.strip() for k, v in labels} == {
        "point": "计量点",
        "quantity": "量",
        "ts": "时间",
        "value": "数值",
        "unit": "单位",
        "sample_id": "样品编号",
        "analyzed_at": "分析日期",
        "laboratory": "化验单位",
    }
    assert "<code" not in form
    bad = re.findall(r'<input[^>]*class="[^"]*is-invalid[^"]*"[^>]*>', form)
    assert len(bad) == 1 and 'name="value"' in bad[0] and 'aria-invalid="true"' in bad[0]
    assert 'data-bad-field="value"' in form


def test_a_fix_that_is_still_wrong_is_quarantined_again(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["clerk_a"])
    first = upload(client, csv_file(good_and_bad()))
    row = QuarantinedRow.objects.get(run=first, code="RD-RANGE")
    client.post(
        f"/readings/quarantine/{row.pk}/",
        {"point": COAL, "ts": f"{YEAR}-01-01 05:00", "value": "400", "unit": "t", "reason": "再试"},
    )
    run = IngestRun.objects.order_by("-pk").first()
    assert run is not None and run.rows_quarantined == 1 and run.batch is None
    assert QuarantinedRow.objects.get(run=run).code == "RD-RANGE"


def test_dismissal_needs_a_reason_and_history_keeps_who_and_why(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["officer_a"])
    run = upload(client, csv_file(good_and_bad()))
    row = QuarantinedRow.objects.get(run=run, code="RD-POINT")
    client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": ""})
    row.refresh_from_db()
    assert row.state == "open"
    response = client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": "测试点位，已拆除"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == "dismissed"
    last = row.history.order_by("-history_date").first()
    assert last is not None and last.history_user == users["officer_a"]
    assert last.history_change_reason == "测试点位，已拆除"
    html = client.get(f"/readings/quarantine/{row.pk}/").content.decode()
    assert "测试点位，已拆除" in html and "officer_a" in html


def test_quarantine_list_filters_by_code_state_and_run_and_answers_htmx_with_the_table(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["clerk_a"])
    run = upload(client, csv_file(good_and_bad()))
    page = client.get("/readings/quarantine/")
    assert {q.code for q in page.context["page"].object_list} == {"RD-PARSE", "RD-POINT", "RD-RANGE"}
    only = client.get("/readings/quarantine/", {"code": "RD-RANGE", "run": run.pk})
    assert [q.code for q in only.context["page"].object_list] == ["RD-RANGE"]
    bogus = client.get("/readings/quarantine/", {"code": "<script>", "run": "x"})
    assert bogus.status_code == 200 and len(bogus.context["page"].object_list) == 3
    partial = client.get(
        "/readings/quarantine/",
        {"code": "RD-POINT"},
        headers={"HX-Request": "true", "HX-Target": "quarantine-table"},
    )
    html = partial.content.decode()
    assert "<html" not in html and "RD-POINT" in html and 'data-code="RD-RANGE"' not in html
    dismissed = client.get("/readings/quarantine/", {"state": "dismissed"})
    assert not dismissed.context["page"].object_list


# ------------------------------------------------------------------------------------------------------
# Batches and corrections
# ------------------------------------------------------------------------------------------------------


def test_a_correction_is_a_new_batch_whose_values_the_ledger_uses(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["officer_a"])
    first = upload(client, csv_file(hourly(COAL, date(YEAR, 3, 1), 2, 10.0)))
    assert first.batch is not None
    response = client.post(
        "/readings/batches/correct/",
        {
            "corrects": first.batch.pk,
            "rows": f"point,ts,value,unit\n{COAL},{YEAR}-03-01 01:00,4,t\n",
            "reason": "皮带秤零点漂移，按复核值更正",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run = IngestRun.objects.order_by("-pk").first()
    assert run is not None and run.batch is not None
    assert run.batch.corrects == first.batch and run.batch.reason == "皮带秤零点漂移，按复核值更正"
    assert run.batch.seq > first.batch.seq

    html = client.get("/readings/batches/").content.decode()
    assert f'data-seq="{run.batch.seq}"' in html and f"更正 #{first.batch.seq}" in html
    assert f"被 #{run.batch.seq} 更正" in html

    ledger = client.get("/readings/ledger/", {"year": YEAR}).context["book"]
    march = {p.code: p.months[2] for p in ledger.points}[COAL]
    assert march is not None and march.total == pytest.approx(10.0 + 4.0) and march.n == 2


def test_a_correction_needs_a_reason_and_exactly_one_kind_of_data(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["clerk_a"])
    first = upload(client, csv_file(hourly(COAL, date(YEAR, 3, 2), 1, 10.0)))
    assert first.batch is not None
    page = client.get("/readings/batches/correct/", {"batch": first.batch.pk})
    assert page.context["form"].initial["corrects"] == first.batch
    bad = client.post("/readings/batches/correct/", {"corrects": first.batch.pk, "rows": "", "reason": ""})
    assert bad.status_code == 200
    errors = bad.context["form"].errors
    assert "reason" in errors
    none = client.post("/readings/batches/correct/", {"corrects": first.batch.pk, "reason": "why"})
    assert "二者选一" in none.content.decode()
    unknown = client.post(
        "/readings/batches/correct/", {"corrects": first.batch.pk, "rows": "foo,bar\n1,2", "reason": "why"}
    )
    assert "未知的列" in unknown.content.decode()
    assert IngestRun.objects.count() == 1


# ------------------------------------------------------------------------------------------------------
# Ledger
# ------------------------------------------------------------------------------------------------------


def test_ledger_totals_streams_and_completeness_are_the_uploaded_rows_summed(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    rows = hourly(COAL, date(YEAR, 1, 1), 48, 10.5) + hourly(COAL, date(YEAR, 2, 1), 24, 2.0)
    rows += hourly(COAL_2, date(YEAR, 1, 31), 24, 1.25)
    upload(client, csv_file(rows))

    response = client.get("/readings/ledger/", {"year": YEAR})
    assert response.status_code == 200
    book = response.context["book"]
    by_point = {p.code: p for p in book.points}
    coal = by_point[COAL]
    jan, feb = coal.months[0], coal.months[1]
    assert jan is not None and jan.total == pytest.approx(48 * 10.5) and jan.n == 48
    assert jan.expected == 31 * 24 and jan.availability == pytest.approx(48 / (31 * 24))
    assert feb is not None and feb.total == pytest.approx(24 * 2.0) and feb.expected == 28 * 24
    march = coal.months[2]
    assert march is not None and march.total is None, "a month without readings has no total, not zero"
    assert (march.n, march.expected, march.availability) == (0, 31 * 24, None), "no data: '—', not 0 %"
    assert coal.year_total == pytest.approx(48 * 10.5 + 48.0)
    stream_of = {p.code: p.stream.code for p in MeasuringPoint.objects.filter(organization=org_a)}
    streams = {(s.code, s.quantity): s for s in book.streams}
    s1 = streams[(stream_of[COAL], "consumption_mass")]
    assert s1.months[0] is not None and s1.months[0].total == pytest.approx(48 * 10.5)
    s2 = streams[(stream_of[COAL_2], "consumption_mass")]
    assert s2.months[0] is not None and s2.months[0].total == pytest.approx(24 * 1.25)

    heatmap = response.context["heatmap"]
    row = heatmap["points"].index(f"{COAL} {coal.name}")
    cells = {(m, p): (v, n) for m, p, v, n in heatmap["cells"]}
    assert cells[(0, row)] == (pytest.approx(round(48 / (31 * 24) * 100, 1)), 48)
    assert cells[(2, row)] == (None, 0), "a month without data is '—' (grey), not a red 0"
    html = response.content.decode()
    assert 'id="heatmap"' in html and "echarts.min.js" in html and "readings-heatmap.js" in html
    assert f'data-point="{COAL}"' in html


def test_daily_view_lists_every_day_of_the_month(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    login(client, users["clerk_a"])
    upload(client, csv_file(hourly(COAL, date(YEAR, 1, 30), 36, 1.0)))
    client.logout()
    login(client, users["verifier_a"])
    response = client.get("/readings/ledger/daily/", {"point": COAL, "month": f"{YEAR}-01"})
    assert response.status_code == 200
    days = response.context["series"]["consumption_mass"]
    assert len(days) == 31
    by_day = {d.day: d.cell for d in days}
    assert by_day[date(YEAR, 1, 30)].total == pytest.approx(24.0)
    assert by_day[date(YEAR, 1, 31)].total == pytest.approx(12.0)
    assert by_day[date(YEAR, 1, 29)] is None
    assert 'id="counter-event-form"' not in response.content.decode()  # the verifier only reads
    point = profiles[COAL].point
    assert f'href="/readings/quality/{point.pk}/?month={YEAR}-01"' in response.content.decode()
    assert client.get("/readings/ledger/daily/", {"point": "NOPE"}).status_code == 404


def test_counter_events_are_recorded_by_the_plans_editors_and_used_by_the_ledger(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """A meter replacement between two registers: the ledger counts old_end − prev + value − new_start."""
    code = "P22.1"  # 110kV进线Ⅰ关口电量: a totalizer
    make_profile(org_a, code, "register_electricity", expected_interval=3600, min_value=0, max_value=10**7)
    login(client, users["officer_a"])
    readings = [
        {"point": code, "ts": f"{YEAR}-04-01 00:00", "value": "1000"},
        {"point": code, "ts": f"{YEAR}-04-01 01:00", "value": "1010"},
        {"point": code, "ts": f"{YEAR}-04-01 03:00", "value": "5"},
    ]
    upload(client, csv_file(readings))
    url = f"/readings/ledger/daily/?point={code}&month={YEAR}-04"
    before = client.get(url).context["series"]["register_electricity"][0].cell
    assert before.total == pytest.approx(10.0) and before.decreases == 1

    event = {
        "ts": f"{YEAR}-04-01T02:00",
        "kind": "replacement",
        "old_end": "1015",
        "new_start": "0",
        "reason": "电能表故障更换",
    }
    clerk = Client()
    login(clerk, users["clerk_a"])
    assert clerk.post(url, event).status_code == 403
    response = client.post(url, event)
    assert response.status_code == 302
    saved = CounterEvent.objects.get(organization=org_a, point__code=code)
    assert saved.kind == "replacement" and saved.old_end == 1015 and saved.reason == "电能表故障更换"
    after = client.get(url).context["series"]["register_electricity"][0].cell
    assert after.total == pytest.approx(10.0 + (1015 - 1010) + (5 - 0)) and after.decreases == 0
    assert "电能表故障更换" in client.get(url).content.decode()

    # counter events belong to totalizers: the coal scale (an interval quantity) offers no form
    make_profile(org_a, COAL, "consumption_mass", expected_interval=3600)
    coal = f"/readings/ledger/daily/?point={COAL}&month={YEAR}-04"
    assert 'id="counter-event-form"' not in client.get(coal).content.decode()
    assert "只有配置为累计读数" in client.post(coal, event).content.decode()
    assert CounterEvent.objects.filter(organization=org_a).count() == 1

    future = dict(event, ts=f"{date.today().year + 1}-01-01T00:00")
    refused = client.post(url, future)
    assert refused.status_code == 200 and "不能晚于现在" in refused.content.decode()


def test_ledger_workbook_has_the_three_sheets_with_the_pages_numbers(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    upload(client, csv_file(hourly(COAL, date(YEAR, 5, 1), 24, 3.0)))
    response = client.get("/readings/ledger/export.xlsx", {"year": YEAR})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["月度台账", "日台账", "完整性"]
    monthly = [r for r in wb["月度台账"].iter_rows(values_only=True) if r and r[0] == COAL]
    assert monthly and monthly[0][3] == "消耗量（质量）" and monthly[0][5 + 4] == pytest.approx(72.0)
    daily = [r for r in wb["日台账"].iter_rows(values_only=True) if r and r[0] == COAL]
    assert len(daily) == 1 and daily[0][4] == pytest.approx(72.0)
    assert monthly[0][5] is None  # January: no readings, so no total (an empty cell, never 0)
    complete = [r for r in wb["完整性"].iter_rows(values_only=True) if r and r[0] == COAL]
    assert complete[0][3 + 4] == pytest.approx(24 / (31 * 24))
    assert complete[0][3] is None  # January: no readings (before the first data): a blank cell, not 0
    assert complete[0][3 + 5] is None  # June: no readings either: blank
    # the year: from May (the first month with data) to December, every hour expected
    hours = sum(calendar.monthrange(YEAR, m)[1] * 24 for m in range(5, 13))
    assert complete[0][3 + 12] == pytest.approx(24 / hours)


def test_ledger_counts_no_future_days_and_the_year_over_the_elapsed_period(
    client: Client, users: dict[str, Any], org_a: Organization, profiles: Any
) -> None:
    """Judged on 11 March at 00:00: March expects only its first ten days, April–December nothing; the
    year is January (full) + the elapsed March, February (silent after January's data) counting as absent;
    the workbook leaves the months without data and the months to come blank."""
    login(client, users["clerk_a"])
    upload(
        client,
        csv_file(hourly(COAL, date(YEAR, 1, 1), 31 * 24, 1.0) + hourly(COAL, date(YEAR, 3, 1), 240, 1.0)),
    )
    now = datetime(YEAR, 3, 11, tzinfo=LOCAL)
    book = ledger_queries.year_ledger(org_a, YEAR, now=now)
    coal = {p.code: p for p in book.points}[COAL]
    jan, feb, mar, apr = coal.months[:4]
    assert jan is not None and jan.availability == 1.0
    assert feb is not None and (feb.n, feb.expected, feb.availability) == (0, 28 * 24, None)
    assert mar is not None and (mar.n, mar.expected, mar.availability) == (240, 240, 1.0), "future days"
    assert apr is None and all(c is None for c in coal.months[3:]), "months to come expect nothing"
    assert coal.year_availability == pytest.approx((31 * 24 + 240) / (31 * 24 + 28 * 24 + 240))
    stream = next(s for s in book.streams if COAL in s.points)
    assert stream.months[2] is not None and stream.months[2].expected is not None
    assert stream.months[4] is None
    cells = {(m, p): v for m, p, v, _ in book.heatmap()["cells"]}
    row = book.heatmap()["points"].index(f"{COAL} {coal.name}")
    assert [cells[(m, row)] for m in range(5)] == [100.0, None, 100.0, None, None]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.ledger_workbook(book, [])))
    (complete,) = [r for r in wb["完整性"].iter_rows(values_only=True) if r and r[0] == COAL]
    assert complete[3:8] == (1.0, None, 1.0, None, None)
    assert complete[3 + 12] == pytest.approx(coal.year_availability)


def test_low_availability_mark_is_the_pack_value(org_a: Organization) -> None:
    book = ledger_queries.year_ledger(org_a, YEAR, now=datetime(YEAR, 3, 11, tzinfo=LOCAL))
    assert book.low == load_pack(org_a.pack_ref).settings.readings_low_availability.value == 0.9
    assert book.low_pct == 90.0


# ------------------------------------------------------------------------------------------------------
# Tenancy
# ------------------------------------------------------------------------------------------------------


def test_another_organization_reaches_none_of_a_s_data(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization, profiles: Any
) -> None:
    login(client, users["clerk_a"])
    run = upload(client, csv_file(good_and_bad()))
    assert run.batch is not None
    row = QuarantinedRow.objects.filter(run=run).first()
    assert row is not None
    client.logout()

    login(client, users["admin_b"])
    assert client.get(f"/readings/runs/{run.pk}/").status_code == 404
    assert client.get(f"/readings/runs/{run.pk}/file/").status_code == 404
    assert client.get(f"/readings/quarantine/{row.pk}/").status_code == 404
    assert client.post(f"/readings/quarantine/{row.pk}/", {"value": "1", "reason": "x"}).status_code == 404
    assert client.post(f"/readings/quarantine/{row.pk}/dismiss/", {"reason": "x"}).status_code == 404
    row.refresh_from_db()
    assert row.state == "open"
    assert not client.get("/readings/upload/").context["page"].object_list
    assert not client.get("/readings/quarantine/", {"state": "all"}).context["page"].object_list
    assert not client.get("/readings/batches/").context["page"].object_list
    book = client.get("/readings/ledger/", {"year": YEAR}).context["book"]
    assert book.org == org_b and COAL not in {p.code for p in book.points}
    assert client.get("/readings/ledger/daily/", {"point": COAL}).status_code == 404
    # correcting A's batch from B: not a choice of B's form
    response = client.post(
        "/readings/batches/correct/",
        {"corrects": run.batch.pk, "rows": f"point,ts,value\n{COAL},{YEAR}-01-01 00:00,1", "reason": "x"},
    )
    assert response.status_code == 200 and "corrects" in response.context["form"].errors
    assert IngestRun.objects.filter(organization=org_b).count() == 0
    # and B's workbook holds none of A's points
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/readings/ledger/export.xlsx").content))
    assert COAL not in {r[0] for r in workbook["月度台账"].iter_rows(values_only=True)}


def test_the_expired_verifier_sees_nothing(client: Client, users: dict[str, Any]) -> None:
    login(client, users["expired_verifier"])
    assert client.get("/readings/ledger/").status_code == 404
    assert client.get("/readings/upload/").status_code == 404


def test_pages_are_in_the_navigation_and_need_a_login(client: Client, users: dict[str, Any]) -> None:
    for url in ("/readings/ledger/", "/readings/upload/", "/readings/quarantine/", "/readings/batches/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    login(client, users["clerk_a"])
    html = client.get("/readings/ledger/").content.decode()
    assert 'href="/readings/ledger/">计量数据<' in html
    for url in ("/readings/upload/", "/readings/quarantine/", "/readings/batches/"):
        assert client.get(url).status_code == 200, url


def test_pages_read_in_english_with_reasons_from_their_codes(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    """The stored reason is Chinese; an English reader gets it worded from the code and its parameters."""
    login(client, users["clerk_a"])
    run = upload(client, csv_file(good_and_bad()))
    english = {"Accept-Language": "en"}
    for url in (
        f"/readings/runs/{run.pk}/",
        "/readings/quarantine/",
        "/readings/ledger/",
        "/readings/batches/",
        "/readings/upload/",
    ):
        response = client.get(url, headers=english)
        assert response.status_code == 200, url
        assert '<html lang="en">' in response.content.decode(), url
    html = client.get("/readings/quarantine/", headers=english).content.decode()
    assert "is not a finite number" in html and "不是有限数值" not in html
    assert "不是有限数值" in client.get("/readings/quarantine/").content.decode()


def test_an_undecodable_row_and_its_run_are_shown(
    client: Client, users: dict[str, Any], profiles: Any
) -> None:
    """A row whose bytes are not UTF-8 is quarantined alone; its run, the list and its own page show it with
    the bytes escaped (and nothing else of the file is lost)."""
    login(client, users["clerk_a"])
    data = f"point,ts,value,unit\n{COAL},{YEAR}-01-01 00:00,1,t\n{COAL},{YEAR}-01-01 01:00,\xff,t\n".encode(
        "latin-1"
    )
    run = upload(client, SimpleUploadedFile("bytes.csv", data, content_type="text/csv"))
    assert (run.rows_total, run.rows_accepted, run.rows_quarantined) == (2, 1, 1)
    row = QuarantinedRow.objects.get(run=run)
    assert (row.code, row.variant, row.row) == ("RD-PARSE", "encoding", 3)
    for page in (f"/readings/runs/{run.pk}/", "/readings/quarantine/", f"/readings/quarantine/{row.pk}/"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "\\xff" in response.content.decode(), page
