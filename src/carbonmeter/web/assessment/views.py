"""Pages of the assessment: run the engine on the database, read a run, move the plant in and out as files.

Each view parses the request, authorises (``current_org`` offers only readable organizations, querysets come
from :func:`scope_for`, writes check the write scope), makes one service call and renders.  The run page only
rearranges the stored §4 document for reading; it never re-assesses.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carbonmeter.rules.messages import Lang, label_text
from carbonmeter.rules.schema import Pack
from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.accounts.scope import scope_for, writable_orgs
from carbonmeter.web.assessment import emissions
from carbonmeter.web.assessment.evidence import Reader, register_links
from carbonmeter.web.assessment.forms import ConfirmForm, ImportForm, RunForm
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services import transfer
from carbonmeter.web.assessment.services.run import AssessmentRefused, changes, run_assessment
from carbonmeter.web.registry.models import Facility, Organization, SourceStream

#: Runs per page of the list.
RUNS_PER_PAGE = 25


def _may_run(user: Any, org: Organization) -> bool:
    return writable_orgs(user, AssessmentRun.write_roles).filter(pk=org.pk).exists()


@login_required
@require_http_methods(["GET", "POST"])
def assessments(request: HttpRequest) -> HttpResponse:
    """The runs of the current organization, newest first; write roles run a new one at a chosen date."""
    org = current_org(request)
    may_run = _may_run(request.user, org)
    form = RunForm(request.POST or None)
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied(_("无权对该单位运行评价"))
        if form.is_valid():
            try:
                run = run_assessment(org, form.cleaned_data["as_of"], request.user)
            except AssessmentRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("评价已完成：%(verdict)s") % {"verdict": _verdict(run)})
                return redirect("assessment_detail", pk=run.pk)
    runs = (
        scope_for(request.user, AssessmentRun)
        .filter(organization=org)
        .select_related("created_by")
        .defer("document")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "assessment/list.html", {"org": org, "form": form, "page": page, "may_run": may_run}
    )


def _verdict(run: AssessmentRun) -> str:
    if run.conforms:
        return _("符合")
    return _("不符合（不符合项 %(nc)d 项，观察项 %(obs)d 项）") % {
        "nc": run.nonconformities,
        "obs": run.observations,
    }


# --------------------------------------------------------------------------------------------------------
# One run, for reading
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseGroup:
    clause: str
    title: str
    findings: list[dict[str, Any]]

    @property
    def nonconformities(self) -> int:
        return sum(f["severity"] == "nonconformity" for f in self.findings)


def _clause_key(clause: str) -> tuple[int, ...]:
    """5.2.1 before 5.10 before annex A: clauses sort by their numbers, annexes after the body."""
    head = clause.replace("A.", "100.").replace("B.", "200.")
    return tuple(int(p) for p in head.split(".") if p.isdigit())


def _run_pack(run: AssessmentRun) -> Pack | None:
    """The exact pack version the run used, when it can still be loaded."""
    return emissions.run_pack(run)


def _clause_titles(pack: Pack | None, lang: str) -> dict[str, str]:
    """Clause titles from the run's pack; none when it can no longer be loaded."""
    if pack is None:
        return {}
    return {k: (c.en if lang == "en" else c.zh) for k, c in pack.clauses.items()}


def _with_text(finding: dict[str, Any], lang: str, reader: Reader | None = None) -> dict[str, Any]:
    """A finding with the message in the page's language and (given a ``reader``) its evidence, read."""
    message = finding.get("message_en") if lang == "en" else None
    evidence = finding.get("evidence") or {}
    cause = finding.get("root_cause")
    return finding | {
        "text": message or finding["message"],
        "evidence_entries": reader.entries(evidence) if reader is not None and evidence else (),
        "root_cause_href": (reader.links("instrument", cause) or "") if reader is not None and cause else "",
    }


def _by_clause(findings: list[dict[str, Any]], titles: dict[str, str], reader: Reader) -> list[ClauseGroup]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        grouped[f["clause"]].append(_with_text(f, reader.lang, reader))
    return [
        ClauseGroup(
            clause,
            titles.get(clause, ""),
            sorted(
                grouped[clause], key=lambda f: (f["severity"] != "nonconformity", f["code"], f["subject"])
            ),
        )
        for clause in sorted(grouped, key=_clause_key)
    ]


