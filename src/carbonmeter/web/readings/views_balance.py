"""计量网络平衡: the metering-network balance page of one organization and year (issue 6.3.1).

Reads only, so every reader of the organization's metering data (members, verifiers, regulators) sees it:
``current_org`` offers only organizations the user may read, as on the other metering-data pages. One
service call (:func:`carbonmeter.web.readings.balance.year_balance`) fetches and judges; the page labels
its codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.readings import balance as balance_service
from carbonmeter.web.readings import ledger as ledger_queries
from carbonmeter.web.readings.forms import parse_year
from carbonmeter.web.registry.models import Organization

#: Why a month is not judged (``quant.balance.NotJudged``).
NOT_JUDGED_LABELS: Final[Mapping[str, Promise]] = {
    "no_total": _("无读数"),
    "no_uncertainty": _("无不确定度来源"),
}


def default_year(org: Organization, years: list[int]) -> int:
    """The reporting year when the lake holds data for it, else the newest year with data (or this year)."""
    return org.reporting_year if org.reporting_year in years else max(years)


@login_required
@require_GET
def network_balance(request: HttpRequest) -> HttpResponse:
    """计量网络平衡: per network and quantity, the tree and each month's main, Σ sub, imbalance, U95,
    significance and the most likely faulty meter."""
    org = current_org(request)
    today = timezone.localdate()
    years = ledger_queries.years_with_data(org, today)
    year = parse_year(request.GET.get("year"), default_year(org, years))
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    report = balance_service.year_balance(org, year)
    context = {
        "org": org,
        "year": year,
        "years": years,
        "report": report,
        "not_judged": NOT_JUDGED_LABELS,
    }
    return render(request, "readings/balance.html", context)
