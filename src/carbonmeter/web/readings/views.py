"""Pages of the metering data (6.4): upload and its ingest report, quarantine, the batch chain with
corrections, the data ledger with its completeness heatmap, daily view, counter events and XLSX export.

Every page works on the current organization (``current_org`` offers only readable ones) and reads rows
through :func:`scope_for`; a row of another organization is a 404, as if it did not exist.  Everything
that stores readings goes through ``services.ingest`` — upload, re-submission of a fixed row, correction —
so the same validator, chain and idempotence apply whichever page the data come from.  Writing needs one of
``IngestRun.write_roles`` (organization admin, metrology officer, data clerk) in the organization; verifiers
and regulators read only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any, Final

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carbonmeter.readings.ingest import IngestError
from carbonmeter.readings.model import Lang
from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.readings import corrections, services, xlsx
from carbonmeter.web.readings import ledger as ledger_queries
from carbonmeter.web.readings.forms import (
    CorrectionForm,
    CounterEventForm,
    DismissForm,
    FixRowForm,
    QuarantineFilterForm,
    UploadForm,
    parse_month,
    parse_year,
    raw_cells,
    uploaded_name,
)
from carbonmeter.web.readings.models import (
    QUARANTINE_STATES,
    CounterEvent,
    IngestRun,
    QuarantinedRow,
    ReadingBatch,
)
from carbonmeter.web.registry.models import MeasuringPoint, Organization

#: Rows per page of the lists (runs, quarantine, batches) and of a run's exceptions.
PAGE_SIZE: Final = 50
#: The id of the quarantine table's container: htmx requests aimed at it get the table only.
QUARANTINE_TARGET: Final = "quarantine-table"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _lang() -> Lang:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _author(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user (the views are ``login_required``), who is recorded on the run and the batch."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user


def may_ingest(user: Any, org: Organization) -> bool:
    """Upload, re-submit, dismiss and correct: the organization's admin, metrology officer or data clerk."""
    return writable_orgs(user, IngestRun.write_roles).filter(pk=org.pk).exists()


def may_record_events(user: Any, org: Organization) -> bool:
    """Counter events change how totals are computed: the roles that may change the monitoring plan."""
    return writable_orgs(user, CounterEvent.write_roles).filter(pk=org.pk).exists()


def _require_ingest(user: Any, org: Organization) -> None:
    if not may_ingest(user, org):
        raise PermissionDenied(_("无权向该单位提交计量数据"))


@contextmanager
def _saved(file: UploadedFile) -> Iterator[Path]:
    """The uploaded file on disk under its own suffix (the ingest tells CSV, XLSX and Parquet apart by it),
    removed afterwards; the service keeps its own copy of what it received."""
    suffix = PurePath(str(file.name)).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="carbonmeter-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        yield path


def _announce(request: HttpRequest, run: IngestRun) -> None:
    """One line saying what happened to the submission, shown above its report."""
    counts = {"a": run.rows_accepted, "d": run.rows_duplicate, "q": run.rows_quarantined}
    text = _("接收 %(a)d 行，重复 %(d)d 行，隔离 %(q)d 行。") % counts
    if run.rows_quarantined:
        messages.warning(request, text)
    else:
        messages.success(request, text)