def _what(what: str) -> str:
    """What could not be judged (contract §6.4.3), in the page's language."""
    names = {"accuracy": _("准确度"), "uncertainty": _("不确定度"), "emissions": _("排放量")}
    return names.get(what, what)


def _not_judged(document: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The run's ``not_judged`` items with their reason in the page's language (runs stored before contract
    v1.1 have none)."""
    return [
        n
        | {
            "text": (n.get("reason_en") if lang == "en" else None) or n["reason"],
            "what_label": _what(n["what"]),
        }
        for n in document.get("not_judged", [])
    ]


def _pct(x: float | None) -> float | None:
    return None if x is None else x * 100


def _facility_rows(run: AssessmentRun, lang: str) -> list[dict[str, Any]]:
    """Table A.1 per production facility (contract §6.4.6), rows with something required, the facility by
    its name in the register (its code where it is gone)."""
    names = dict(Facility.objects.filter(organization=run.organization).values_list("code", "name"))
    rows = [r for r in run.document.get("equipping_by_facility", []) if r.get("required")]
    labelled = _rows({"equipping": rows}, lang)
    return [r | {"facility_name": names.get(r["facility"], r["facility"])} for r in labelled]


def _rows(document: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    out = []
    for r in document["equipping"]:
        try:
            label = label_text(f"row.{r['row']}", "en" if lang == "en" else "zh")
        except KeyError:
            label = r["row"]
        out.append(
            r
            | {
                "label": label,
                "provisional": r.get("basis") == "provisional",
                "rate_pct": _pct(r["rate"]),
                "required_pct": _pct(r["required_rate"]),
            }
        )
    return out


@login_required
@require_GET
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: verdict, Table A.1 rates, findings by clause (each naming the instrument that is its root
    cause), what could not be judged, and what changed since the run before it."""
    runs = scope_for(request.user, AssessmentRun).select_related("organization", "created_by")
    run = get_object_or_404(runs, pk=pk)
    previous = (
        runs.filter(organization=run.organization, created_at__lte=run.created_at)
        .exclude(pk=run.pk)
        .exclude(created_at=run.created_at, pk__gt=run.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    diff = changes(previous, run)
    lang: Lang = "en" if (get_language() or "").startswith("en") else "zh"
    doc = run.document
    pack = _run_pack(run)
    reader = Reader(lang, register_links(request.user, run.organization), pack)
    context = {
        "run": run,
        "doc": doc,
        "verdict": _verdict(run),
        "rows": _rows(doc, lang),
        "facility_rows": _facility_rows(run, lang),
        "groups": _by_clause(doc["findings"], _clause_titles(pack, lang), reader),
        "not_judged": _not_judged(doc, lang),
        "previous": previous,
        "new": [_with_text(f, lang) for f in diff["new"]] if previous else [],
        "resolved": [_with_text(f, lang) for f in diff["resolved"]],
        "rates": [
            r
            | {
                "label": label_text(f"row.{r['row']}", "en" if lang == "en" else "zh"),
                "before_pct": _pct(r["before"]),
                "after_pct": _pct(r["after"]),
            }
            for r in diff["rates"]
        ],
        "provisional": any(f.get("provisional") for f in doc["findings"])
        or any(r.get("basis") == "provisional" for r in doc["equipping"]),
    }
    return render(request, "assessment/detail.html", context)


@login_required
@require_GET
def assessment_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's stored contract §4 document, as the CLI's ``--format json`` would print it."""
    run = get_object_or_404(scope_for(request.user, AssessmentRun).select_related("organization"), pk=pk)
    body = json.dumps(run.document, ensure_ascii=False, indent=1) + "\n"
    name = f"{run.organization.name}-评价结果-{run.as_of.isoformat()}-{run.pk}.json"
    return _download(body.encode("utf-8"), "application/json; charset=utf-8", name)


# --------------------------------------------------------------------------------------------------------
# Emissions and their uncertainty (contract §6.3), from the stored document
# --------------------------------------------------------------------------------------------------------


def _lang() -> Lang:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _stream_names(user: Any, org: Organization) -> dict[str, str]:
    """The register's names of ``org``'s streams by code (a stream since removed has none)."""
    rows = scope_for(user, SourceStream).filter(organization=org).values_list("code", "name")
    return {code: name for code, name in rows}


def _readable_run(request: HttpRequest, pk: int) -> AssessmentRun:
    runs = scope_for(request.user, AssessmentRun).select_related("organization", "created_by")
    return get_object_or_404(runs, pk=pk)


@login_required
@require_GET
def assessment_emissions(request: HttpRequest, pk: int) -> HttpResponse:
    """排放量与不确定度: per formula stream declared vs computed with U95, tier and activity U95, the plant
    total with its U95 (and the Monte Carlo check), and the advisor's ranked actions."""
    run = _readable_run(request, pk)
    lang = _lang()
    doc = run.document
    pack = _run_pack(run)
    names = _stream_names(request.user, run.organization)
    links = register_links(request.user, run.organization)
    figures = emissions.stream_figures(doc, pack, lang, names)
    total = emissions.plant_total(doc)
    labels = {
        "declared": _("申报排放量"),
        "computed": _("计算排放量"),
        "u95": _("扩展不确定度 U95"),
        "total": _("全厂净排放量"),
        "unit": _("吨二氧化碳"),
    }
    context = {
        "run": run,
        "figures": figures,
        "total": total,
        "advice": emissions.advice(doc, names, links),
        "chart": emissions.chart_data(figures, total, labels) if figures else None,
    }
    return render(request, "assessment/emissions.html", context)


@login_required
@require_GET
def assessment_budget(request: HttpRequest, pk: int, stream: str) -> HttpResponse:
    """One formula stream's uncertainty budget: which input contributes what share of its variance."""
    run = _readable_run(request, pk)
    lang = _lang()
    doc = run.document
    found = emissions.stream_doc(doc, stream)
    if found is None:
        raise Http404(_("本次评价中没有按核算公式计算的该碳源流"))
    pack = _run_pack(run)
    names = _stream_names(request.user, run.organization)
    figure = next(f for f in emissions.stream_figures(doc, pack, lang, names) if f.id == stream)
    context = {
        "run": run,
        "figure": figure,
        "lines": emissions.budget_lines(found, register_links(request.user, run.organization)),
    }
    return render(request, "assessment/budget.html", context)


# --------------------------------------------------------------------------------------------------------
# Export and import
# --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def transfer_page(request: HttpRequest) -> HttpResponse:
    """Export links for everyone who may read; for write roles, upload a workbook and see its preview."""
    org = current_org(request)
    may_import = transfer.may_import(request.user, org)
    form = ImportForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST":
        if not may_import:
            raise PermissionDenied(_("无权导入该单位的数据"))
        if form.is_valid():
            preview = transfer.preview_import(
                request.user, org, form.cleaned_data["workbook"], request.session
            )
    context = {
        "org": org,
        "form": form,
        "preview": preview,
        "confirm": ConfirmForm(initial={"token": preview.token}) if preview and preview.token else None,
        "may_import": may_import,
        "today": timezone.localdate(),
    }
    return render(request, "assessment/transfer.html", context)


@login_required
@require_POST
def transfer_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed workbook for real; a token not issued to this user and organization is refused."""
    org = current_org(request)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied(_("导入凭据无效"))
    try:
        report = transfer.confirm_import(request.user, org, form.cleaned_data["token"], request.session)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("transfer")
    messages.success(
        request,
        _("导入完成：新增 %(created)d 条，更新 %(updated)d 条。")
        % {
            "created": sum(len(v) for v in report.created.values()),
            "updated": sum(len(v) for v in report.updated.values()),
        },
    )
    return redirect("transfer")


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    """A file to save, named in Chinese (RFC 6266 ``filename*``) and never sniffed as something else."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


@login_required
@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    """The current organization's snapshot (contract §2) at today, for ``carbonmeter assess`` or verifiers."""
    org, today = current_org(request), timezone.localdate()
    body = transfer.export_json(request.user, org, today)
    return _download(body, "application/json; charset=utf-8", transfer.export_filename(org, today, "json"))


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The same snapshot as the workbook (contract §3), the register people edit and import back."""
    org, today = current_org(request), timezone.localdate()
    body = transfer.export_xlsx(request.user, org, today)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, xlsx, transfer.export_filename(org, today, "xlsx"))
