"""计量点数据质量: the data-quality page of one point and month, and the list of points leading to it.

The page shows what :func:`carbonmeter.web.readings.quality.point_month` computed — availability, the gaps
and what substitution put in them, the daily table, counter deltas and events, the validity gate with the
CO2 resting on flagged readings, the CEMS hours — and nothing it did not.  The point is looked up in the
user's scope (:func:`scope_for`), so a point of an organization the user cannot read is a 404, as if it did
not exist; the page only reads, so every reader of the organization (members, verifiers, regulators) sees it.

The engines speak in codes (rule, basis, flag); the labels for those codes live here, translated, so the
service stays language-neutral and the page says the same in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from carbonmeter.readings.model import quantities
from carbonmeter.rules.messages import Lang
from carbonmeter.web.accounts.current import current_org
from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.readings import quality
from carbonmeter.web.readings.forms import parse_month
from carbonmeter.web.readings.models import SUBSTITUTION_RULES, PointProfile
from carbonmeter.web.registry.models import MeasuringPoint

RULE_LABELS: Final[Mapping[str, Promise]] = dict(SUBSTITUTION_RULES)

#: What a substituted value rests on (``substitution.Basis``).
BASIS_LABELS: Final[Mapping[str, Promise]] = {
    "both_sides": _("缺失前后两个有效值的平均值"),
    "before_only": _("仅有缺失前的有效值，取该值"),
    "after_only": _("仅有缺失后的有效值，取该值"),
    "no_adjacent_value": _("前后均无有效值，未替代"),
    "period_max": _("本期有效值中的最大值"),
    "no_valid_value": _("本期无有效值，未替代"),
    "mean_plus_2sd": _("本期有效值均值加两倍样本标准差"),
    "too_few_values": _("有效值少于两个，无法计算标准差，未替代"),
    "pack_default": _("规则包缺省值"),
    "rule_none": _("不替代，保留为缺失"),
}

#: Validity gate verdicts (``validity.Flag``).
FLAG_LABELS: Final[Mapping[str, Promise]] = {
    "valid": _("有效（检定/校准覆盖）"),
    "after_failed": _("检定/校准不合格，自上次合格后的数据存疑"),
    "no_valid_calibration": _("无有效检定/校准"),
}

#: Totalizer delta flags (``counters.DeltaFlag``).
DELTA_LABELS: Final[Mapping[str, Promise]] = {
    "normal": _("正常"),
    "rollover": _("计数器翻转"),
    "across_event": _("跨越计数器事件"),
    "noise": _("微小回退（按噪声计为 0）"),
    "decrease": _("无法解释的读数减少，未计入合计"),
}

EVENT_STATUS_LABELS: Final[Mapping[str, Promise]] = {
    "applied": _("已用于差分"),
    "unused": _("不在读数区间内，未使用"),
    "incomplete": _("缺旧表止码，无法使用"),
}

EVENT_KIND_LABELS: Final[Mapping[str, Promise]] = {"reset": _("清零"), "replacement": _("换表")}

FACTOR_MISSING_LABELS: Final[Mapping[str, Promise]] = {
    "not_activity_data": _("该计量点不是活动数据，不换算为二氧化碳。"),
    "not_mass_unit": _("活动数据不以吨计，元素碳含量（质量分数）不适用，无排放因子可用。"),
    "no_carbon_content_point": _("同一碳源流没有元素碳含量计量点，无排放因子可用。"),
    "no_carbon_content_data": _("同一碳源流本月没有元素碳含量化验数据，无排放因子可用。"),
}

MASS_MISSING_LABELS: Final[Mapping[str, Promise]] = {
    "cems_set": _("同一碳源流的 CEMS 计量点不全（需要 CO2 浓度、流速、温度、湿度、压力）。"),
    "duct_area": _("需要烟道截面积：在导入导出工作簿“计量点”表的“烟道截面积(m²)”列填写（单位 m²）。"),
    "co2_basis": _(
        "需要说明 CO2 浓度是干基还是湿基：在导入导出工作簿“计量点”表的“CO2浓度基准”列填写“干基”或“湿基”。"
    ),
}

PROBLEM_LABELS: Final[Mapping[str, Promise]] = {
    "no_profile": _("该计量点尚无数据配置（量、预期间隔、替代规则），无法判定数据质量。"),
    "unknown_quantity": _("数据配置中的量不在量表中（readings/quantities.yaml）。"),
    "not_started": _("该月尚未开始，没有可判定的数据。"),
    "substitution_config": _("配置的替代规则无法执行，缺失数据未替代："),
}


def last_month(today: date) -> date:
    """The last complete month: the page's default, so a first look never judges a month half gone."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _label(labels: Mapping[str, Promise], code: str | None) -> Promise | str:
    if code is None:
        return ""
    return labels.get(code, code)