# ------------------------------------------------------------------------------------------------------
# The ingest report, as the page and the API show it
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowFate:
    """Rows that were not accepted, where they were in the source and why: one quarantined row, or a run
    of consecutive duplicate rows (the report keeps duplicates as ranges, however many there are)."""

    fate: str
    first: int
    last: int
    file: str
    sheet: str
    column: str
    code: str
    reason: str
    quarantined: QuarantinedRow | None = None

    @property
    def rows(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


@dataclass(frozen=True)
class RunReport:
    """A run's counts, the batch it wrote or the batch that already held its content, and its exceptions
    — read from the run's stored report (``carbonmeter.readings.ingest.Outcome.report``) and its
    quarantined rows."""

    run: IngestRun
    existing: ReadingBatch | None

    @classmethod
    def of(cls, run: IngestRun) -> RunReport:
        existing = None
        seq = _int_or_none(_report(run).get("held_by"))
        if run.batch_id is None and seq is not None:
            existing = ReadingBatch.objects.filter(organization_id=run.organization_id, seq=seq).first()
        return cls(run=run, existing=existing)

    @property
    def file(self) -> str:
        return str(_report(self.run).get("file") or self.run.filename)

    @property
    def sheet(self) -> str:
        return str(_report(self.run).get("sheet") or "")

    @property
    def blank_rows(self) -> str:
        """Rows skipped because every cell was empty (reported, not silently dropped), as ranges."""
        rows = sorted(r for r in (_int_or_none(x) for x in _report(self.run).get("blank_rows") or []) if r)
        return _ranges(rows)

    @property
    def ignored_columns(self) -> list[str]:
        return [str(c) for c in _report(self.run).get("ignored_columns") or []]

    @property
    def superseded(self) -> int:
        """Stored readings this correction supersedes (the latest batch's value becomes effective)."""
        return _int_or_none(_report(self.run).get("superseded")) or 0

    def duplicates(self) -> list[RowFate]:
        out = []
        for entry in _report(self.run).get("duplicate") or []:
            if not isinstance(entry, dict):
                continue
            span = entry.get("rows") or []
            first = _int_or_none(span[0]) if span else None
            if first is None:
                continue
            last = _int_or_none(span[-1]) or first
            if entry.get("batch") is not None:
                reason = _("与批次 #%(batch)s 中已存储的读数相同") % {"batch": entry["batch"]}
            else:
                reason = _("与本文件第 %(row)s 行相同") % {"row": entry.get("row", "?")}
            out.append(RowFate("duplicate", first, last, self.file, self.sheet, "", "", reason))
        return out

    def exceptions(self, quarantined: QuerySet[QuarantinedRow]) -> list[RowFate]:
        """Every row not accepted, in source order: duplicate runs and quarantined rows."""
        out = self.duplicates()
        out += [
            RowFate(
                "quarantined", q.row, q.row, self.file, q.sheet, q.column, q.code, q.reason_in(_lang()), q
            )
            for q in quarantined.order_by("row", "pk")
        ]
        return sorted(out, key=lambda f: (f.first, f.fate))


def _report(run: IngestRun) -> dict[str, Any]:
    return run.report if isinstance(run.report, dict) else {}


def _ranges(rows: Sequence[int]) -> str:
    spans: list[list[int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------------
# Upload and the ingest report
# ------------------------------------------------------------------------------------------------------


def _runs(user: Any, org: Organization) -> QuerySet[IngestRun]:
    return (
        scope_for(user, IngestRun)
        .filter(organization=org)
        .select_related("batch", "created_by")
        .defer("report")
        .order_by("-created_at", "-pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """数据上传: a CSV / XLSX / Parquet file of readings, and the organization's recent ingest runs."""
    org = current_org(request)
    allowed = may_ingest(request.user, org)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _require_ingest(request.user, org)
        if form.is_valid():
            file: UploadedFile = form.cleaned_data["file"]
            try:
                with _saved(file) as path:
                    run = services.ingest(
                        org, source="upload", path=path, filename=uploaded_name(file), user=_author(request)
                    )
            except IngestError as exc:
                form.add_error("file", exc.message(_lang()))
            else:
                _announce(request, run)
                return redirect("readings_run", pk=run.pk)
    page = Paginator(_runs(request.user, org), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "readings/upload.html", {"org": org, "form": form, "may_ingest": allowed, "page": page}
    )


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """接收报告: counts, the batch written (or the one already holding the content), each row not accepted."""
    runs = scope_for(request.user, IngestRun).select_related("organization", "batch", "created_by")
    run = get_object_or_404(runs, pk=pk)
    report = RunReport.of(run)
    exceptions = report.exceptions(
        scope_for(request.user, QuarantinedRow).filter(services.run_quarantine(run))
    )
    page = Paginator(exceptions, PAGE_SIZE * 4).get_page(request.GET.get("page"))
    context = {
        "run": run,
        "report": report,
        "page": page,
        "may_ingest": may_ingest(request.user, run.organization),
    }
    return render(request, "readings/run.html", context)


@login_required
@require_GET
def run_file(request: HttpRequest, pk: int) -> FileResponse:
    """The source file of an ingest run as received, for whoever may read the run (never from MEDIA_URL)."""
    run = get_object_or_404(scope_for(request.user, IngestRun), pk=pk)
    if not run.upload:
        raise Http404("this run kept no file")
    name = run.filename or Path(run.upload.name).name
    response = FileResponse(run.upload.open("rb"), as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------------------------------------------
# Quarantine
# ------------------------------------------------------------------------------------------------------


def _wants_table(request: HttpRequest, target: str) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == target
        and not request.headers.get("HX-History-Restore-Request")
    )


@login_required
@require_GET
def quarantine(request: HttpRequest) -> HttpResponse:
    """隔离数据: rejected rows of the organization, open ones first, filtered by code, run and state."""
    org = current_org(request)
    rows = scope_for(request.user, QuarantinedRow).filter(organization=org)
    codes = sorted(set(rows.values_list("code", flat=True).distinct()))
    form = QuarantineFilterForm(request.GET or None, codes=codes, states=QUARANTINE_STATES)
    wanted = form.wanted()
    shown = rows
    if wanted["code"]:
        shown = shown.filter(code=wanted["code"])
    if wanted["run"]:
        shown = shown.filter(run_id=wanted["run"])
    if wanted["state"] != "all":
        shown = shown.filter(state=wanted["state"])
    shown = shown.select_related("run", "resolved_by").order_by("-run__created_at", "run_id", "row", "pk")
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    lang = _lang()
    for q in page.object_list:
        q.shown_reason = q.reason_in(lang)
    counts = dict(rows.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    partial = _wants_table(request, QUARANTINE_TARGET)
    context = {
        "org": org,
        "form": form,
        "page": page,
        "counts": counts,
        "may_ingest": may_ingest(request.user, org),
        "table_target": QUARANTINE_TARGET,
        "partial": partial,
    }
    template = "readings/_quarantine_table.html" if partial else "readings/quarantine.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _writable_row(request: HttpRequest, pk: int) -> QuarantinedRow:
    """The quarantined row ``pk`` for a change: 404 when unseen, 403 when only readable (whether it is still
    open is the caller's check: the answer there is a message, not an error)."""
    row = get_object_or_404(
        scope_for(request.user, QuarantinedRow).select_related("run", "organization"), pk=pk
    )
    if not scope_for(request.user, QuarantinedRow, write=True).filter(pk=row.pk).exists():
        raise PermissionDenied(_("无权处理该单位的隔离数据"))
    return row


@login_required
@require_http_methods(["GET", "POST"])
def quarantine_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One quarantined row: its cells as received and why; write roles fix the cells and re-submit it.

    A re-submission is a new ingest of the fixed row (source ``resubmission``) that names the row it
    resolves, so the fix goes through the same checks and into the chain like any other reading.
    """
    rows = scope_for(request.user, QuarantinedRow).select_related("run", "organization", "resolved_by")
    row = get_object_or_404(rows, pk=pk)
    allowed = scope_for(request.user, QuarantinedRow, write=True).filter(pk=row.pk).exists()
    form = FixRowForm(request.POST or None, initial=raw_cells(row.raw), bad_column=row.column)
    if request.method == "POST":
        row = _writable_row(request, pk)
        if row.state != "open":
            messages.error(request, _("该行已处理，不能再次提交。"))
            return redirect("readings_quarantine_row", pk=row.pk)
        if form.is_valid():
            run = services.ingest(
                row.organization,
                source="resubmission",
                rows=[form.cells()],
                resolves=[row],
                user=_author(request),
                reason=form.cleaned_data["reason"],
                filename=f"{row.run.filename or row.run.get_source_display()} #{row.row}",
            )
            _announce(request, run)
            return redirect("readings_run", pk=run.pk)
    row.shown_reason = row.reason_in(_lang())  # type: ignore[attr-defined]
    history = row.history.select_related("history_user").order_by("-history_date")[:20]
    context = {
        "row": row,
        "cells": raw_cells(row.raw),
        "form": form,
        "dismiss": DismissForm(),
        "may_fix": allowed and row.state == "open",
        "history": history,
    }
    return render(request, "readings/quarantine_row.html", context)


@login_required
@require_POST
def quarantine_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss an open quarantined row (it will not be stored) with a reason; history keeps who and why."""
    row = _writable_row(request, pk)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("reason", [])))
        return redirect("readings_quarantine_row", pk=row.pk)
    try:
        corrections.dismiss_row(row, user=_author(request), reason=form.cleaned_data["reason"])
    except corrections.RowNotOpen as error:
        messages.error(request, str(error))
    except corrections.CorrectionError as error:
        messages.error(request, str(error))
        return redirect("readings_quarantine_row", pk=row.pk)
    else:
        messages.success(request, _("已驳回第 %(row)d 行。") % {"row": row.row})
    return redirect(reverse("readings_quarantine") + f"?run={row.run_id}")


# ------------------------------------------------------------------------------------------------------
# Batches and corrections
# ------------------------------------------------------------------------------------------------------


def _batches(user: Any, org: Organization) -> QuerySet[ReadingBatch]:
    return scope_for(user, ReadingBatch).filter(organization=org)


@login_required
@require_GET
def batches(request: HttpRequest) -> HttpResponse:
    """数据批次: the organization's links of the chain, newest first, with what corrects what."""
    org = current_org(request)
    rows = (
        _batches(request.user, org)
        .select_related("created_by", "corrects")
        .prefetch_related("corrections")
        .annotate(n_files=Count("files", distinct=True))
        .order_by("-seq")
    )
    source = request.GET.get("source", "")
    if source:
        rows = rows.filter(source=source)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "org": org,
        "page": page,
        "source": source,
        "sources": ReadingBatch._meta.get_field("source").choices,
        "may_ingest": may_ingest(request.user, org),
    }
    return render(request, "readings/batches.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest) -> HttpResponse:
    """更正: a new batch that ``corrects`` an earlier one, with a reason; nothing is changed in place."""
    org = current_org(request)
    _require_ingest(request.user, org)
    choices = _batches(request.user, org).order_by("-seq")
    initial: dict[str, Any] = {}
    wanted = request.GET.get("batch", "")
    if wanted.isdigit():
        initial["corrects"] = choices.filter(pk=int(wanted)).first()
    form = CorrectionForm(request.POST or None, request.FILES or None, batches=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common: dict[str, Any] = {
            "source": "correction",
            "user": _author(request),
            "corrects": data["corrects"],
            "reason": data["reason"],
        }
        try:
            if data.get("file"):
                file: UploadedFile = data["file"]
                with _saved(file) as path:
                    run = services.ingest(org, path=path, filename=uploaded_name(file), **common)
            else:
                run = services.ingest(org, rows=data["rows"], filename=_("页面录入"), **common)
        except IngestError as exc:
            form.add_error("file" if data.get("file") else "rows", exc.message(_lang()))
        else:
            _announce(request, run)
            return redirect("readings_run", pk=run.pk)
    return render(request, "readings/correct.html", {"org": org, "form": form})


# ------------------------------------------------------------------------------------------------------
# The ledger
# ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """计量数据台账: monthly totals per point and per source stream, completeness heatmap, for one year."""
    org = current_org(request)
    today = timezone.localdate()
    year = parse_year(request.GET.get("year"), today.year)
    book = ledger_queries.year_ledger(org, year)
    years = ledger_queries.years_with_data(org, today)
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    context = {
        "org": org,
        "year": year,
        "years": years,
        "book": book,
        "heatmap": book.heatmap(),
        "this_month": f"{year}-{today.month:02d}" if year == today.year else f"{year}-01",
        "chain": services.ledger_head(),
    }
    return render(request, "readings/ledger.html", context)


def _point_or_404(user: Any, org: Organization, code: str) -> MeasuringPoint:
    point = (
        scope_for(user, MeasuringPoint)
        .filter(organization=org, code=code)
        .select_related("stream", "organization")
        .first()
    )
    if point is None:
        raise Http404("no such point in this organization")
    return point


@login_required
@require_http_methods(["GET", "POST"])
def daily(request: HttpRequest) -> HttpResponse:
    """日台账 of one point and month, its counter events and (for the plan's editors) a form to add one."""
    org = current_org(request)
    point = _point_or_404(request.user, org, request.GET.get("point", ""))
    today = timezone.localdate()
    month = parse_month(request.GET.get("month")) or today.replace(day=1)
    profile = getattr(point, "data_profile", None)
    if profile is not None and profile.archived:
        profile = None
    totalizer = profile is not None and ledger_queries.totalizer(profile.quantity)
    allowed = may_record_events(request.user, org)
    form = CounterEventForm(request.POST or None, point=point, totalizer=totalizer)
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied(_("无权记录该单位的计数器事件"))
        if form.is_valid():
            event = corrections.record_counter_event(form.save(commit=False), user=_author(request))
            messages.success(request, _("已记录计数器事件。"))
            local = timezone.localtime(event.ts)
            query = f"?point={point.code}&month={local:%Y-%m}"
            return redirect(reverse("readings_daily") + query)
    events = scope_for(request.user, CounterEvent).filter(point=point).order_by("-ts")
    context = {
        "org": org,
        "point": point,
        "profile": profile,
        "totalled": profile is None or ledger_queries.additive(profile.quantity),
        "month": month,
        "prev_month": (month - timedelta(days=1)).replace(day=1),
        "next_month": ledger_queries.month_end(month),
        "series": ledger_queries.daily(org, point.code, month),
        "events": events,
        "form": form,
        "may_record": allowed and totalizer,
    }
    return render(request, "readings/daily.html", context)


@login_required
@require_GET
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The year's ledger as a workbook: 月度台账, 日台账, 完整性 (the numbers of the page, nothing more)."""
    org = current_org(request)
    year = parse_year(request.GET.get("year"), timezone.localdate().year)
    con = ledger_queries.connect()
    book = ledger_queries.year_ledger(org, year, con=con)
    days = ledger_queries.year_daily(org, year, con=con)
    body = xlsx.ledger_workbook(book, days)
    response = HttpResponse(body, content_type=XLSX_TYPE)
    name = f"{org.name}-计量数据台账-{year}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response


def open_rows(user: Any, org: Organization) -> int:
    """Open quarantined rows of ``org`` the user can see (the tab's badge)."""
    return scope_for(user, QuarantinedRow).filter(Q(organization=org) & Q(state="open")).count()
