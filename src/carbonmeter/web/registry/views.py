"""Registry pages: the dashboard, the instrument register (Table B.1), one instrument, its label, and the
organization switch; on the instrument page, uploads to its archive and seal events, and the downloads of
its files.

Views only parse the request, find the current organization, call one query of
:mod:`carbonmeter.web.registry.queries` and render; every row comes from the user's scope.  The register
answers htmx requests aimed at its table with the table alone, and any other request (a bookmark, a
reload, a history restore) with the whole page, so each URL works with and without JavaScript.

Writes follow the calibration record form: an instrument the user cannot read is 404 (its existence is not
revealed), one it reads without a write role is 403.  Uploaded files are never served from ``MEDIA_URL``:
each download goes through a view that finds the row in the user's scope first.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePath
from typing import Any, Final
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carbonmeter.rules.messages import Lang
from carbonmeter.web.accounts.current import choose_org as switch_org
from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.accounts.models import ROLES
from carbonmeter.web.accounts.scope import readable_orgs, role_in, scope_for
from carbonmeter.web.assessment.services.run import AssessmentRefused, run_assessment
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry import changes, queries
from carbonmeter.web.registry.forms import (
    DUE_CHOICES,
    PAGE_SIZE,
    AttachmentForm,
    ChooseOrgForm,
    InstrumentRowForm,
    RegisterFilterForm,
    SealEventForm,
    type_label,
)
from carbonmeter.web.registry.models import Attachment, Instrument, Organization

#: The register's columns in Table B.1 order: (sort key, heading, hidden on narrow screens).  A tablet in
#: portrait keeps what the officer looks for (code, name, class, asset number, place, points, status,
#: validity); the others are on the instrument page and in print.
COLUMNS: Final = [
    ("code", _("编号"), False),
    ("name", _("器具名称"), False),
    ("model", _("型号规格"), True),
    ("accuracy", _("准确度等级"), False),
    ("range", _("测量范围"), True),
    ("manufacturer", _("生产厂家"), True),
    ("serial", _("出厂编号"), True),
    ("asset", _("管理编号"), False),
    ("location", _("安装使用地点"), False),
    ("points", _("计量点"), False),
    ("status", _("状态"), False),
    ("valid_until", _("有效期至"), False),
]
ROLE_LABELS: Final[dict[str, Any]] = {
    **dict(ROLES),
    "verifier": _("核查人员"),
    "regulator": _("监管人员"),
    "superuser": _("超级管理员"),
}
#: The id of the register's table container: htmx requests aimed at it get the table only.
TABLE_TARGET: Final = "register-table"
#: File types a browser may show in its own tab (PDF viewer, images); every other file is downloaded.
INLINE_TYPES: Final = frozenset({"application/pdf", "image/png", "image/jpeg"})


def _lang() -> Lang:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _instrument_or_404(request: HttpRequest, code: str) -> Instrument:
    inst = queries.find_instrument(request.user, code, current_org(request))
    if inst is None:
        raise Http404("no such instrument in this user's organizations")
    return inst


#: How long the dashboard's rendered parts are kept at most (any change to the registry replaces them sooner).
DASHBOARD_CACHE_SECONDS: Final = queries.DASHBOARD_CACHE_SECONDS


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Equipping rates and findings of the latest assessment (when it was made, and whether the registry
    changed since), and verifications falling due.

    A first visit by someone who may record assessments runs one, so the page is never empty for the
    people who keep the data; verifiers and regulators see only what has been run.

    The figures and their rendered HTML depend only on the organization, its latest run, the state of the
    registry (:func:`carbonmeter.web.registry.changes.version`), today and the language: they are kept in
    the cache under exactly these, so any change shows at the next view.  What depends on the user (the
    offer to run again, the CSRF token, the menu) is rendered for every request.
    """
    org = current_org(request)
    today = timezone.localdate()
    run = queries.latest_run(request.user, org)
    if run is None and queries.may_run_assessment(request.user, org):
        try:
            run = run_assessment(org, today, request.user)
        except AssessmentRefused as exc:
            messages.error(request, str(exc))
    version = changes.version()
    made = f"{run.pk}@{run.created_at.isoformat()}" if run else "-"
    parts = (org.pk, made, today.isoformat(), version, get_language())
    key = "cm:dashboard-html:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    cached: tuple[queries.Dashboard, str, str] | None = cache.get(key)
    if cached is None:
        board = queries.dashboard(request.user, org, run, today, _lang(), version)
        due_cards = [(state, label, board.due[state]) for state, label in DUE_CHOICES if state in board.due]
        context = {
            "org": org,
            "board": board,
            "chart": board.chart(),
            "due_cards": due_cards,
            "today": today,
        }
        cached = (
            board,
            str(render_to_string("registry/_dashboard_top.html", context, request)),
            str(render_to_string("registry/_dashboard_board.html", context, request)),
        )
        cache.set(key, cached, DASHBOARD_CACHE_SECONDS)
    board, top, rest = cached
    context = {
        "org": org,
        "board": board,
        "top": mark_safe(top),  # our own templates' output
        "rest": mark_safe(rest),
        "today": today,
        # A stale assessment offers a new run to those who may record one.
        "may_rerun": board.stale and queries.may_run_assessment(request.user, org),
    }
    return render(request, "registry/dashboard.html", context)