def _view_model(result: quality.PointQuality) -> dict[str, Any]:
    """The result with each code paired with its label (templates cannot look a label up by a variable)."""
    gaps = [
        {"run": run, "rule": _label(RULE_LABELS, run.rule), "basis": _label(BASIS_LABELS, run.basis)}
        for run in (result.substitution.runs if result.substitution else ())
    ]
    days = [{"row": d, "flag": _label(FLAG_LABELS, d.flag)} for d in result.days]
    counter: dict[str, Any] | None = None
    if result.counter is not None:
        counter = {
            "summary": result.counter,
            "events": [
                {
                    "event": e,
                    "kind": _label(EVENT_KIND_LABELS, e.kind),
                    "status": _label(EVENT_STATUS_LABELS, e.status),
                }
                for e in result.counter.events
            ],
            "flagged": [{"delta": d, "flag": _label(DELTA_LABELS, d.flag)} for d in result.counter.flagged],
            "counts": [
                {"flag": flag, "label": DELTA_LABELS[flag], "n": n}
                for flag, n in result.counter.counts.items()
            ],
        }
    gate: dict[str, Any] | None = None
    if result.validity is not None:
        v = result.validity
        gate = {
            "summary": v,
            "flags": [{"row": f, "label": _label(FLAG_LABELS, f.flag)} for f in v.flags],
            "runs": [{"run": r, "label": _label(FLAG_LABELS, r.verdict.flag)} for r in v.runs],
            "factor_missing": _label(FACTOR_MISSING_LABELS, v.factor_missing),
        }
    mass_missing = [MASS_MISSING_LABELS[m] for m in (result.cems.mass_missing if result.cems else ())]
    return {
        "problems": [{"code": p, "label": PROBLEM_LABELS[p]} for p in result.problems],
        "gaps": gaps,
        "days": days,
        "counter": counter,
        "gate": gate,
        "mass_missing": mass_missing,
        "rule": _label(RULE_LABELS, result.substitution.rule) if result.substitution else "",
        "configured_rule": _label(RULE_LABELS, result.profile.substitution) if result.profile else "",
    }


@login_required
@require_GET
def point_quality(request: HttpRequest, pk: int) -> HttpResponse:
    """计量点数据质量 of one point and month (``?month=YYYY-MM``; default: the last complete month)."""
    points = scope_for(request.user, MeasuringPoint).select_related("organization", "stream")
    point = get_object_or_404(points, pk=pk)
    today = timezone.localdate()
    month = parse_month(request.GET.get("month")) or last_month(today)
    result = quality.point_month(point.organization, point, month)
    q = quantities().get(result.quantity)
    lang: Lang = "en" if (get_language() or "").startswith("en") else "zh"
    context = {
        "org": point.organization,
        "point": point,
        "q": result,
        "quantity_name": q.name(lang) if q else "",
        "fraction_source": result.cems.valid_fraction_from.text(lang) if result.cems else "",
        "month": month,
        "prev_month": (month - timedelta(days=1)).replace(day=1),
        "next_month": _next_month(month),
        **_view_model(result),
    }
    return render(request, "readings/quality/point.html", context)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The current organization's points that have a data profile, each linking to its quality page."""
    org = current_org(request)
    month = parse_month(request.GET.get("month")) or last_month(timezone.localdate())
    profiles = (
        scope_for(request.user, PointProfile)
        .filter(organization=org, point__archived=False)
        .select_related("point", "point__stream", "instrument")
        .order_by("point__code")
    )
    context = {"org": org, "month": month, "profiles": profiles}
    return render(request, "readings/quality/index.html", context)
