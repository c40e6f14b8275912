"""End to end in a real browser: log in, filter and sort the register (htmx), import a workbook (a bad one is
refused with its cell located, a good one previewed then confirmed), run an assessment and compare its rates
with ``carbonmeter assess`` on the exported snapshot, print a label to PDF."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from carbonmeter.io.snapshot_xlsx import write_xlsx
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.registry.models import Instrument, Organization
from tests.web.browser.pdftext import pdf_text, read_pdf
from tests.web.conftest import PASSWORD

SHEET = "碳计量器具"
#: Fields the register's search box looks in (its placeholder: 编号、名称、型号、出厂/管理编号、厂家、地点).
SEARCHED = ("code", "name", "model", "serial_no", "asset_no", "manufacturer", "location")
MM = 72 / 25.4  # points per millimetre


# --- helpers ---------------------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """Rows of every table an import could touch, history included."""
    return {
        m._meta.label: m._default_manager.count()
        for label in ("registry", "metrology", "assessment", "accounts")
        for m in apps.get_app_config(label).get_models()
    }


def searched(org: Organization, text: str) -> QuerySet[Instrument]:
    """The instruments of ``org`` whose searched fields contain every word of ``text`` (the DB's answer)."""
    qs = Instrument.objects.filter(organization=org)
    for word in text.split():
        match = Q()
        for name in SEARCHED:
            match |= Q(**{f"{name}__icontains": word})
        qs = qs.filter(match)
    return qs


def codes(qs: QuerySet[Instrument], *order: str) -> list[str]:
    return list(qs.order_by(*order).values_list("code", flat=True))


def watch_htmx(page: Page) -> None:
    """Count, in the page, htmx swaps of the register's table and the requests in flight, and note the time
    of the last htmx event or response (other htmx loads, such as the navbar's organization menu, count as
    requests)."""
    page.evaluate(
        """() => {
            window.cmSwaps = 0; window.cmPending = 0; window.cmLast = performance.now();
            const body = document.body, now = () => { window.cmLast = performance.now(); };
            // counted on the XHR itself: a request whose element was swapped out meanwhile fires its
            // htmx:afterRequest on a detached element, which never reaches the body
            body.addEventListener("htmx:beforeRequest", (e) => {
                window.cmPending += 1; now();
                e.detail.xhr.addEventListener("loadend", () => { window.cmPending -= 1; now(); });
            });
            body.addEventListener("htmx:afterSettle", (e) => {
                if (e.detail.target && e.detail.target.id === "register-table") { window.cmSwaps += 1; }
                now();
            });
        }"""
    )


#: Milliseconds without htmx activity after which the register is taken as settled: longer than the
#: search box's 400 ms debounce, so a typed search still waiting to be sent is not missed.
QUIET_MS = 600


def settle(page: Page, action: Any) -> None:
    """Do ``action``, then wait until htmx has swapped a new table in and has been quiet for QUIET_MS."""
    page.evaluate("() => { window.cmSwaps = 0; }")
    action()
    page.wait_for_function(
        "() => window.cmSwaps > 0 && window.cmPending === 0"
        f" && performance.now() - window.cmLast > {QUIET_MS}"
    )


def shown_codes(page: Page) -> list[str]:
    rows = page.locator("#register-table tbody tr[data-code]")
    return [rows.nth(i).get_attribute("data-code") or "" for i in range(rows.count())]


def set_cell(book: Any, code: str, header: str, value: str) -> Any:
    """Put ``value`` under ``header`` in instrument ``code``'s row of the register sheet (columns found by
    their headers); returns the cell."""
    ws = book[SHEET]
    column = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        if row[column["编号"] - 1].value == code:
            cell = row[column[header] - 1]
            cell.value = value
            return cell
    raise AssertionError(f"{code} is not in sheet {SHEET}")


def workbook(org: Organization, today: date, path: Path, code: str, header: str, value: str) -> Any:
    """Org A's snapshot as the contract's workbook, with one cell changed; returns that cell."""
    write_xlsx(build_snapshot(org, today), path)
    book = load_workbook(path)
    cell = set_cell(book, code, header, value)
    book.save(path)
    return cell


def upload(page: Page, path: Path) -> None:
    page.goto("/transfer/")
    page.get_by_label("工作簿（.xlsx）").set_input_files(path)
    page.get_by_role("button", name="预览", exact=True).click()
    expect(page.locator("#preview")).to_be_visible()


def shown_pct(rate: float | None) -> str:
    """A rate as the run page shows it (Django's floatformat:1, which rounds half up)."""
    if rate is None:
        return "—"
    return f"{Decimal(repr(rate * 100)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


# --- 1. log in -------------------------------------------------------------------------------------------


def test_log_in_through_the_form(
    page: Page, live_server: Any, admin_a: Any, org_a: Organization, tmp_path: Path, page_errors: list[str]
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))

    page.get_by_label("用户名").fill("admin_a")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("main .alert-danger")).to_contain_text("密码")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page.get_by_role("link", name="计量器具一览表")).to_have_count(0)  # the navbar is for users only

    page.get_by_label("用户名").fill("admin_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_contain_text(org_a.name)
    expect(page.locator("h1")).to_contain_text("仪表盘")
    expect(page.locator("button.cm-user")).to_have_text("admin_a")
    # an org admin's first visit runs an assessment, so the rate table is filled
    expect(page.locator(".cm-rate-table tbody tr[data-row]").first).to_be_visible()
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page_errors == []


# --- 2. the register -------------------------------------------------------------------------------------


def test_filter_and_sort_the_register(
    page: Page, signed_in: Any, org_a: Organization, page_errors: list[str]
) -> None:
    page.goto("/instruments/")
    everything = Instrument.objects.filter(organization=org_a)
    expect(page.locator(".cm-count")).to_have_text(f"共 {everything.count()} 台器具")
    watch_htmx(page)
    search, status = page.get_by_label("搜索"), page.get_by_label("状态")

    text = "汽车衡"  # part of a name: the truck scales
    settle(page, lambda: (search.fill(text), search.press("Tab")))
    found = searched(org_a, text)
    assert shown_codes(page) == codes(found, "code") and found.count() > 2
    expect(page.locator(".cm-count")).to_have_text(f"共 {found.count()} 台器具（已筛选）")
    expect(page).to_have_url(re.compile(r"/instruments/\?q=%E6%B1%BD%E8%BD%A6%E8%A1%A1$"))
    scrapped = codes(found.filter(status="scrapped"), "code")
    assert scrapped, "the demo has a scrapped truck scale: the status filter must drop it"

    settle(page, lambda: status.select_option("in_use"))
    in_use = found.filter(status="in_use")
    assert shown_codes(page) == codes(in_use, "code")
    assert not set(scrapped) & set(shown_codes(page))
    expect(page).to_have_url(re.compile(r"status=in_use"))

    by_name = page.locator("#register-table thead th").filter(has_text="器具名称")
    settle(page, lambda: by_name.get_by_role("link").click())
    assert shown_codes(page) == codes(in_use, "name", "code")
    assert shown_codes(page) != codes(in_use, "code")  # the order really changed
    expect(by_name).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=name"))

    settle(page, lambda: by_name.get_by_role("link").click())
    assert shown_codes(page) == codes(in_use, "-name", "code")
    expect(by_name).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(search).to_have_value(text)  # the filters survive the sort
    expect(status).to_have_value("in_use")

    code = "WB-03"  # a known code: exactly one row, still sorted and filtered
    settle(page, lambda: (search.fill(code), search.press("Tab")))
    assert shown_codes(page) == codes(searched(org_a, code).filter(status="in_use"), "-name") == [code]
    expect(page).to_have_url(re.compile(r"q=WB-03&status=in_use&sort=-name$"))

    page.reload()  # the address bar holds the whole state: a reload shows the same rows
    assert shown_codes(page) == [code]
    expect(page.locator("#register-table thead th").filter(has_text="器具名称")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert page_errors == []


def test_sorting_right_after_typing_a_search_is_kept_in_the_address_bar(
    page: Page, signed_in: Any, org_a: Organization, page_errors: list[str]
) -> None:
    """A user types a search, sees the rows, and clicks a column heading (the search box still focused)."""
    page.goto("/instruments/")
    watch_htmx(page)
    text = "汽车衡"
    settle(page, lambda: page.get_by_label("搜索").fill(text))  # htmx's debounced search, no Tab
    found = searched(org_a, text)
    assert shown_codes(page) == codes(found, "code")

    by_name = page.locator("#register-table thead th").filter(has_text="器具名称")
    settle(page, lambda: by_name.get_by_role("link").click())
    assert shown_codes(page) == codes(found, "name", "code"), "the click on 器具名称 did not sort the rows"
    expect(page).to_have_url(re.compile(r"sort=name"), timeout=2000)
    page.reload()
    assert shown_codes(page) == codes(found, "name", "code")
    assert page_errors == []


# --- 3. import -------------------------------------------------------------------------------------------


def test_import_a_bad_then_a_good_workbook(
    page: Page, signed_in: Any, org_a: Organization, today: date, tmp_path: Path, page_errors: list[str]
) -> None:
    bad_file = tmp_path / "坏台账.xlsx"
    bad = workbook(org_a, today, bad_file, "WB-03", "状态", "坏了")
    before = row_counts()

    upload(page, bad_file)
    preview = page.locator("#preview")
    expect(preview.locator(".alert-danger")).to_contain_text("未导入任何数据")
    located = page.locator(f'#problems tbody tr:has(td[data-cell="{bad.coordinate}"])')
    expect(located).to_have_count(1)
    expect(located.locator("td").nth(0)).to_have_text(SHEET)
    expect(located.locator("td").nth(1)).to_have_text(str(bad.row))
    expect(located.locator("td").nth(2)).to_contain_text("状态")
    expect(located.locator("td").nth(3)).to_contain_text("坏了")
    expect(located).to_have_attribute(
        "title", re.compile(rf"^坏台账\.xlsx: {SHEET}!{bad.coordinate} \(状态\)")
    )
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert row_counts() == before
    assert not list((Path(settings.MEDIA_ROOT) / "imports").glob("*"))  # nothing is kept to confirm later

    good_file = tmp_path / "台账2026.xlsx"
    new_name = "3#辅料电子汽车衡（改造后）"
    workbook(org_a, today, good_file, "WB-03", "器具名称", new_name)
    upload(page, good_file)
    instruments = page.locator('#report tr[data-list="instruments"]')
    expect(instruments.locator("td[data-updated]")).to_have_attribute("data-updated", "WB-03")
    expect(instruments.locator("td[data-created]")).to_have_attribute("data-created", "")
    expect(page.locator("#preview")).to_contain_text("确认后将写入 1 处变更")
    assert row_counts() == before  # a preview writes nothing
    assert Instrument.objects.get(organization=org_a, code="WB-03").name != new_name

    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("main .alert-success")).to_contain_text("导入完成：新增 0 条，更新 1 条。")
    assert Instrument.objects.get(organization=org_a, code="WB-03").name == new_name
    assert page_errors == []


# --- 4. assessment vs the CLI ----------------------------------------------------------------------------


def test_assessment_rates_equal_the_cli_on_the_exported_snapshot(
    page: Page,
    signed_in: Any,
    org_a: Organization,
    today: date,
    tmp_path: Path,
    page_errors: list[str],
) -> None:
    runs_before = AssessmentRun.objects.filter(organization=org_a).count()
    page.goto("/assessments/")
    expect(page.get_by_label("评价日期")).to_have_value(today.isoformat())
    page.get_by_role("button", name="运行评价").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    expect(page.locator("#verdict")).to_be_visible()
    assert AssessmentRun.objects.filter(organization=org_a).count() == runs_before + 1
    run = AssessmentRun.objects.filter(organization=org_a).latest("created_at", "pk")
    assert page.url.endswith(f"/assessments/{run.pk}/")

    shown = []
    rows = page.locator("#equipping tbody tr[data-row]")
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        exact = cells.nth(3).get_attribute("data-rate")  # the stored rate, unrounded ("" when none)
        shown.append(
            {
                "row": rows.nth(i).get_attribute("data-row"),
                "required": int(cells.nth(1).inner_text()),
                "equipped": int(cells.nth(2).inner_text()),
                "rate": None if exact == "" else float(exact or "nan"),
                "shown": cells.nth(3).inner_text().strip(),
            }
        )
    assert shown, "the run page shows no Table A.1 rows"
    pack = page.locator("dt", has_text="规则包").locator("xpath=following-sibling::dd[1]")
    assert (pack.get_attribute("data-pack"), pack.get_attribute("data-pack-version")) == (
        run.pack_id,
        run.pack_version,
    )
    # a person reads the pack's title and version, not its id
    assert pack.inner_text() == f"{load_pack(run.pack_id).title.zh}（{run.pack_version}）"

    # the snapshot, exported through the page's link with the page's session
    page.goto("/transfer/")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 JSON").click()
    exported = tmp_path / "snapshot.json"
    download.value.save_as(exported)
    assert json.loads(exported.read_text(encoding="utf-8"))["as_of"] == today.isoformat()

    cli = Path(sys.executable).with_name("carbonmeter")
    assert cli.is_file(), f"{cli} missing: install the project into the venv"
    done = subprocess.run(
        [
            str(cli),
            "assess",
            str(exported),
            "--profile",
            f"{run.pack_id}@{run.pack_version}",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    equipping = json.loads(done.stdout)["equipping"]
    expected = [
        {
            "row": r["row"],
            "required": r["required"],
            "equipped": r["equipped"],
            "rate": r["rate"],
            "shown": shown_pct(r["rate"]),
        }
        for r in equipping
    ]
    assert shown == expected
    assert any(r["required"] for r in equipping), "a comparison of empty rows would prove nothing"
    assert page_errors == []


# --- 5. label --------------------------------------------------------------------------------------------


def test_print_a_label(
    page: Page, signed_in: Any, org_a: Organization, tmp_path: Path, page_errors: list[str]
) -> None:
    inst = Instrument.objects.get(organization=org_a, code="WB-03")
    assert inst.asset_no
    page.goto(f"/instruments/?q={inst.code}")
    page.get_by_role("link", name=f"打印 {inst.code} 的标识").click()
    expect(page).to_have_url(re.compile(rf"/instruments/{inst.code}/label/$"))
    label = page.locator("article.cm-label")
    expect(label).to_be_visible()
    expect(label.locator(".cm-label-state")).to_have_attribute(
        "data-state", re.compile("^(qualified|limited|stopped)$")
    )
    expect(label.locator(".cm-label-fields")).to_contain_text(inst.asset_no)
    expect(label.locator(".cm-label-fields")).to_contain_text(inst.name)
    qr = label.locator(".cm-label-qr svg.cm-qr")
    expect(qr).to_be_visible()
    assert qr.locator("path").count() >= 1 and len(qr.locator("path").first.get_attribute("d") or "") > 100
    expect(label.locator(".cm-label-qr")).to_have_attribute(
        "title", re.compile(rf"/instruments/{inst.code}/\?asset={inst.asset_no}$")
    )

    shot = tmp_path / "label.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    pdf = tmp_path / "label.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    assert pdf.is_file() and pdf.stat().st_size > 1000
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "管理编号" in text  # the text is read, Chinese included …
    assert inst.asset_no in text
    assert "返回器具页面" not in text  # … and the toolbar is not printed
    printed = read_pdf(pdf.read_bytes())
    assert printed.pages == 1  # one label, one sheet of label stock
    width, height = printed.size
    assert abs(width - 70 * MM) < 2 and abs(height - 40 * MM) < 2, f"page is {width}×{height} pt"
    assert page_errors == []