def _columns(sort: str) -> list[dict[str, Any]]:
    """Headings with the sort each one links to (clicking the sorted column reverses it)."""
    out = []
    for key, label, wide in COLUMNS:
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        link = f"-{key}" if state == "asc" else key
        out.append({"key": key, "label": label, "state": state, "link": link, "wide": wide})
    return out


def _wants_table(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == TABLE_TARGET
        and not request.headers.get("HX-History-Restore-Request")
    )


#: How long a rendered register body is kept at most (any change to the registry replaces it sooner).
TABLE_CACHE_SECONDS: Final = 3600


def _table_key(request: HttpRequest, org_pk: int, state: str, partial: bool) -> str:
    """The cache key of one rendered register body (or table alone): the organization, the state of its
    registry, today, the language and the exact query (its form and links repeat the query's parameters)."""
    query = urlencode(sorted((k, v) for k, values in request.GET.lists() for v in values))
    parts = (org_pk, state, timezone.localdate().isoformat(), get_language(), partial, query)
    return "cm:register-body:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _register_body(request: HttpRequest, org: Organization, state: str, partial: bool) -> str:
    """The register's filter form and table for the request's query (the table alone for htmx)."""
    form = RegisterFilterForm(request.GET, types=queries.instrument_types(request.user, org, state))
    form.is_valid()
    wanted = form.to_filter()
    rows = queries.register(request.user, org, wanted, timezone.localdate())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    table_context = {
        "page": page,
        "sort": wanted.sort,
        "columns": _columns(wanted.sort),
        "filtered": any((wanted.q, wanted.status, wanted.type, wanted.due)),
        "partial": partial,
    }
    table = render_to_string("registry/_register_table.html", table_context, request)
    if partial:
        return table
    context = {
        "org": org,
        "form": form,
        "sort": wanted.sort,
        "table": mark_safe(table),  # our own template's output
        "table_target": TABLE_TARGET,
    }
    return render_to_string("registry/_register_body.html", context, request)


@login_required
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """The instrument register (一览表, Table B.1): filter, search, sort, 50 rows a page.

    The rendered body of the page (the filter form and the table; the table alone for htmx) is kept in the
    cache under the organization, the state of the registry
    (:func:`carbonmeter.web.registry.changes.version`), today, the language and the exact query, so it is
    built once after each change rather than on every view; any save, import or admin edit makes the next
    view build it again.  Only the layout around it (the user's menu, the CSRF token) is rendered for
    every request.
    """
    org = current_org(request)
    state = changes.version()
    partial = _wants_table(request)
    key = _table_key(request, org.pk, state, partial)
    body = cache.get(key)
    if body is None:
        body = _register_body(request, org, state, partial)
        cache.set(key, body, TABLE_CACHE_SECONDS)
    if partial:
        response = HttpResponse(body)
    else:
        # our own templates' output
        response = render(request, "registry/register.html", {"body": mark_safe(body)})
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
@require_GET
def instrument_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One instrument: its B.1 entry, system components, points, records, seals, archive and history.

    ``?asset=`` comes from a scanned label: when it differs from the register, the label on the
    instrument belongs to another one (a replaced meter) and the page says so.
    """
    return _instrument_page(request, _instrument_or_404(request, code))


def _instrument_page(
    request: HttpRequest, inst: Instrument, bound: InstrumentRowForm | None = None
) -> HttpResponse:
    """The instrument page, with the write forms for those who may use them; ``bound`` is a posted form
    that did not validate, shown with its values and errors in place of the empty one."""
    today = timezone.localdate()
    page = queries.instrument_page(request.user, inst, today)
    asset = request.GET.get("asset")
    forms: dict[str, InstrumentRowForm | None] = {}
    for name, form_class in (("archive_form", AttachmentForm), ("seal_form", SealEventForm)):
        form = bound if isinstance(bound, form_class) else form_class()
        forms[name] = form if form.may_post(request.user, inst) else None
    context = {
        "i": inst,
        "type_label": type_label(inst.type) if inst.type else "",
        "page": page,
        "standing": page.standing,
        "asset_mismatch": asset is not None and asset != inst.asset_no,
        "scanned_asset": asset,
        # The metering network (计量网络): the main meter above and the sub-meters below, in the user's scope.
        "main_meter": scope_for(request.user, Instrument).filter(pk=inst.parent_id).first()
        if inst.parent_id
        else None,
        "sub_meters": scope_for(request.user, Instrument).filter(parent=inst).order_by("code"),
        **forms,
    }
    return render(request, "registry/instrument_detail.html", context)


def _post_row(request: HttpRequest, code: str, form_class: type[InstrumentRowForm]) -> HttpResponse:
    """Create one archive document or seal event from the instrument page's form.

    404 for an instrument outside the user's read scope, 403 without a write role in its organization;
    a form with errors comes back on the instrument page, a saved one redirects to it (post/redirect/get).
    """
    inst = _instrument_or_404(request, code)
    form = form_class(request.POST, request.FILES)
    if not form.may_post(request.user, inst):
        raise PermissionDenied(gettext("无权修改该单位的器具档案"))
    if not form.is_valid():
        return _instrument_page(request, inst, bound=form)
    row = form.save_for(request.user, inst)
    messages.success(request, form.saved_message(row))
    return redirect(f"{reverse('instrument_detail', args=[inst.code])}#{form.ANCHOR}")


@login_required
@require_POST
def add_attachment(request: HttpRequest, code: str) -> HttpResponse:
    """Upload a document (manual, certificate, repair record …) to the instrument's archive (6.3.3)."""
    return _post_row(request, code, AttachmentForm)


