"""One rule for uploaded documents (``carbonmeter.web.uploads``), tested at every entry point: the
instrument page's archive upload, the calibration record's certificates, and the admin's file fields.
Issue 9: an HTML page named ``.pdf`` was stored and served to others; each form had its own rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Attachment, Instrument, Organization
from carbonmeter.web.uploads import UploadValidator
from tests.web.conftest import login
from tests.web.test_pages_archive import A_CODE, add_url, archive_post
from tests.web.test_pages_metrology import _record_post

HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", b"%PDF-1.7\n"),
        ("nameplate.JPG", b"\xff\xd8\xff\xe0JFIF"),
        ("nameplate.png", b"\x89PNG\r\n\x1a\n...."),
        ("register.xlsx", b"PK\x03\x04...."),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...."),
        ("notes.txt", "检定记录 2026".encode()),
        ("notes.csv", "\ufeffa,b\n".encode()),
    ],
)
def test_documents_whose_content_matches_their_name_pass(name: str, content: bytes) -> None:
    UploadValidator()(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("page.html", HTML, "upload_type"),
        ("tool.exe", b"MZ\x90\x00", "upload_type"),
        ("no-extension", b"%PDF-1.7", "upload_type"),
        ("cert.pdf", HTML, "upload_content"),
        ("cert.pdf", b"MZ\x90\x00", "upload_content"),
        ("photo.jpg", b"%PDF-1.7", "upload_content"),
        ("notes.txt", HTML, "upload_content"),
        ("notes.txt", b"\x00\x01binary", "upload_content"),
        ("book.xlsx", b"not a zip", "upload_content"),
    ],
)
def test_a_wrong_type_or_a_disguised_file_is_refused(name: str, content: bytes, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UploadValidator()(SimpleUploadedFile(name, content))
    assert caught.value.code == code


def test_the_size_limit_is_the_documented_setting(settings: Any) -> None:
    settings.CARBONMETER_UPLOAD_MAX_BYTES = 10
    UploadValidator()(SimpleUploadedFile("a.pdf", b"%PDF-1.7"))
    with pytest.raises(ValidationError) as caught:
        UploadValidator()(SimpleUploadedFile("a.pdf", b"%PDF-1.7 and more"))
    assert caught.value.code == "upload_size"


def test_the_instrument_archive_refuses_a_page_named_pdf(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    inst = Instrument.objects.get(organization=org_a, code=A_CODE)
    before = Attachment.objects.count()
    disguised = SimpleUploadedFile("说明书.pdf", HTML, content_type="application/pdf")
    response = login(client, users["officer_a"]).post(
        add_url(inst), archive_post(**{"archive-file": disguised})
    )
    assert response.status_code == 200
    assert "文件内容不是 pdf 文件（与文件名不符）" in response.content.decode()
    assert Attachment.objects.count() == before


@pytest.mark.parametrize("field", ["certificate_file", "row-L2-04-certificate_file"])
def test_the_calibration_record_refuses_a_disguised_certificate(
    client: Client, users: dict[str, Any], org_a: Organization, field: str
) -> None:
    before = Calibration.objects.count()
    data = _record_post(["WB-03", "L2-04"]) | {field: SimpleUploadedFile("cert.pdf", HTML)}
    response = login(client, users["clerk_a"]).post("/calibration/record/", data)
    assert response.status_code == 200
    assert "与文件名不符" in response.content.decode()
    assert Calibration.objects.count() == before


@pytest.mark.parametrize(("model", "field"), [(Attachment, "file"), (Calibration, "certificate_file")])
def test_the_admin_file_fields_follow_the_same_rule(
    users: dict[str, Any], model: type[Any], field: str
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = users["superuser"]
    form_class = admin.site._registry[model].get_form(request)
    form = form_class(data={}, files={field: SimpleUploadedFile("cert.pdf", HTML)})
    assert not form.is_valid()
    assert "文件内容不是 pdf 文件（与文件名不符）。" in form.errors[field]
    fine = form_class(data={}, files={field: SimpleUploadedFile("cert.pdf", b"%PDF-1.7")})
    fine.is_valid()
    assert field not in fine.errors
