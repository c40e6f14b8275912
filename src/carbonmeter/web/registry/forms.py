"""Forms of the registry pages: the register's filters (GET), the organization switch (POST), and the
instrument page's two writes: an archive document (档案, 6.3.3) and a seal event (铅封, 6.3.8).

The register form never refuses a request: a value that does not validate (an unknown status, a crafted
sort key) is dropped and the register shows as if it had not been given, because these values arrive from
bookmarks and pasted links as often as from the form itself.

The two write forms save through :meth:`InstrumentRowForm.save_for`, which checks the write scope itself
(so no caller can skip it) and stores who and why in the history, as every registry change must.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Final

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.accounts.scope import writable_orgs
from carbonmeter.web.base import BaseModel
from carbonmeter.web.registry.models import (
    Attachment,
    Instrument,
    MeasuringPoint,
    Organization,
    SealEvent,
    SourceStream,
)
from carbonmeter.web.registry.pack_terms import factor_choices, formula_choices
from carbonmeter.web.registry.queries import SORTS, RegisterFilter
from carbonmeter.web.registry.validity import STATE_CHOICES, band_choices
from carbonmeter.web.terms import term_choices
from carbonmeter.web.uploads import DOCUMENTS
from carbonmeter.web.widgets import iso_date_input

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

#: The states an instrument's verification can be in (the dashboard's cards link to them).
DUE_CHOICES: Final = STATE_CHOICES

PAGE_SIZE: Final = 50


def type_label(value: str) -> str:
    return str(TYPE_LABELS.get(value, value))


class RegisterFilterForm(forms.Form):
    """GET parameters of the register: ``q``, ``status``, ``type``, ``due``, ``sort`` (``page`` is left to
    the paginator, which already tolerates any value)."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100, strip=True)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *term_choices("status")]
    )
    type = forms.ChoiceField(label=_("类型"), required=False)
    #: A state, or a display band of ``settings.CARBONMETER_DUE_BANDS`` (set per request in ``__init__``).
    due = forms.ChoiceField(label=_("有效期"), required=False)
    sort = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)

    def __init__(self, *args: Any, types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("全部类型")), *((t, type_label(t)) for t in types)]
        due = self.fields["due"]
        assert isinstance(due, forms.ChoiceField)
        due.choices = [("", _("全部")), *STATE_CHOICES, *band_choices()]

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


# --- the instrument page's writes ----------------------------------------------------------------------

#: File types an instrument's archive takes: the one upload rule (``carbonmeter.web.uploads``).
ARCHIVE_EXTENSIONS: Final = DOCUMENTS
#: The history keeps at most this many characters of a reason (django-simple-history's column).
REASON_MAX_LENGTH: Final = 100


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("变更原因"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        error_messages={"required": _("请填写变更原因")},
    )


def may_write(user: Any, model: type[BaseModel], instrument: Instrument) -> bool:
    """Whether ``user`` holds one of ``model``'s write roles in the instrument's organization."""
    return writable_orgs(user, model.write_roles).filter(pk=instrument.organization_id).exists()


class InstrumentRowForm(forms.ModelForm):  # type: ignore[type-arg]
    """A new row that belongs to one instrument, saved with the user and a reason in its history."""

    #: The form's field prefix, so the two forms on the instrument page keep their values and errors apart.
    PREFIX: ClassVar[str]
    #: Where on the instrument page the new row shows (the id of its section's heading).
    ANCHOR: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)

    def may_post(self, user: Any, instrument: Instrument) -> bool:
        """Whether ``user`` may add this form's rows to ``instrument`` (the model's write roles there)."""
        model: type[BaseModel] = self._meta.model
        return may_write(user, model, instrument)

    def attach(self, row: Any, instrument: Instrument) -> None:
        """Link the new row to ``instrument`` (and, where the model has one, to its organization)."""
        row.instrument = instrument

    def save_for(self, user: Any, instrument: Instrument) -> Any:
        """Create the row for ``instrument`` (call after ``is_valid()``).

        Raises PermissionDenied when ``user`` may not write this model in the instrument's organization:
        the view checks first, and this check keeps any other caller honest.
        """
        if not self.may_post(user, instrument):
            raise PermissionDenied(_("无权修改该单位的器具档案"))
        row = self.save(commit=False)
        self.attach(row, instrument)
        row._change_reason = self.cleaned_data["reason"]
        row._history_user = user
        with transaction.atomic():
            row.save()
            self.after_save(user, row)
        return row

    def after_save(self, user: Any, row: Any) -> None:
        """What else the new row changes, in the same transaction (nothing by default)."""

    def saved_message(self, row: Any) -> str:
        """The confirmation shown after the redirect, in the active language."""
        raise NotImplementedError


