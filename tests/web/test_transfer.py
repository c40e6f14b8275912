"""Export and import: the exports are the snapshot the engine sees; an import is previewed, writes nothing
until confirmed, lists every located problem of a bad workbook, and only its uploader may confirm it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.io.snapshot_xlsx import read_xlsx, write_xlsx
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.assessment.services.transfer import PENDING_KEY
from carbonmeter.web.registry.models import Instrument, Organization
from tests.web.conftest import login


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def row_counts() -> dict[str, int]:
    """Rows of every table the import could touch, history included."""
    return {
        m._meta.label: m._default_manager.count()
        for label in ("registry", "metrology", "assessment", "accounts")
        for m in apps.get_app_config(label).get_models()
    }


def exported_workbook(client: Client) -> Any:
    response = client.get("/transfer/export.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def upload(book: Any, name: str = "register.xlsx") -> SimpleUploadedFile:
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def cell_of(book: Any, sheet: str, header: str, code: str) -> Any:
    """The cell under ``header`` in the row of instrument ``code`` (columns found by their header)."""
    ws = book[sheet]
    headers = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        if row[headers["编号"] - 1].value == code:
            return row[headers[header] - 1]
    raise AssertionError(f"{code} not in {sheet}")


def test_export_json_is_the_snapshot_of_the_database(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    response = login(client, users["verifier_a"]).get("/transfer/export.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    snapshot = parse_json(response.content, "export.json")
    assert snapshot == build_snapshot(org_a, timezone.localdate())
    assert len(snapshot.instruments) == Instrument.objects.filter(organization=org_a).count()


def test_export_xlsx_reads_back_as_the_snapshot(
    client: Client, users: dict[str, Any], org_a: Organization, tmp_path: Path
) -> None:
    response = login(client, users["regulator_cq"]).get("/transfer/export.xlsx")
    assert response.status_code == 200
    path = tmp_path / "export.xlsx"
    path.write_bytes(response.content)
    assert read_xlsx(path) == build_snapshot(org_a, timezone.localdate())


def test_a_bad_row_is_located_and_nothing_is_imported(
    client: Client, users: dict[str, Any], org_a: Organization, media: Path
) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    bad = cell_of(book, "碳计量器具", "状态", "WB-03")
    bad.value = "坏了"
    cell_of(book, "碳计量器具", "器具名称", "WB-04").value = "改过的名称"  # a good change beside it
    before = row_counts()
    response = client.post("/transfer/", {"workbook": upload(book)})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.problems and not preview.token and preview.report is None
    located = [p for p in preview.problems if p.sheet == "碳计量器具" and p.cell == bad.coordinate]
    assert located and located[0].header == "状态" and "坏了" in located[0].reason
    assert located[0].row == str(bad.row) and located[0].column == bad.column_letter
    html = response.content.decode()
    assert f"register.xlsx: 碳计量器具!{bad.coordinate} (状态)" in html
    assert str(media) not in html  # the server's path is not shown
    assert row_counts() == before
    assert Instrument.objects.get(organization=org_a, code="WB-04").name != "改过的名称"
    assert not client.session.get(PENDING_KEY)
    assert not any((media / "imports").glob("*.xlsx"))


def test_a_changed_name_is_previewed_then_imported_only_when_confirmed(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    cell_of(book, "碳计量器具", "器具名称", "WB-03").value = "3#辅料电子汽车衡（改造后）"
    before = row_counts()
    response = client.post("/transfer/", {"workbook": upload(book, "台账2026.xlsx")})
    preview = response.context["preview"]
    assert preview.report.updated == {"instruments": ["WB-03"]} and preview.report.created == {}
    html = response.content.decode()
    assert 'data-updated="WB-03"' in html and preview.token in html
    assert row_counts() == before  # the preview wrote nothing
    assert Instrument.objects.get(organization=org_a, code="WB-03").name == "3#辅料电子汽车衡"

    confirmed = client.post("/transfer/confirm/", {"token": preview.token}, follow=True)
    assert confirmed.status_code == 200
    row = Instrument.objects.get(organization=org_a, code="WB-03")
    assert row.name == "3#辅料电子汽车衡（改造后）"
    history = row.history.first()
    assert history is not None
    assert history.history_change_reason == "XLSX import 台账2026.xlsx by officer_a"
    assert history.history_user == users["officer_a"]
    assert "更新 1 条" in " ".join(str(m) for m in confirmed.context["messages"])
    # a token is good for one import
    assert client.post("/transfer/confirm/", {"token": preview.token}).status_code == 403


def test_another_users_token_is_refused(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    cell_of(book, "碳计量器具", "器具名称", "WB-03").value = "别人的改名"
    token = client.post("/transfer/", {"workbook": upload(book)}).context["preview"].token
    assert token
    other = Client()
    login(other, users["admin_a"])  # may import, but did not upload this file
    before = row_counts()
    assert other.post("/transfer/confirm/", {"token": token}).status_code == 403
    assert row_counts() == before
    # nor does a token planted in another user's session work
    session = other.session
    session[PENDING_KEY] = {token: {"user": users["officer_a"].pk, "org": org_a.pk, "filename": "x.xlsx"}}
    session.save()
    assert other.post("/transfer/confirm/", {"token": token}).status_code == 403
    assert other.post("/transfer/confirm/", {"token": "../../etc/passwd"}).status_code == 403
    assert Instrument.objects.get(organization=org_a, code="WB-03").name == "3#辅料电子汽车衡"


def test_a_workbook_of_another_organization_is_refused(
    client: Client, users: dict[str, Any], org_a: Organization, org_b: Organization, tmp_path: Path
) -> None:
    path = tmp_path / "b.xlsx"
    write_xlsx(build_snapshot(org_b, timezone.localdate()), path)
    before = row_counts()
    response = login(client, users["officer_a"]).post(
        "/transfer/", {"workbook": SimpleUploadedFile("b.xlsx", path.read_bytes())}
    )
    preview = response.context["preview"]
    assert org_b.credit_code in preview.refusal and not preview.token
    assert 'id="refusal"' in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq", "clerk_a"])
def test_only_registry_writers_may_import(
    client: Client, users: dict[str, Any], org_a: Organization, role: str
) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    login(client, users[role])
    page = client.get("/transfer/")
    assert page.status_code == 200 and 'id="import"' not in page.content.decode()
    before = row_counts()
    assert client.post("/transfer/", {"workbook": upload(book)}).status_code == 403
    assert row_counts() == before


def test_not_a_workbook_is_refused_politely(client: Client, users: dict[str, Any]) -> None:
    response = login(client, users["officer_a"]).post(
        "/transfer/", {"workbook": SimpleUploadedFile("register.csv", b"a,b\n")}
    )
    assert response.status_code == 200 and response.context["preview"].refusal
    garbage = client.post("/transfer/", {"workbook": SimpleUploadedFile("register.xlsx", b"not a zip")})
    assert garbage.context["preview"].problems and not garbage.context["preview"].token


def full_width(text: str) -> str:
    """``text`` as a Chinese input method types it: ASCII letters and digits full-width."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def test_ids_with_blanks_or_full_width_letters_update_the_existing_rows(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    """``'WB-03 '``, ``Ｐ…`` and ``'name '`` imported as new rows beside the old ones (verdict changed)."""
    login(client, users["officer_a"])
    book = exported_workbook(client)
    code = cell_of(book, "碳计量器具", "编号", "WB-03")
    code.value = "WB-03 "
    points = book["计量点"]
    point = points["A2"].value
    points["A2"] = full_width(point) + "\u3000"
    register = book["碳计量器具"]
    refs = next(c for c in register[1] if c.value == "计量点").column
    linked = [
        row[refs - 1] for row in register.iter_rows(min_row=2) if point in str(row[refs - 1].value or "")
    ]
    for cell in linked:
        cell.value = str(cell.value).replace(point, full_width(point))
    people = book["人员"]
    if people.max_row >= 2:
        people["A2"] = f"{people['A2'].value} "
    cell_of(book, "碳计量器具", "器具名称", "WB-04").value = "改过的名称"  # one real change
    before = row_counts()
    preview = client.post("/transfer/", {"workbook": upload(book)}).context["preview"]
    assert preview.problems == [] and preview.refusal == ""
    assert preview.report.created == {}
    assert preview.report.updated == {"instruments": ["WB-04"]}
    client.post("/transfer/confirm/", {"token": preview.token})
    after = row_counts()
    grown = {k for k in after if after[k] != before[k]}
    assert grown == {"registry.HistoricalInstrument"}  # WB-04's new name, nothing created
    assert Instrument.objects.filter(organization=org_a, code__startswith="WB-03").count() == 1


def test_the_preview_shows_old_and_new_per_changed_field(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    cell_of(book, "碳计量器具", "器具名称", "WB-03").value = "3#辅料电子汽车衡（改造后）"
    cell_of(book, "碳计量器具", "状态", "WB-03").value = "停用"
    response = client.post("/transfer/", {"workbook": upload(book)})
    [row] = [r for r in response.context["preview"].rows if r.what == "instruments"]
    [(key, fields)] = row.changes
    assert key == "WB-03"
    shown = {(c.label, c.old, c.new) for c in fields}
    assert ("器具名称", "3#辅料电子汽车衡", "3#辅料电子汽车衡（改造后）") in shown
    assert ("状态", "在用", "停用") in shown  # terms, not codes
    html = response.content.decode()
    assert 'data-changes="instruments"' in html and "<del>3#辅料电子汽车衡</del>" in html
    assert "→ 3#辅料电子汽车衡（改造后）" in html and "in_use" not in html


@pytest.fixture
def keep_language() -> Iterator[None]:
    """A request in English leaves English active in the thread; later tests must start in the default."""
    before = translation.get_language()
    yield
    translation.activate(before or settings.LANGUAGE_CODE)


@pytest.mark.usefixtures("keep_language")
def test_problems_are_shown_in_the_pages_language_only(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["officer_a"])
    book = exported_workbook(client)
    bad = cell_of(book, "碳计量器具", "状态", "WB-03")
    bad.value = "坏了"
    [problem] = client.post("/transfer/", {"workbook": upload(book)}).context["preview"].problems
    assert problem.reason.startswith("未知选项 '坏了'；可填：") and "unknown term" not in problem.reason
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    [problem] = client.post("/transfer/", {"workbook": upload(book)}).context["preview"].problems
    assert problem.reason.startswith("unknown term '坏了'; accepted:") and "未知选项" not in problem.reason
    refusal = client.post("/transfer/", {"workbook": SimpleUploadedFile("r.csv", b"a")}).context["preview"]
    assert refusal.refusal == "Only .xlsx workbooks can be imported."
