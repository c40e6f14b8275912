"""Chinese names, not internal codes, in what the product hands a user besides its pages (issue 9, item 5):
every file the demo's roles download, the command line's reports and the Django admin.

The demo is ``manage.py load_demo`` (conftest's ``demo``), as the crawl loads it; the codes are the crawl's
(:mod:`tests.web.terms_check`).  What is read, per file:

- the register workbook (``/transfer/export.xlsx``, contract §3) and the ledger workbook
  (``/readings/ledger/export.xlsx``: 月度台账, 日台账, 完整性): every sheet name, header and cell.  The
  register re-imports, so enumerations and open vocabularies (type, parameter, purpose) are written as
  the Chinese names its reader also accepts; the round trip is checked here on the demo;
- the assessment workbook of ``carbonmeter assess --format xlsx`` on the exported snapshot: every sheet,
  except its ``Message`` column (the English twin of 说明) and ``证据`` (the finding's machine evidence);
- the JSON files (``/transfer/export.json``, the §2 snapshot; ``/assessments/<pk>/document.json``, the §4
  assessment) are machine documents whose values are the contract's codes (the schema, which ``carbonmeter
  assess`` reads): only their prose for people, each finding's ``message``, is read;
- the terminal summary of ``carbonmeter assess``, line by line.

The label is a page the browser prints (the browser test reads its PDF); a run's source file and the
archive's files are the user's own bytes: nothing of them is generated.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from carbonmeter.cli.main import main as cli_main
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import read_xlsx
from carbonmeter.web.assessment.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERS
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.readings.demo_loader import previous_month
from carbonmeter.web.registry.models import Organization
from tests.web.terms_check import chinese_text_problems
from tests.web.test_crawl import Page

ROLES = tuple(username for username, _, _ in DEMO_USERS)
#: Columns of the assessment workbook that are not Chinese text: the English message beside 说明, and the
#: finding's evidence as the JSON document holds it.
NOT_CHINESE_COLUMNS = frozenset({"Message", "证据"})
#: Admin pages of Django's and django-q's own models: their help texts and permission names are theirs (in
#: English where they ship no Chinese); only codes are looked for there.
THIRD_PARTY = re.compile(r"^/admin/(auth|django_q)/")
#: A changelist's filter choice (not a sort, a page or a search): ``?status__exact=in_use``.
FILTER = re.compile(r"^\?(?![^=]*\b(?:o|p|q|_popup|_to_field)=)[\w.]+=")


def client_as(role: str) -> Client:
    client = Client()
    assert client.login(username=role, password=DEMO_PASSWORD)
    return client


def workbook_problems(body: bytes, name: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every sheet name, header and cell text of a workbook, read as Chinese text.  A column whose header
    (in any of the sheet's first rows) is in ``skip`` is not read."""
    book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    problems = []
    try:
        for ws in book.worksheets:
            problems += [f"{name} sheet name: {p}" for p in chinese_text_problems(ws.title)]
            skipped: set[int] = set()
            for row in ws.iter_rows():
                for cell in row:
                    if not isinstance(cell.value, str):
                        continue
                    column = getattr(cell, "column", None)
                    if cell.value in skip and column is not None:
                        skipped.add(column)
                        continue
                    if column in skipped:
                        continue
                    where = f"{name} {ws.title}!{getattr(cell, 'coordinate', '?')}"
                    problems += [f"{where}: {p}" for p in chinese_text_problems(cell.value)]
    finally:
        book.close()
    return problems


def download(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Disposition"].startswith("attachment"), url
    return response.content


def ledger_years() -> list[int]:
    today = timezone.localdate()
    return sorted({today.year, previous_month(today).year})


def readable(role: str, url: str) -> bool:
    """Whether ``role`` may download ``url`` (a role without the organization gets 403 or a redirect)."""
    return client_as(role).get(url).status_code == 200


# --- the downloads --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_workbook_a_role_downloads_reads_in_chinese(demo: None, db: Any, role: str) -> None:
    client = client_as(role)
    urls = [reverse("transfer_export_xlsx")]
    urls += [f"{reverse('readings_ledger_xlsx')}?year={year}" for year in ledger_years()]
    problems: list[str] = []
    fetched = 0
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            assert response.status_code in (302, 403), (role, url, response.status_code)
            continue
        fetched += 1
        problems += workbook_problems(response.content, url)
    if role == "manager":
        assert fetched == len(urls)  # the organization's manager downloads every one of them
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:3000])


def _messages(document: Any) -> Iterator[str]:
    for finding in document.get("findings", []):
        yield finding["message"]


