"""The metering-data pages in English: the upload page, quarantined data, the batches (chain), the data
ledger and a point's data-quality page show the catalogue's English labels and none of the Chinese ones —
headings, tabs, table headers, form labels, the labels of the engines' codes (substitution basis, validity
verdicts) — and the same pages without the language switch stay Chinese.

The language is switched the way the navbar does it (``set_language`` → the language cookie, as in
``tests/web/test_i18n.py``).  The readings are stored through the real ingest (an upload) into the test's
temporary lake, or, for the data-quality page, written as Parquet in the contract's layout (as in
``test_quality.py``).  Data (organization, point and stream names, raw cells) stay as entered, so the
CJK check looks only at the labels: the page's headings, tabs, table headers, form labels and captions.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from carbonmeter.web.registry.models import MeasuringPoint, Organization
from tests.web.conftest import login
from tests.web.readings.test_pages import COAL, YEAR, csv_file, good_and_bad, hourly, profiles, upload
from tests.web.readings.test_quality import (
    QUARTER,
    calibrate,
    instrument,
    local,
    make_profile,
    slots,
    write_batch,
)
from tests.web.test_i18n import CJK, english, keep_language, page

# fixtures: ``profiles`` of test_pages.py (hourly coal scales P01.1 and P02.1, 0–100 t/h) and the autouse
# ``keep_language`` of test_i18n.py (each test starts in the default language)
__all__ = ["keep_language", "profiles"]

TAGS = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")


def text(fragment: str) -> str:
    return SPACE.sub(" ", TAGS.sub(" ", fragment)).strip()


def labels(html: str, *data: str) -> list[str]:
    """The labels of the page's own content (not the navbar): the title, the h1 without the organization's
    name, section headings, the tabs, table headers, form labels, buttons, the captions of the summary cards
    — with the ``data`` shown in them (names of points, streams, instruments) taken out."""
    content = html.split('class="cm-page"', 1)[1]
    found = re.findall(r"<title>(.*?)</title>", html, re.S)
    found += [
        re.sub(r"<small.*?</small>", "", h, flags=re.S)
        for h in re.findall(r"<h1[^>]*>(.*?)</h1>", content, re.S)
    ]
    found += re.findall(r'<div class="card-header[^"]*">\s*<h2[^>]*>(.*?)</h2>', content, re.S)
    found += re.findall(r"<h3[^>]*>(.*?)</h3>", content, re.S)
    found += re.findall(r'<a class="nav-link[^>]*>(.*?)</a>', content, re.S)
    found += re.findall(r"<th[^>]*>(.*?)</th>", content, re.S)
    found += re.findall(r"<label[^>]*>(.*?)</label>", content, re.S)
    found += re.findall(r"<button[^>]*>(.*?)</button>", content, re.S)
    found += re.findall(r"<summary[^>]*>(.*?)</summary>", content, re.S)
    found += re.findall(r'<div class="small text-body-secondary">(.*?)</div>', content, re.S)
    out = []
    for fragment in found:
        label = text(fragment)
        for value in data:
            label = label.replace(value, "")
        if label:
            out.append(label)
    return out


def check(labels_found: list[str], html: str, shown: list[str], absent: list[str]) -> None:
    """Every label of ``shown`` is one of the page's labels (or, for a sentence, in its text); no label of
    ``absent`` is one of its labels nor in its text."""
    words = text(html)
    for label in shown:
        assert label in labels_found or label in words, label
    for label in absent:
        assert label not in labels_found and label not in words, label


def chinese(found: list[str]) -> list[str]:
    return [label for label in found if CJK.search(label)]


#: The tabs of the metering-data pages, in both languages.
TABS_EN = ["Metering data ledger", "Data upload", "Quarantined data", "Data batch"]
TABS_ZH = ["计量数据台账", "数据上传", "隔离数据", "数据批次"]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_ZH = [f"{m}月" for m in range(1, 13)]


@pytest.fixture
def uploaded(client: Client, users: dict[str, Any], profiles: Any) -> Any:
    """A data clerk's upload through the real ingest: five good readings (January and February), three
    quarantined rows (``good_and_bad`` of test_pages.py) and two columns the ingest does not use."""
    rows = [{**row, "备注": "", "remark": ""} for row in good_and_bad()]
    rows += [{**row, "备注": "", "remark": ""} for row in hourly(COAL, date(YEAR, 2, 1), 2, 12.0)]
    run = upload(login(client, users["clerk_a"]), csv_file(rows))
    assert (run.rows_accepted, run.rows_quarantined) == (5, 3), run.report
    return run


@pytest.fixture
def point(lake: Path, org_a: Organization) -> MeasuringPoint:
    """P03.1 in March 2025 (as in test_quality.py): quarter-hourly coal with a six-hour gap on the 17th
    filled by the mean of its neighbours, on instrument L2-01 whose calibration failed on 20 March after
    a pass on 2024-08-26 (so all of March is in doubt), and a carbon content analysed on P03.3 for the
    emission factor."""
    make_profile(
        org_a,
        "P03.1",
        "consumption_mass",
        expected_interval=QUARTER,
        substitution="mean_adjacent",
        instrument=instrument(org_a, "L2-01"),
    )
    calibrate(org_a, "L2-01", dt.date(2025, 3, 20), "fail")
    gap = (local(17, 8), local(17, 14))
    kept = [ts for ts in slots(QUARTER) if not gap[0] <= ts < gap[1]]
    write_batch(lake, org_a, 1, [("P03.1", "consumption_mass", ts, 5.0) for ts in kept])
    write_batch(lake, org_a, 2, [("P03.3", "carbon_content", local(4, 8), 60.0)])
    return MeasuringPoint.objects.select_related("stream").get(organization=org_a, code="P03.1")


# --------------------------------------------------------------------------------------------------------
# Upload page and ingest report
# --------------------------------------------------------------------------------------------------------

UPLOAD_EN = [
    "Metering data",
    "Upload a readings file",
    "Data file *",
    "Upload and validate",
    "File format",
    "Data ingest run",
    "Total rows",
    "Accepted",
    "Duplicates",
    "Quarantined",
    "Submitted by",
]
UPLOAD_ZH = ["计量数据", "上传读数文件", "上传并校验", "文件格式", "数据接收记录", "总行数", "提交人"]


def test_upload_page_in_english(client: Client, uploaded: Any) -> None:
    html = page(english(client), "/readings/upload/")
    assert '<html lang="en">' in html
    found = labels(html)
    check(found, html, [*TABS_EN, *UPLOAD_EN], [*TABS_ZH, *UPLOAD_ZH])
    assert "Data upload · " in found[0]  # the title
    # (the file-format table keeps, in its cells, the Chinese column names the ingest accepts: data)
    assert not chinese(found), chinese(found)


def test_upload_page_in_chinese(client: Client, uploaded: Any) -> None:
    html = page(client, "/readings/upload/")
    assert '<html lang="zh-CN">' in html
    check(labels(html), html, [*TABS_ZH, *UPLOAD_ZH], [*TABS_EN, *UPLOAD_EN])


def test_ingest_report_in_english(client: Client, uploaded: Any) -> None:
    html = page(english(client), f"/readings/runs/{uploaded.pk}/")
    found = labels(html, uploaded.filename)
    check(
        found,
        html,
        ["Ingest report", "Rows not accepted", "Outcome", "Reason", "Total rows", "Batch no.", "Chain hash"],
        ["接收报告", "未接收的行", "结果", "未使用的列", "批次号", "链哈希"],
    )
    # the columns the ingest did not use, listed the English way (the Chinese name is the file's own)
    assert re.search(r'id="ignored-columns">Unused columns: (备注, remark|remark, 备注)</p>', html)
    assert not chinese(found), chinese(found)


def test_ingest_report_in_chinese(client: Client, uploaded: Any) -> None:
    html = page(client, f"/readings/runs/{uploaded.pk}/")
    check(
        labels(html), html, ["接收报告", "未接收的行", "结果", "批次号"], ["Ingest report", "Unused columns"]
    )
    assert re.search(r'id="ignored-columns">未使用的列：(备注、remark|remark、备注)</p>', html)


@pytest.mark.parametrize(
    ("language", "line"), [("en", "Blank rows (skipped): 7, 9–10"), ("zh-hans", "空行（已跳过）：7, 9–10")]
)
def test_blank_rows_line_of_the_report(client: Client, uploaded: Any, language: str, line: str) -> None:
    """The report's line of skipped blank rows (the template with a report that has some), a count glued
    to its label no more: the whole line is one string of the catalogue."""
    request = client.get(f"/readings/runs/{uploaded.pk}/").wsgi_request
    report = SimpleNamespace(blank_rows="7, 9–10", ignored_columns=[], superseded=0, existing=None)
    with translation.override(language):
        html = render_to_string(
            "readings/run.html", {"run": uploaded, "report": report, "page": None}, request=request
        )
    assert f'<p class="small text-body-secondary mt-2 mb-0" id="blank-rows">{line}</p>' in html


# --------------------------------------------------------------------------------------------------------
# Quarantined data
# --------------------------------------------------------------------------------------------------------

QUARANTINE_EN = ["Ingest run", "Sheet", "Row", "Column", "Code", "Reason", "Raw data", "Status", "Filter"]
QUARANTINE_ZH = ["接收记录", "工作表", "原始数据", "状态", "筛选"]


def reasons(html: str) -> dict[str, str]:
    """The reason shown for each quarantined row, by its code (the 6th cell of its row)."""
    rows = re.findall(r'<tr data-quarantined="\d+" data-code="([^"]+)">(.*?)</tr>', html, re.S)
    return {code: text(re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)[5]) for code, cells in rows}


def test_quarantine_page_in_english(client: Client, uploaded: Any) -> None:
    html = page(english(client), "/readings/quarantine/")
    found = labels(html)
    check(found, html, [*TABS_EN, *QUARANTINE_EN], [*TABS_ZH, *QUARANTINE_ZH, "待处理", "修正/驳回"])
    assert "Quarantined data · " in found[0]
    assert not chinese(found), chinese(found)
    # the counts and the link to each row
    for label in ("Open", "Resubmitted", "Dismissed", "Fix / dismiss"):
        assert label in text(html), label
    # the reasons are in English too (the cell the row held is quoted as it was: '十二')
    shown = reasons(html)
    assert len(shown) == 3, shown
    assert not [r for r in shown.values() if CJK.search(r.replace("十二", ""))], shown


def test_quarantine_page_in_chinese(client: Client, uploaded: Any) -> None:
    html = page(client, "/readings/quarantine/")
    check(labels(html), html, [*TABS_ZH, *QUARANTINE_ZH, "待处理", "修正/驳回"], [*TABS_EN, *QUARANTINE_EN])
    assert all(CJK.search(r) for r in reasons(html).values())


# --------------------------------------------------------------------------------------------------------
# Batches (the chain)
# --------------------------------------------------------------------------------------------------------

BATCHES_EN = ["Batch no.", "Content hash", "Chain hash", "Submitted at", "All sources", "Submit a correction"]
BATCHES_ZH = ["批次号", "内容哈希", "链哈希", "提交时间", "全部来源", "提交更正"]


def test_batches_page_in_english(client: Client, uploaded: Any) -> None:
    html = page(english(client), "/readings/batches/")
    found = labels(html)
    check(found, html, [*TABS_EN, *BATCHES_EN], [*TABS_ZH, *BATCHES_ZH])
    assert "Data batch · " in found[0]
    assert f'<tr data-seq="{uploaded.batch.seq}">' in html
    assert "<td>File upload</td>" in html  # the batch's source, a model choice
    assert "chain hash" in text(html)  # the explanation of the chain
    assert not chinese(found), chinese(found)


def test_batches_page_in_chinese(client: Client, uploaded: Any) -> None:
    html = page(client, "/readings/batches/")
    check(labels(html), html, [*TABS_ZH, *BATCHES_ZH, "文件上传"], [*TABS_EN, *BATCHES_EN])


# --------------------------------------------------------------------------------------------------------
# The data ledger
# --------------------------------------------------------------------------------------------------------

LEDGER_EN = [
    "Data completeness in 2025 (availability)",
    "Monthly ledger (by measuring point)",
    "Monthly ledger (by source stream)",
    "Measuring point",
    "Source stream",
    "Quantity",
    "Unit",
    "Full year",
    "Availability",
    "Export the ledger (.xlsx)",
]
LEDGER_ZH = [
    "2025 年数据完整性（可用率）",
    "月度台账（按计量点）",
    "月度台账（按碳源流）",
    "全年",
    "可用率",
    "导出台账（.xlsx）",
]


def headers(html: str, section: str) -> list[str]:
    table = html.split(f'id="{section}"', 1)[1].split("</thead>", 1)[0]
    return [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]


def test_ledger_in_english(client: Client, uploaded: Any) -> None:
    html = page(english(client), f"/readings/ledger/?year={YEAR}")
    found = labels(html)
    check(found, html, [*TABS_EN, *LEDGER_EN], [*TABS_ZH, *LEDGER_ZH])
    assert "Metering data ledger · " in found[0]
    for section in ("by-point", "by-stream"):
        columns = headers(html, section)
        assert columns[-14:] == [*MONTHS_EN, "Full year", "Availability"], columns
        assert "Unit" in columns and "Organization" not in columns  # 单位 here is the unit of measurement
    # the stream's points are listed with an English separator
    assert not re.search(r'<td class="small">[^<]*、', html)
    assert f'<tr data-point="{COAL}"' in html
    assert not chinese(found), chinese(found)


def test_ledger_in_chinese(client: Client, uploaded: Any) -> None:
    html = page(client, f"/readings/ledger/?year={YEAR}")
    check(labels(html), html, [*TABS_ZH, *LEDGER_ZH, "单位"], [*TABS_EN, *LEDGER_EN])
    for section in ("by-point", "by-stream"):
        assert headers(html, section)[-14:] == [*MONTHS_ZH, "全年", "可用率"]


# --------------------------------------------------------------------------------------------------------
# A point's data quality
# --------------------------------------------------------------------------------------------------------

QUALITY_EN = [
    "Measuring point data quality",
    "Availability",
    "Total of the month (t)",
    "Missing data and substitution",
    "Substitution rule",
    "Gap from",
    "Daily data",
    "Expected periods",
    "Total incl. substitution",
    "Measuring instrument validity",
    "Verdict for the days of the month",
    # the engines' codes, named in English: the basis of the gap's value, the validity verdict
    "Mean of the valid values before and after the gap",
    "Verification/calibration failed: data since the last pass are in doubt",
    "(failed on 2025-03-20, last passed on 2024-08-26)",
]
QUALITY_ZH = [
    "计量点数据质量",
    "可用率",
    "缺失数据与替代",
    "替代规则",
    "日数据",
    "计量器具有效性",
    "本月各日判定",
    "缺失前后两个有效值的平均值",
    "检定/校准不合格，自上次合格后的数据存疑",
    "（不合格日期 2025-03-20，上次合格 2024-08-26）",
]


def quality_data(point: MeasuringPoint) -> list[str]:
    """The names the quality page shows as they were entered: point, stream, instrument, organization."""
    inst = instrument(point.organization, "L2-01")
    return [point.name, point.stream.name, inst.name, point.organization.name]


def test_point_quality_page_in_english(client: Client, users: dict[str, Any], point: MeasuringPoint) -> None:
    html = page(english(login(client, users["officer_a"])), f"/readings/quality/{point.pk}/?month=2025-03")
    found = labels(html, *quality_data(point))
    check(found, html, QUALITY_EN, QUALITY_ZH)
    assert "Measuring point data quality P03.1 · " in found[0]
    assert 'id="availability" data-value="' in html
    # the tables of gaps, days and validity verdicts hold labels and numbers only
    for section in ("gaps", "daily", "validity-flags", "validity-runs", "factor"):
        body = html.split(f'id="{section}"', 1)[1].split("</table>", 1)[0].split("</ul>", 1)[0]
        assert not CJK.search(text(body)), (section, [s for s in CJK.findall(text(body))])
    assert not chinese(found), chinese(found)


def test_point_quality_page_in_chinese(client: Client, users: dict[str, Any], point: MeasuringPoint) -> None:
    html = page(login(client, users["officer_a"]), f"/readings/quality/{point.pk}/?month=2025-03")
    check(labels(html), html, QUALITY_ZH, QUALITY_EN)
