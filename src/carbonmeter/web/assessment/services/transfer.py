"""The plant in and out of the web app as files: the snapshot (contract §2) as JSON or as the workbook (§3),
and the workbook back in, previewed before anything is written.

Import is two steps because most registers are typed by hand in Excel: the upload is read and, if it is
readable and belongs to the current organization, imported in a rolled-back transaction (the preview is
exactly what confirming would do).  The file waits under ``MEDIA_ROOT/imports/<token>.xlsx``; the token is
remembered in the uploader's session with the user and organization, so only that user, on that
organization, can confirm it.  Confirming reads the file again — never a copy of the preview held in the
session — and imports it for real, attributed to the user and the file.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from carbonmeter.core.snapshot import Snapshot
from carbonmeter.io.problems import Located, SnapshotError
from carbonmeter.io.snapshot_json import to_jsonable
from carbonmeter.io.snapshot_xlsx import read_xlsx, write_xlsx
from carbonmeter.rules.messages import Lang, render
from carbonmeter.rules.schema import Pack
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.assessment.services.snapshot import build_snapshot
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import models as rm
from carbonmeter.web.registry.pack_terms import factor_label, formula_label, organization_pack
from carbonmeter.web.registry.services import FieldChange, ImportReport, import_snapshot

#: Session key: token → {"user": pk, "org": pk, "filename": name} of the previews awaiting confirmation.
PENDING_KEY: Final = "carbonmeter_pending_imports"
#: Folder under MEDIA_ROOT where uploads wait between preview and confirmation.
IMPORT_DIR: Final = "imports"
TOKEN_PATTERN: Final = r"^[0-9a-f]{32}$"
#: A register of 20,000 instruments is about 3 MB; anything far larger is not a register.
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024

#: Every model an import writes; importing needs a write role for all of them.
IMPORTED_MODELS: Final = (
    rm.Organization,
    rm.Facility,
    rm.SourceStream,
    rm.MeasuringPoint,
    rm.Instrument,
    rm.Component,
    Calibration,
    rm.Person,
    rm.PersonCertificate,
    rm.ManagementDocument,
)

#: The report's lists in workbook order, with the sheet they come from.
REPORT_LISTS: Final[tuple[tuple[str, Promise], ...]] = (
    ("organization", _("单位信息")),
    ("facilities", _("生产设施")),
    ("source_streams", _("碳源流")),
    ("measuring_points", _("计量点")),
    ("instruments", _("碳计量器具")),
    ("calibrations", _("检定校准记录")),
    ("personnel", _("人员")),
    ("documents", _("管理制度")),
)

# --------------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------------


def _readable(user: Any, org: rm.Organization) -> None:
    if not scope_for(user, rm.Organization).filter(pk=org.pk).exists():
        raise PermissionDenied(_("无权读取该单位的数据"))


def export_snapshot(user: Any, org: rm.Organization, as_of: date) -> Snapshot:
    """The organization's rows as the engine's snapshot at ``as_of`` — what every export writes."""
    _readable(user, org)
    return build_snapshot(org, as_of)


def export_json(user: Any, org: rm.Organization, as_of: date) -> bytes:
    """The contract §2 document, UTF-8, as ``carbonmeter assess`` reads it."""
    doc = to_jsonable(export_snapshot(user, org, as_of))
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def export_xlsx(user: Any, org: rm.Organization, as_of: date) -> bytes:
    """The contract §3 workbook; it re-imports unchanged."""
    snapshot = export_snapshot(user, org, as_of)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.xlsx"
        write_xlsx(snapshot, path)
        return path.read_bytes()


def export_filename(org: rm.Organization, as_of: date, suffix: str) -> str:
    return f"{org.name}-碳计量快照-{as_of.isoformat()}.{suffix}"


# --------------------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------------------


def may_import(user: Any, org: rm.Organization) -> bool:
    """An import writes every kind of registry row, so it needs a role that may write each of them."""
    roles = frozenset.intersection(*(m.write_roles for m in IMPORTED_MODELS))
    return writable_orgs(user, roles).filter(pk=org.pk).exists()


def _lang() -> Lang:
    """The page's language, for texts from the message catalogue."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def _say(code: str, **params: Any) -> str:
    """A message of the catalogue (``IMP-``) in the page's language."""
    return render(code, params, _lang())