@login_required
@require_POST
def add_seal_event(request: HttpRequest, code: str) -> HttpResponse:
    """Record that the instrument's seal was applied, found broken or restored (6.3.8)."""
    return _post_row(request, code, SealEventForm)


def _file_response(file: FieldFile) -> FileResponse:
    """A stored file as a private download: PDFs and photos open in the browser, anything else is saved
    (an uploaded HTML page must never run in the site's origin)."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("the stored file is missing") from None
    name = PurePath(file.name or "").name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=name,
        content_type=content_type if inline else "application/octet-stream",
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def attachment_file(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """The file of one archive document of the instrument, if the user may read the instrument."""
    inst = _instrument_or_404(request, code)
    row = scope_for(request.user, Attachment).filter(instrument=inst, pk=pk).first()
    if row is None or not row.file:
        raise Http404("no such archive document of this instrument")
    return _file_response(row.file)


@login_required
@require_GET
def certificate_file(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """The scanned certificate of one verification/calibration record of the instrument."""
    inst = _instrument_or_404(request, code)
    row = scope_for(request.user, Calibration).filter(instrument=inst, pk=pk).first()
    if row is None or not row.certificate_file:
        raise Http404("no such certificate of this instrument")
    return _file_response(row.certificate_file)


def qr_content(request: HttpRequest, inst: Instrument) -> str:
    """What the label's QR code holds: the instrument page's absolute URL, with the asset number, so a
    phone opens the page and the page can tell a label that was moved to another instrument."""
    url = request.build_absolute_uri(reverse("instrument_detail", args=[inst.code]))
    return f"{url}?{urlencode({'asset': inst.asset_no})}" if inst.asset_no else url


@login_required
@require_GET
def instrument_label(request: HttpRequest, code: str) -> HttpResponse:
    """A printable 70 × 40 mm label: unit, name, asset number, 合格/准用/停用, next due date, QR code."""
    inst = _instrument_or_404(request, code)
    label = queries.instrument_label(request.user, inst, timezone.localdate())
    content = qr_content(request, inst)
    # segno writes only path data and the attributes given here: nothing from the request is echoed raw.
    svg = segno.make(content, error="m").svg_inline(scale=1, border=2, omitsize=True, svgclass="cm-qr")
    context = {"label": label, "i": inst, "qr_svg": mark_safe(svg), "qr_content": content}
    return render(request, "registry/instrument_label.html", context)


def _safe_next(request: HttpRequest, target: str) -> str:
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and ok else reverse("dashboard")


@login_required
@require_http_methods(["GET", "POST"])
def choose_org(request: HttpRequest) -> HttpResponse:
    """POST: make another readable organization the current one and go back. GET: the list to choose
    from (the navbar's menu does the same with JavaScript)."""
    if request.method == "POST":
        form = ChooseOrgForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("org required")
        switch_org(request, form.cleaned_data["org"])
        return redirect(_safe_next(request, form.cleaned_data["next"]))
    orgs = readable_orgs(request.user).order_by("name")
    context = {"orgs": orgs, "current": current_org(request), "next": request.GET.get("next", "")}
    return render(request, "registry/choose_org.html", context)


@require_GET
def org_menu(request: HttpRequest) -> HttpResponse:
    """The navbar's organization menu and the user's role there, loaded by htmx into every page.

    Loaded rather than rendered by each view so that pages of other apps need no extra context.  A
    signed-out request gets an empty answer (204: htmx leaves the navbar alone) instead of a redirect
    that would put the login page inside the navbar.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    orgs = list(readable_orgs(request.user).order_by("name"))
    try:
        org = current_org(request)
    except Http404:
        org = None
    role = role_in(request.user, org) if org else None
    context = {
        "orgs": orgs,
        "current": org,
        "role": ROLE_LABELS.get(role or "", ""),
        "next": _safe_next(request, request.GET.get("next", "")),
    }
    return render(request, "registry/_org_menu.html", context)