@pytest.mark.parametrize("role", ROLES)
def test_the_json_downloads_are_the_contract_documents_with_chinese_messages(
    demo: None, db: Any, role: str
) -> None:
    client = client_as(role)
    if not AssessmentRun.objects.exists():  # the demo leaves none: the manager runs one, as on the page
        today = timezone.localdate().isoformat()
        assert client_as("manager").post(reverse("assessments"), {"as_of": today}).status_code == 302
    urls = [
        reverse("assessment_document", args=[pk]) for pk in AssessmentRun.objects.values_list("pk", flat=True)
    ]
    assert urls or role != "manager"
    problems: list[str] = []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            assert response.status_code in (302, 403, 404), (role, url, response.status_code)
            continue
        document = json.loads(response.content)
        assert document["schema"] == "carbonmeter.assessment/1"
        for message in _messages(document):
            problems += [f"{url}: {p}" for p in chinese_text_problems(message)]
    response = client.get(reverse("transfer_export_json"))
    if response.status_code == 200:
        snapshot = parse_json(response.content, "export.json")  # the contract's document, codes and all
        assert snapshot.instruments
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:3000])


# --- the register's round trip and the command line on the exported snapshot ----------------------------


def test_the_register_workbook_reimports_as_the_snapshot(demo: None, db: Any, tmp_path: Path) -> None:
    """Written in Chinese names, the workbook still reads back as the JSON export's snapshot."""
    client = client_as("manager")
    xlsx = tmp_path / "register.xlsx"
    xlsx.write_bytes(download(client, reverse("transfer_export_xlsx")))
    from_json = parse_json(download(client, reverse("transfer_export_json")), "export.json")
    assert read_xlsx(xlsx) == from_json


def test_the_command_lines_reports_on_the_demo_read_in_chinese(
    demo: None, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "demo.json"
    snapshot.write_bytes(download(client_as("manager"), reverse("transfer_export_json")))
    out = tmp_path / "assessment.xlsx"
    assert cli_main(["assess", str(snapshot), "--format", "xlsx", "-o", str(out)]) == 0
    problems = workbook_problems(out.read_bytes(), "assess --format xlsx", NOT_CHINESE_COLUMNS)
    capsys.readouterr()
    assert cli_main(["assess", str(snapshot)]) == 0
    for line in capsys.readouterr().out.splitlines():
        problems += [f"assess (text): {p}" for p in chinese_text_problems(line)]
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:3000])


def test_the_ingest_report_of_the_command_line_reads_in_chinese(
    demo: None, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``carbonmeter ingest`` in Chinese (the default): its report, the quarantined rows' reasons included."""
    org = Organization.objects.get()
    today = timezone.localdate()
    rows = [
        "point,quantity,ts,value,unit",
        f"P01.1,consumption_mass,{today:%Y-%m-%d} 00:00,3.0,t",
        f"P01.1,consumption_mass,{today:%Y-%m-%d} 01:00,-5,t",  # below the plausible minimum
        f"P01.1,consumption_mass,{today:%Y-%m-%d} 02:00,abc,t",  # not a number
    ]
    csv = tmp_path / "readings.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["ingest", str(csv), "--org", org.credit_code]) == 1  # rows were quarantined
    out = capsys.readouterr().out
    assert "隔离" in out
    problems = [f"ingest: {p}" for line in out.splitlines() for p in chinese_text_problems(line)]
    assert not problems, "\n".join(problems)


# --- the admin ------------------------------------------------------------------------------------------


def _admin_urls(request: HttpRequest, instance_of: dict[type[Model], Any]) -> Iterator[str]:
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        yield reverse(f"{base}_changelist")
        if model_admin.has_add_permission(request):
            yield reverse(f"{base}_add")
        obj = instance_of.get(model)
        if obj is not None:
            yield reverse(f"{base}_change", args=[obj.pk])
            yield reverse(f"{base}_history", args=[obj.pk])


def test_the_admin_reads_in_chinese_for_the_superuser(demo: None, db: Any) -> None:
    superuser = get_user_model().objects.get(username="admin")
    assert superuser.is_superuser
    client = Client()
    client.force_login(superuser)
    instances = {model: model._default_manager.order_by("pk").first() for model in admin.site._registry}
    problems: list[str] = []
    visited = 0
    request = RequestFactory().get("/admin/")
    request.user = superuser
    queue = [reverse("admin:index"), *_admin_urls(request, instances)]
    seen = set(queue)
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        visited += 1
        if response.status_code >= 400:
            problems.append(f"{url}: HTTP {response.status_code}")
            continue
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = Page()
        page.feed(response.content.decode())
        ours = not THIRD_PARTY.match(url)
        for line, is_code in page.text:
            if not line.startswith(("{", "[")):  # a JSON field's stored record, shown as stored
                problems += [f"{url}: {p}" for p in chinese_text_problems(line, prose=ours and not is_code)]
        # The changelist's filters: every choice of every filter, once.
        if url.endswith("/") and url.count("/") == 4 and "?" not in url:
            for link in page.links:
                if FILTER.match(link) and (target := url + link) not in seen:
                    seen.add(target)
                    queue.append(target)
    assert visited > 20
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:3000])