@dataclass(frozen=True)
class Problem:
    """One located problem of the workbook, split for a table (sheet, row, column letter and header,
    reason, in the page's language); ``line`` is the whole of it, with the uploaded file's name."""

    line: str
    sheet: str = ""
    row: str = ""
    column: str = ""
    header: str = ""
    reason: str = ""

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.column else ""


def _problem(found: Located, path: Path, filename: str) -> Problem:
    """The reader names the file by its path on the server; the user knows it by the name it uploaded."""
    lang = _lang()
    source = filename if found.source == str(path) else found.source
    return Problem(
        line=found.line(lang, source=source),
        sheet=found.sheet,
        row=str(found.row) if found.row else "",
        column=found.column,
        header=found.header,
        reason=found.text(lang)
        if found.sheet
        else ": ".join(p for p in (found.where, found.text(lang)) if p),
    )


#: The model each list of the report writes, for the names and terms of its fields.
REPORT_MODELS: Final[dict[str, type[Any]]] = {
    "organization": rm.Organization,
    "facilities": rm.Facility,
    "source_streams": rm.SourceStream,
    "measuring_points": rm.MeasuringPoint,
    "instruments": rm.Instrument,
    "calibrations": Calibration,
    "personnel": rm.Person,
    "documents": rm.ManagementDocument,
}
_COMPONENTS_LABEL: Final = _("器具组成")


@dataclass(frozen=True)
class ShownChange:
    """One changed field as the preview shows it: the field's name, old → new, in the page's words."""

    label: str
    old: str
    new: str


def _shown_value(model: type[Any], name: str, value: Any, pack: Pack | None = None) -> str:
    """A field's value as a person reads it: terms not codes, 是/否, ids of related rows, ISO dates, a
    formula or a default factor by its name in the organization's pack."""
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if pack is not None and (model, name) == (rm.SourceStream, "formula"):
        return formula_label(pack, value)
    if pack is not None and (model, name) == (rm.MeasuringPoint, "factor"):
        return factor_label(pack, value)
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "code"):
        return str(value.code)
    try:
        choices = dict(model._meta.get_field(name).flatchoices)
    except Exception:  # not a model field (points, components): shown as it is
        choices = {}
    return str(choices.get(value, value))


def _shown(model: type[Any], change: FieldChange, pack: Pack | None = None) -> ShownChange:
    if change.field == "components":
        label = str(_COMPONENTS_LABEL)
    else:
        label = str(model._meta.get_field(change.field).verbose_name)
    old, new = (_shown_value(model, change.field, v, pack) for v in (change.old, change.new))
    return ShownChange(label, old, new)


@dataclass(frozen=True)
class ReportRow:
    what: str
    label: Promise
    created: list[str]
    updated: list[str]
    unchanged: int
    #: Per updated row (its key), what changes in it, old → new.
    changes: list[tuple[str, list[ShownChange]]] = field(default_factory=list)


def report_rows(report: ImportReport, pack: Pack | None = None) -> list[ReportRow]:
    """The import report as one row per list, in workbook order, for the preview and the confirmation;
    ``pack`` (the organization's) names formulas and default factors."""
    rows = []
    for what, label in REPORT_LISTS:
        model = REPORT_MODELS[what]
        changes = report.diffs.get(what, {})
        rows.append(
            ReportRow(
                what,
                label,
                report.created.get(what, []),
                report.updated.get(what, []),
                report.unchanged.get(what, 0),
                [
                    (key, [_shown(model, c, pack) for c in changes.get(key, [])])
                    for key in report.updated.get(what, [])
                ],
            )
        )
    return rows