class AttachmentForm(InstrumentRowForm):
    """Upload one document to an instrument's archive: its kind, a title and the file."""

    PREFIX = "archive"
    ANCHOR = "archive-title"

    reason = _reason_field()

    class Meta:
        model = Attachment
        fields = ("kind", "title", "file")
        widgets = {
            "kind": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "title": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            "file": forms.ClearableFileInput(
                attrs={
                    "class": "form-control form-control-sm",
                    "accept": ",".join(f".{e}" for e in ARCHIVE_EXTENSIONS),
                }
            ),
        }

    def attach(self, row: Any, instrument: Instrument) -> None:
        row.instrument = instrument
        row.organization = instrument.organization

    def saved_message(self, row: Any) -> str:
        return gettext("已上传档案：%(title)s") % {"title": row.title}


class SealEventForm(InstrumentRowForm):
    """Record a seal event (加封 / 破损 / 恢复) with its date, seal number and note.

    When the event is the instrument's newest, the register's 铅封完好 follows it (broken → no, applied or
    restored → yes) in the same transaction and with the same reason, so the B.1 entry and the assessment
    (6.3.8) agree with the seal history.  A back-dated event leaves the register as the newer events set it.
    """

    PREFIX = "seal"
    ANCHOR = "seal-title"

    reason = _reason_field()

    class Meta:
        model = SealEvent
        fields = ("date", "event", "seal_no", "note")
        labels = {"note": _("说明（原因）")}
        widgets = {
            "date": iso_date_input("form-control form-control-sm"),
            "event": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "seal_no": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            "note": forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-sm"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())

    def clean_date(self) -> date:
        day: date = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("日期不能晚于今天"))
        return day

    def after_save(self, user: Any, row: Any) -> None:
        instrument: Instrument = row.instrument
        newer = SealEvent.objects.filter(instrument=instrument, archived=False, date__gt=row.date)
        intact = row.event != "broken"
        if newer.exists() or instrument.seal_intact is intact:
            return
        instrument.seal_intact = intact
        instrument._change_reason = row._change_reason
        instrument._history_user = user  # type: ignore[attr-defined]
        instrument.save(update_fields=["seal_intact", "updated_at"])

    def saved_message(self, row: Any) -> str:
        return gettext("已记录铅封事件：%(date)s %(event)s") % {
            "date": row.date.isoformat(),
            "event": row.get_event_display(),
        }


# --- the plan's rows in the admin: keys of the organization's rule pack, shown by their names -----------


class PackKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form with one field holding a key of the organization's rule pack (``PACK_FIELD``): offered
    as a choice labelled by name (never the key), and refused unless the row's organization's pack holds it.

    A new row's organization is chosen on the form itself, so the choices are those of every organization
    the form may save to (the admin has already narrowed the ``organization`` field to them); the check in
    :meth:`clean` is against the one chosen.
    """

    PACK_FIELD: ClassVar[str]
    #: Error shown when the chosen organization's pack does not hold the key.
    UNKNOWN: ClassVar[Any]

    @staticmethod
    def pack_choices(org: Organization) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _organizations(self) -> list[Organization]:
        if self.instance.pk and self.instance.organization_id:
            return [self.instance.organization]
        field = self.fields.get("organization")
        queryset = getattr(field, "queryset", None)
        return list(queryset) if queryset is not None else list(Organization.objects.all())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_field = self._meta.model._meta.get_field(self.PACK_FIELD)
        choices: dict[str, str] = {}
        for org in self._organizations():
            for key, label in self.pack_choices(org):
                choices.setdefault(key, label)
        current = getattr(self.instance, self.PACK_FIELD, "")
        if current and current not in choices:  # stored before the pack changed: shown, then refused
            choices[current] = current
        self.fields[self.PACK_FIELD] = forms.ChoiceField(
            label=model_field.verbose_name,
            required=False,
            choices=list(choices.items()),
            help_text=model_field.help_text,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key = data.get(self.PACK_FIELD) or ""
        org = data.get("organization") or (
            self.instance.organization if self.instance.organization_id else None
        )
        if key and org is not None and key not in dict(self.pack_choices(org)):
            self.add_error(self.PACK_FIELD, self.UNKNOWN)
        return data


class SourceStreamAdminForm(PackKeyForm):
    """A source stream: its formula is one of the organization's pack ``formulas``, shown by its title."""

    PACK_FIELD = "formula"
    UNKNOWN = _("所属单位的规则包中没有该核算公式")

    class Meta:
        model = SourceStream
        fields = "__all__"

    @staticmethod
    def pack_choices(org: Organization) -> list[tuple[str, str]]:
        return formula_choices(org)


class MeasuringPointAdminForm(PackKeyForm):
    """A measuring point: its default factor is one of the organization's pack ``factors``, shown by name."""

    PACK_FIELD = "factor"
    UNKNOWN = _("所属单位的规则包中没有该缺省值")

    class Meta:
        model = MeasuringPoint
        fields = "__all__"

    @staticmethod
    def pack_choices(org: Organization) -> list[tuple[str, str]]:
        return factor_choices(org)
