"""The instrument page's archive uploads and seal events, and the downloads of its files: who may post, who
may see, and that what is written is attributable (the history names the user and the reason).

Tenancy is asked both ways: a user of organization A can neither read nor write B's instruments (404, the
instrument's existence is not revealed), read-only roles of A (verifier, regulator, data clerk for these
models) get 403 and write nothing, and files are reached only through the scoped views.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.forms import (
    REASON_MAX_LENGTH,
    AttachmentForm,
    SealEventForm,
)
from carbonmeter.web.registry.models import Attachment, Instrument, Organization, SealEvent
from tests.web.conftest import login

#: An instrument of A (the demo plant) whose code B (the mini plant) does not use.
A_CODE = "WB-03"
PDF = b"%PDF-1.4 archive test"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploads of these tests go to a temporary MEDIA_ROOT, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def inst_a(org_a: Organization) -> Instrument:
    return Instrument.objects.get(organization=org_a, code=A_CODE)


@pytest.fixture
def inst_b(org_a: Organization, org_b: Organization) -> Instrument:
    inst = Instrument.objects.filter(organization=org_b).order_by("code").first()
    assert inst is not None
    assert not Instrument.objects.filter(organization=org_a, code=inst.code).exists()
    return inst


def archive_post(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "archive-kind": "manual",
        "archive-title": "电子汽车衡使用说明书",
        "archive-file": SimpleUploadedFile("说明书.pdf", PDF, content_type="application/pdf"),
        "archive-reason": "补充器具档案",
    }
    return data | over


def seal_post(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seal-date": timezone.localdate().isoformat(),
        "seal-event": "broken",
        "seal-seal_no": "QF-2026-001",
        "seal-note": "检修拆封",
        "seal-reason": "巡检发现铅封破损",
    }
    return data | over


def add_url(inst: Instrument) -> str:
    return reverse("instrument_add_attachment", args=[inst.code])


def seal_url(inst: Instrument) -> str:
    return reverse("instrument_add_seal", args=[inst.code])


def stored_attachment(inst: Instrument, title: str = "已存档案") -> Attachment:
    row = Attachment(
        organization=inst.organization,
        instrument=inst,
        kind="certificate",
        title=title,
        file=SimpleUploadedFile("cert.pdf", PDF),
    )
    row._change_reason = "test"
    row.save()
    return row


# --- a good post -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer_a", "admin_a"])
def test_a_write_role_uploads_a_document_with_user_and_reason_in_the_history(
    client: Client, users: dict[str, Any], inst_a: Instrument, media: Path, role: str
) -> None:
    login(client, users[role])
    detail = reverse("instrument_detail", args=[A_CODE])
    form_page = client.get(detail).content.decode()
    assert f'action="{add_url(inst_a)}"' in form_page and f'action="{seal_url(inst_a)}"' in form_page
    response = client.post(add_url(inst_a), archive_post())
    assert response.status_code == 302 and response["Location"] == f"{detail}#archive-title"
    row = Attachment.objects.get(instrument=inst_a, title="电子汽车衡使用说明书")
    assert row.organization_id == inst_a.organization_id and row.kind == "manual"
    assert row.file.name.startswith(f"archive/{timezone.localdate().year}/")
    assert (media / row.file.name).read_bytes() == PDF
    created = row.history.get()
    assert created.history_type == "+"
    assert created.history_user == users[role]
    assert created.history_change_reason == "补充器具档案"
    html = client.get(detail).content.decode()
    assert "电子汽车衡使用说明书" in html
    assert reverse("instrument_attachment", args=[A_CODE, row.pk]) in html


def test_an_uploaded_document_downloads_through_the_scoped_view(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    login(client, users["officer_a"]).post(add_url(inst_a), archive_post())
    row = Attachment.objects.get(instrument=inst_a, title="电子汽车衡使用说明书")
    response = client.get(reverse("instrument_attachment", args=[A_CODE, row.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")  # a PDF opens in the browser
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_a_file_the_browser_could_run_is_only_ever_downloaded(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    """An archive file of a type a browser would render (a text file that is really HTML) is sent as an
    opaque download, never inline in the site's origin."""
    login(client, users["officer_a"])
    page = SimpleUploadedFile("notes.txt", b"notes <script>alert(1)</script>", content_type="text/html")
    response = client.post(add_url(inst_a), archive_post(**{"archive-file": page, "archive-title": "txt"}))
    assert response.status_code == 302
    row = Attachment.objects.get(instrument=inst_a, title="txt")
    response = client.get(reverse("instrument_attachment", args=[A_CODE, row.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_seal_event_is_recorded_and_the_register_follows_the_newest(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    """A broken seal recorded today makes the B.1 entry's 铅封完好 "no" (with the same user and reason in the
    instrument's history); an older, back-dated restoration leaves it as the newer event set it."""
    inst_a.seal_intact = True
    inst_a._change_reason = "test"
    inst_a.save()
    login(client, users["officer_a"])
    response = client.post(seal_url(inst_a), seal_post())
    assert response.status_code == 302
    assert response["Location"].endswith("#seal-title")
    row = SealEvent.objects.get(instrument=inst_a, seal_no="QF-2026-001")
    assert (row.date, row.event, row.note) == (timezone.localdate(), "broken", "检修拆封")
    created = row.history.get()
    assert created.history_user == users["officer_a"]
    assert created.history_change_reason == "巡检发现铅封破损"
    inst_a.refresh_from_db()
    assert inst_a.seal_intact is False
    change = inst_a.history.order_by("-history_date", "-history_id").first()
    assert change is not None
    assert change.history_user == users["officer_a"]
    assert change.history_change_reason == "巡检发现铅封破损"

    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
    back_dated = seal_post(**{"seal-date": last_week, "seal-event": "restored", "seal-seal_no": "QF-OLD"})
    assert client.post(seal_url(inst_a), back_dated).status_code == 302
    assert SealEvent.objects.filter(instrument=inst_a, seal_no="QF-OLD").exists()
    inst_a.refresh_from_db()
    assert inst_a.seal_intact is False
    html = client.get(reverse("instrument_detail", args=[A_CODE])).content.decode()
    assert "QF-2026-001" in html and "QF-OLD" in html and "破损" in html


# --- bad posts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"archive-reason": ""}, "请填写变更原因"),
        ({"archive-reason": "原" * (REASON_MAX_LENGTH + 1)}, f"不超过 {REASON_MAX_LENGTH} 字符"),
        ({"archive-title": ""}, "这个字段是必填项"),
        (
            {"archive-file": SimpleUploadedFile("page.html", b"<html></html>", content_type="text/html")},
            "不支持的文件类型 html",
        ),
    ],
)
def test_a_bad_upload_says_why_on_the_page_and_stores_nothing(
    client: Client, users: dict[str, Any], inst_a: Instrument, over: dict[str, Any], message: str
) -> None:
    before = Attachment.objects.count()
    response = login(client, users["officer_a"]).post(add_url(inst_a), archive_post(**over))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert '<details class="card-footer d-print-none" open>' in html  # the form with errors stays open
    assert Attachment.objects.count() == before


def test_an_oversized_upload_is_refused(client: Client, users: dict[str, Any], inst_a: Instrument) -> None:
    limit = settings.CARBONMETER_UPLOAD_MAX_BYTES
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * limit, content_type="application/pdf")
    before = Attachment.objects.count()
    response = login(client, users["officer_a"]).post(add_url(inst_a), archive_post(**{"archive-file": big}))
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert Attachment.objects.count() == before


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"seal-reason": ""}, "请填写变更原因"),
        ({"seal-event": "stolen"}, "选择一个有效的选项"),
        ({"seal-date": (date.today() + timedelta(days=2)).isoformat()}, "日期不能晚于今天"),
    ],
)
def test_a_bad_seal_event_says_why_and_writes_nothing(
    client: Client, users: dict[str, Any], inst_a: Instrument, over: dict[str, Any], message: str
) -> None:
    intact_before = inst_a.seal_intact
    before = SealEvent.objects.count()
    response = login(client, users["officer_a"]).post(seal_url(inst_a), seal_post(**over))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SealEvent.objects.count() == before
    inst_a.refresh_from_db()
    assert inst_a.seal_intact == intact_before