@dataclass
class Preview:
    """What an upload would do: refused (``refusal``), unreadable (``problems``), or a ``report`` to confirm
    with ``token``."""

    filename: str
    problems: list[Problem] = field(default_factory=list)
    refusal: str = ""
    token: str = ""
    report: ImportReport | None = None
    #: The organization's rule pack, which names the formulas and factors a change shows.
    pack: Pack | None = None

    @property
    def rows(self) -> list[ReportRow]:
        return report_rows(self.report, self.pack) if self.report else []


def _upload_path(token: str) -> Path:
    if not re.fullmatch(TOKEN_PATTERN, token):
        raise PermissionDenied(_("导入凭据无效"))
    return Path(settings.MEDIA_ROOT) / IMPORT_DIR / f"{token}.xlsx"


def _filename(upload: UploadedFile) -> str:
    name = Path(upload.name or "").name.strip() or "upload.xlsx"
    return name[-120:]


def _belongs(snapshot: Snapshot, org: rm.Organization) -> str:
    """Why the workbook may not be imported into ``org`` ("" if it may): it must be this organization's."""
    code = snapshot.organization.credit_code
    if code != org.credit_code:
        return _say("IMP-43", file=code or "—", org=org.credit_code)
    return ""


def _reason(filename: str, user: Any) -> str:
    return f"XLSX import {filename} by {user.get_username()}"


def preview_import(user: Any, org: rm.Organization, upload: UploadedFile, session: SessionBase) -> Preview:
    """Read the uploaded workbook and say what importing it would change, writing nothing.

    Every problem of an unreadable workbook is listed (nothing else happens); a workbook of another
    organization is refused; otherwise the import runs in a transaction that is rolled back, and the file
    is kept for :func:`confirm_import` under a token remembered in ``session``.
    """
    if not may_import(user, org):
        raise PermissionDenied(_("无权导入该单位的数据"))
    filename = _filename(upload)
    preview = Preview(filename)
    if not filename.lower().endswith(".xlsx"):
        preview.refusal = _say("IMP-41")
        return preview
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        preview.refusal = _say("IMP-42", limit=str(MAX_UPLOAD_BYTES // (1024 * 1024)))
        return preview
    token = uuid.uuid4().hex
    path = _upload_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        snapshot = read_xlsx(path)
    except SnapshotError as exc:
        path.unlink()  # an unreadable upload can never be confirmed
        preview.problems = [_problem(found, path, filename) for found in exc.located]
        return preview
    preview.refusal = _belongs(snapshot, org)
    if preview.refusal:
        path.unlink()
        return preview
    _org, preview.report = import_snapshot(snapshot, reason=_reason(filename, user), dry_run=True)
    preview.pack = organization_pack(org)
    pending = dict(session.get(PENDING_KEY, {}))
    pending[token] = {"user": user.pk, "org": org.pk, "filename": filename}
    session[PENDING_KEY] = pending
    preview.token = token
    return preview


def confirm_import(user: Any, org: rm.Organization, token: str, session: SessionBase) -> ImportReport:
    """Import the workbook previewed under ``token`` for real (all or nothing), then forget the token.

    Only the user who uploaded it, on the organization it was previewed for, may confirm: any other token
    is refused with PermissionDenied.  The file is read again, so what is imported is the file itself.
    """
    if not may_import(user, org):
        raise PermissionDenied(_("无权导入该单位的数据"))
    path = _upload_path(token)
    pending: dict[str, dict[str, Any]] = dict(session.get(PENDING_KEY, {}))
    entry = pending.get(token)
    if entry is None or entry.get("user") != user.pk or entry.get("org") != org.pk:
        raise PermissionDenied(_("导入凭据无效或不属于当前用户与单位"))
    if not path.is_file():
        raise ValidationError(_say("IMP-45"))
    try:
        snapshot = read_xlsx(path)
    except SnapshotError as exc:
        raise ValidationError(_say("IMP-44")) from exc
    refusal = _belongs(snapshot, org)
    if refusal:
        raise ValidationError(refusal)
    _org, report = import_snapshot(snapshot, reason=_reason(str(entry["filename"]), user))
    del pending[token]
    session[PENDING_KEY] = pending
    return report
