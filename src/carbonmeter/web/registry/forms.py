"""Forms of the registry pages: the register's filters (GET) and the organization switch (POST).

The register form never refuses a request: a value that does not validate (an unknown status, a crafted
sort key) is dropped and the register shows as if it had not been given, because these values arrive from
bookmarks and pasted links as often as from the form itself.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.utils.translation import gettext_lazy as _

from carbonmeter.core.terms import ENUM_TERMS
from carbonmeter.web.registry.queries import SORTS, RegisterFilter

#: Chinese names of the instrument types the demo and the workbook use.  ``Instrument.type`` is free
#: text, so an unknown type is shown as written.
TYPE_LABELS: Final[dict[str, Any]] = {
    "electricity_meter": _("电能表"),
    "belt_scale": _("电子皮带秤"),
    "truck_scale": _("电子汽车衡"),
    "platform_scale": _("电子台秤"),
    "weigh_feeder": _("定量给料秤"),
    "flow_meter": _("流量计"),
    "mass_flow_meter": _("质量流量计"),
    "ultrasonic_flow_meter": _("超声波流量计"),
    "gas_flow_system": _("气体流量计量系统"),
    "steam_flow_system": _("蒸汽流量计量系统"),
    "gas_meter": _("燃气表"),
    "heat_meter": _("热量表"),
    "fuel_dispenser": _("加油机"),
    "calorimeter": _("量热仪"),
    "elemental_analyser": _("元素分析仪"),
    "carbon_sulfur_analyser": _("碳硫分析仪"),
    "xrf_spectrometer": _("X射线荧光光谱仪"),
    "analytical_balance": _("分析天平"),
    "cems_co2_analyser": _("CEMS二氧化碳分析仪"),
    "cems_o2_analyser": _("CEMS氧分析仪"),
    "cems_flow_velocity": _("CEMS流速监测仪"),
    "cems_temperature": _("CEMS温度监测仪"),
    "cems_pressure": _("CEMS压力监测仪"),
    "cems_humidity": _("CEMS湿度监测仪"),
    "open_path_gas_analyser": _("开路式气体分析仪"),
    "portable_gas_analyser": _("便携式气体分析仪"),
    "temperature_transmitter": _("温度变送器"),
    "pressure_transmitter": _("压力变送器"),
    "thermometer": _("温度计"),
    "infrared_thermometer": _("红外测温仪"),
    "anemometer": _("风速仪"),
    "power_quality_analyser": _("电能质量分析仪"),
    "meter_field_tester": _("电能表现场校验仪"),
}

DUE_CHOICES: Final = [
    ("overdue", _("已过期")),
    ("due30", _("30天内到期")),
    ("due60", _("31–60天到期")),
    ("due90", _("61–90天到期")),
    ("ok", _("90天以上有效")),
    ("never", _("无合格记录")),
]

PAGE_SIZE: Final = 50


def type_label(value: str) -> str:
    return str(TYPE_LABELS.get(value, value))


class RegisterFilterForm(forms.Form):
    """GET parameters of the register: ``q``, ``status``, ``type``, ``due``, ``sort`` (``page`` is left to
    the paginator, which already tolerates any value)."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100, strip=True)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *ENUM_TERMS["status"].items()]
    )
    type = forms.ChoiceField(label=_("类型"), required=False)
    due = forms.ChoiceField(label=_("有效期"), required=False, choices=[("", _("全部")), *DUE_CHOICES])
    sort = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)

    def __init__(self, *args: Any, types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("全部类型")), *((t, type_label(t)) for t in types)]

    def clean_sort(self) -> str:
        sort: str = self.cleaned_data.get("sort") or "code"
        return sort if sort.removeprefix("-") in SORTS else "code"

    def to_filter(self) -> RegisterFilter:
        """The valid part of the request (call after ``is_valid()``)."""
        data = self.cleaned_data
        return RegisterFilter(
            q=data.get("q") or "",
            status=data.get("status") or "",
            type=data.get("type") or "",
            due=data.get("due") or "",
            sort=data.get("sort") or "code",
        )


class ChooseOrgForm(forms.Form):
    """Switch the current organization; ``next`` is where to go back to (checked by the view)."""

    org = forms.IntegerField(min_value=1)
    next = forms.CharField(required=False, max_length=2000)
