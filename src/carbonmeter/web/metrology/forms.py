"""Forms of the metrology pages: the plan's month filter and the bulk entry of verification/calibration
results.

The bulk form checks what the service checks (a pass needs a validity not before its date) so the user sees
the reason next to the field, in Chinese, before anything is written; the service checks again because it
is also called without a form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.base import REASON_MAX_LENGTH
from carbonmeter.web.metrology.services import Certificate
from carbonmeter.web.registry.models import Instrument, choices
from carbonmeter.web.uploads import UploadValidator
from carbonmeter.web.widgets import iso_date_input, iso_month_input

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class PlanFilterForm(forms.Form):
    month = forms.CharField(
        label=_("到期月份"),
        required=False,
        widget=iso_month_input(),
    )

    def clean_month(self) -> date | None:
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        match = _MONTH.fullmatch(text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM"))
        return date(int(match.group(1)), int(match.group(2)), 1)


def _date_input() -> forms.DateInput:
    return iso_date_input()


class RecordForm(forms.Form):
    """The shared values of a bulk entry, plus a certificate number and file per selected instrument.

    ``instruments`` offers the organization's instruments; the per-row fields exist for the ones selected
    (``selected``), named ``row-<code>-certificate_no`` and ``row-<code>-certificate_file``.
    """

    instruments = forms.MultipleChoiceField(
        label=_("器具"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一台器具"),
            "invalid_choice": _("不是本单位的器具：%(value)s"),
        },
    )
    kind = forms.ChoiceField(
        label=_("方式"),
        choices=choices("calibration_kind"),
        initial="verification",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    date = forms.DateField(label=_("检定/校准日期"), widget=_date_input())
    result = forms.ChoiceField(
        label=_("结论"),
        choices=choices("result"),
        initial="pass",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    valid_until = forms.DateField(
        label=_("有效期至"),
        required=False,
        widget=_date_input(),
        help_text=_("合格记录留空时按各器具的检定周期计算"),
    )
    certificate_no = forms.CharField(
        label=_("证书编号（各器具通用）"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    agency = forms.CharField(
        label=_("检定/校准机构"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    restricted_range = forms.CharField(
        label=_("限用范围"),
        required=False,
        max_length=200,
        help_text=_("仅在此范围内确认合格时填写，如“0–50 t/h”；标识显示为准用"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    expanded_uncertainty_percent = forms.FloatField(
        label=_("扩展不确定度U(%)"),
        required=False,
        min_value=0,
        help_text=_("证书给出的扩展不确定度，相对于测量值的百分数"),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
    )
    coverage_factor = forms.FloatField(
        label=_("包含因子k"),
        required=False,
        min_value=0,
        help_text=_("证书给出的包含因子，未填写按 k=2"),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
    )
    certificate_file = forms.FileField(
        label=_("证书文件（各器具通用）"),
        required=False,
        validators=[UploadValidator()],
        widget=forms.ClearableFileInput(attrs={"class": "form-control"}),
    )
    reason = forms.CharField(
        label=_("变更原因"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("请填写变更原因")},
    )

    def __init__(self, *args: Any, instruments: Sequence[Instrument], selected: Sequence[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["instruments"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(i.code, f"{i.code} {i.name}") for i in instruments]
        by_code = {i.code: i for i in instruments}
        self._by_code = by_code
        self.rows: list[tuple[Instrument, forms.BoundField, forms.BoundField]] = []
        for code in dict.fromkeys(selected):
            if code not in by_code:
                continue
            self.fields[f"row-{code}-certificate_no"] = forms.CharField(
                label=_("证书编号"),
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )
            self.fields[f"row-{code}-certificate_file"] = forms.FileField(
                label=_("证书文件"),
                required=False,
                validators=[UploadValidator()],
                widget=forms.ClearableFileInput(attrs={"class": "form-control form-control-sm"}),
            )
            self.rows.append(
                (by_code[code], self[f"row-{code}-certificate_no"], self[f"row-{code}-certificate_file"])
            )
        if not self.is_bound:
            self.initial["instruments"] = [i.code for i, _no, _file in self.rows]
            self.initial.setdefault("date", timezone.localdate())

    #: The values every selected instrument shares, in the order the page shows them.
    SHARED = (
        "kind",
        "date",
        "result",
        "valid_until",
        "restricted_range",
        "certificate_no",
        "agency",
        "expanded_uncertainty_percent",
        "coverage_factor",
        "certificate_file",
    )

    def shared_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.SHARED]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        on, valid_until = data.get("date"), data.get("valid_until")
        if data.get("result") == "pass" and on and not valid_until and "valid_until" not in self.errors:
            # Blank: each instrument's interval gives it (the service); one without an interval needs it.
            missing = [i.code for i in self._chosen(data) if not i.interval_months]
            if missing:
                self.add_error(
                    "valid_until", _("合格记录须填写有效期至（未登记检定周期：%s）") % "、".join(missing)
                )
        if on and valid_until and valid_until < on:
            self.add_error("valid_until", _("有效期不能早于检定/校准日期"))
        for name in ("expanded_uncertainty_percent", "coverage_factor"):
            if data.get(name) == 0:
                self.add_error(name, _("须大于0"))
        if data.get("coverage_factor") is not None and data.get("expanded_uncertainty_percent") is None:
            self.add_error("expanded_uncertainty_percent", _("填写包含因子时须填写扩展不确定度"))
        return data

    def _chosen(self, data: dict[str, Any]) -> list[Instrument]:
        return [self._by_code[c] for c in data.get("instruments", []) if c in self._by_code]

    def certificates(self) -> dict[str, Certificate]:
        """Per selected instrument, the certificate number and file typed on its own row."""
        out: dict[str, Certificate] = {}
        for code in self.cleaned_data.get("instruments", []):
            number = self.cleaned_data.get(f"row-{code}-certificate_no") or ""
            file: UploadedFile | None = self.cleaned_data.get(f"row-{code}-certificate_file") or None
            if number or file:
                out[code] = Certificate(number=number, file=file)
        return out