# --- read-only roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["verifier_a", "regulator_cq", "clerk_a"])
def test_read_only_roles_see_the_archive_but_no_forms_and_cannot_post(
    client: Client, users: dict[str, Any], inst_a: Instrument, role: str
) -> None:
    doc = stored_attachment(inst_a)
    login(client, users[role])
    response = client.get(reverse("instrument_detail", args=[A_CODE]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "已存档案" in html  # they read the archive …
    assert f'action="{add_url(inst_a)}"' not in html  # … but get no forms
    assert f'action="{seal_url(inst_a)}"' not in html
    download = client.get(reverse("instrument_attachment", args=[A_CODE, doc.pk]))
    assert download.status_code == 200
    attachments, seals = Attachment.objects.count(), SealEvent.objects.count()
    assert client.post(add_url(inst_a), archive_post()).status_code == 403
    assert client.post(seal_url(inst_a), seal_post()).status_code == 403
    assert (Attachment.objects.count(), SealEvent.objects.count()) == (attachments, seals)


@pytest.mark.parametrize("role", ["verifier_a", "clerk_a", "admin_b"])
def test_the_forms_refuse_to_save_for_a_user_without_a_write_role(
    users: dict[str, Any], inst_a: Instrument, role: str
) -> None:
    """The write scope is checked where the row is saved, not only in the view, so no other caller of the
    forms can skip it."""
    data = seal_post()
    form = SealEventForm(data)
    assert form.is_valid(), form.errors
    with pytest.raises(PermissionDenied):
        form.save_for(users[role], inst_a)
    upload = archive_post()
    archive = AttachmentForm(upload, {"archive-file": upload["archive-file"]})
    assert archive.is_valid(), archive.errors
    with pytest.raises(PermissionDenied):
        archive.save_for(users[role], inst_a)
    assert not SealEvent.objects.filter(instrument=inst_a, seal_no="QF-2026-001").exists()
    assert not Attachment.objects.filter(instrument=inst_a, title="电子汽车衡使用说明书").exists()


def test_the_write_urls_take_posts_only(client: Client, users: dict[str, Any], inst_a: Instrument) -> None:
    login(client, users["officer_a"])
    assert client.get(add_url(inst_a)).status_code == 405
    assert client.get(seal_url(inst_a)).status_code == 405


def test_signed_out_requests_go_to_the_login_page(client: Client, inst_a: Instrument) -> None:
    doc = stored_attachment(inst_a)
    before = SealEvent.objects.count()
    for response in (
        client.post(add_url(inst_a), archive_post()),
        client.post(seal_url(inst_a), seal_post()),
        client.get(reverse("instrument_attachment", args=[A_CODE, doc.pk])),
    ):
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert SealEvent.objects.count() == before


# --- other organizations -----------------------------------------------------------------------------


def test_a_user_of_b_can_neither_see_nor_post_for_a(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    doc = stored_attachment(inst_a)
    login(client, users["admin_b"])
    attachments, seals = Attachment.objects.count(), SealEvent.objects.count()
    assert client.get(reverse("instrument_detail", args=[A_CODE])).status_code == 404
    assert client.post(add_url(inst_a), archive_post()).status_code == 404
    assert client.post(seal_url(inst_a), seal_post()).status_code == 404
    assert client.get(reverse("instrument_attachment", args=[A_CODE, doc.pk])).status_code == 404
    assert (Attachment.objects.count(), SealEvent.objects.count()) == (attachments, seals)


def test_a_user_of_a_can_neither_see_nor_post_for_b(
    client: Client, users: dict[str, Any], inst_b: Instrument
) -> None:
    doc = stored_attachment(inst_b, title="B的档案")
    attachments, seals = Attachment.objects.count(), SealEvent.objects.count()
    for role in ("admin_a", "officer_a", "regulator_cq", "verifier_a"):
        login(client, users[role])
        assert client.get(reverse("instrument_detail", args=[inst_b.code])).status_code == 404, role
        assert client.post(add_url(inst_b), archive_post()).status_code == 404, role
        assert client.post(seal_url(inst_b), seal_post()).status_code == 404, role
        file_url = reverse("instrument_attachment", args=[inst_b.code, doc.pk])
        assert client.get(file_url).status_code == 404, role
    assert (Attachment.objects.count(), SealEvent.objects.count()) == (attachments, seals)


def test_b_writes_its_own_instruments_archive(
    client: Client, users: dict[str, Any], inst_b: Instrument
) -> None:
    """The positive control of the two tests above: the 404s come from tenancy, not from a broken view."""
    login(client, users["admin_b"])
    assert client.post(add_url(inst_b), archive_post()).status_code == 302
    row = Attachment.objects.get(instrument=inst_b)
    assert row.organization_id == inst_b.organization_id
    assert row.history.get().history_user == users["admin_b"]


def test_a_document_of_b_is_not_reachable_through_an_instrument_of_a(
    client: Client, users: dict[str, Any], inst_a: Instrument, inst_b: Instrument
) -> None:
    """The download finds the row by instrument and id within the scope: another instrument's id (here
    another organization's) under a readable instrument's path is not found."""
    doc_b = stored_attachment(inst_b)
    login(client, users["officer_a"])
    assert client.get(reverse("instrument_attachment", args=[A_CODE, doc_b.pk])).status_code == 404


# --- certificates ------------------------------------------------------------------------------------


def test_certificates_download_through_the_scoped_view_only(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    record = Calibration.objects.filter(instrument=inst_a).order_by("-date").first()
    assert record is not None
    record.certificate_file = SimpleUploadedFile("cert.pdf", PDF)
    record._change_reason = "test"
    record.save()
    url = reverse("instrument_certificate", args=[A_CODE, record.pk])
    page = login(client, users["verifier_a"]).get(reverse("instrument_detail", args=[A_CODE]))
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    login(client, users["admin_b"])
    assert client.get(url).status_code == 404


def test_a_record_without_a_file_has_no_download(
    client: Client, users: dict[str, Any], inst_a: Instrument
) -> None:
    record = Calibration.objects.filter(instrument=inst_a, certificate_file="").first()
    assert record is not None
    login(client, users["officer_a"])
    assert client.get(reverse("instrument_certificate", args=[A_CODE, record.pk])).status_code == 404
