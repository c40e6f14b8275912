"""Forms of the metering-data pages: upload, quarantine (filter, fix, dismiss), correction, ledger, counter
events.

The forms check only what the user can put right next to the field (a file type, a missing reason, a year
out of range); whether a *reading* is acceptable is decided by ``services.ingest`` alone, so a bad cell is
never refused here but quarantined there with its code — one validator, whichever way the data come in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Final

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbonmeter.readings import model
from carbonmeter.web.readings.corrections import HISTORY_REASON_MAX, ReasonTooLong
from carbonmeter.web.readings.models import COUNTER_EVENT_KINDS, CounterEvent, ReadingBatch
from carbonmeter.web.registry.models import MeasuringPoint

#: The input columns of the contract (``readings.model``), in its order, with the Chinese header each one
#: also accepts.
INPUT_COLUMNS: Final[list[tuple[str, str]]] = [(c.name, c.zh) for c in model.INPUT_COLUMNS]
#: Chinese header → column name, for cells kept as received (a workbook with Chinese headers).
CHINESE_HEADERS: Final = {zh: en for en, zh in INPUT_COLUMNS}
#: The file types the ingest reads, by suffix.
SUFFIXES: Final = (".csv", ".xlsx", ".parquet")
#: Larger files go through ``carbonmeter ingest`` on the server, not through a browser upload.
MAX_UPLOAD_BYTES: Final = 100 * 1024 * 1024
#: Rows typed into a correction form; more belong in a file.
MAX_TYPED_ROWS: Final = 1000
#: The years the ledger offers; the lake holds nothing older than the first readings of 6.4.
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2199

if TYPE_CHECKING:
    _EventForm = forms.ModelForm[CounterEvent]
    _BatchChoice = forms.ModelChoiceField[ReadingBatch]
else:  # generic for the type checker only
    _EventForm = forms.ModelForm
    _BatchChoice = forms.ModelChoiceField

_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


def _reason_field(label: Any = None, max_length: int = 500) -> forms.CharField:
    return forms.CharField(
        label=label or _("原因"),
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("请填写原因")},
    )


class DataFileField(forms.FileField):
    """A CSV, XLSX or Parquet file, told apart by its name (the ingest reads it by the same rule)."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        file = super().clean(data, initial)
        if file is None:
            return None
        suffix = PurePath(str(file.name)).suffix.lower()
        if suffix not in SUFFIXES:
            raise forms.ValidationError(_("只接受 CSV、XLSX 或 Parquet 文件（.csv / .xlsx / .parquet）"))
        if file.size is not None and file.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件超过 100 MB，请分批上传或在服务器上用命令行导入"))
        return file


def _file_widget() -> forms.ClearableFileInput:
    return forms.ClearableFileInput(attrs={"class": "form-control", "accept": ",".join(SUFFIXES)})


class UploadForm(forms.Form):
    file = DataFileField(
        label=_("数据文件"),
        widget=_file_widget(),
        help_text=_(
            "CSV、XLSX（第一个工作表或名为“读数”的工作表）或 Parquet；列：计量点、时间、数值，可选量、单位。"
        ),
        error_messages={"required": _("请选择文件")},
    )


def parse_typed_rows(text: str) -> list[dict[str, str]]:
    """Rows typed or pasted as CSV (a header line, then one reading a line; comma or tab separated).

    Cells are passed on as text, exactly as typed: reading them is the ingest's job.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return []
    dialect = "excel-tab" if "\t" in lines[0] else "excel"
    reader = csv.DictReader(io.StringIO("\n".join(lines)), dialect=dialect)
    if not reader.fieldnames:
        return []
    known = {en for en, _zh in INPUT_COLUMNS} | set(CHINESE_HEADERS)
    headers = [h.strip() for h in reader.fieldnames]
    unknown = [h for h in headers if h not in known]
    if unknown:
        raise forms.ValidationError(
            _("未知的列：%(cols)s。第一行应为列名，如 point,ts,value,unit 或 计量点,时间,数值,单位"),
            params={"cols": "、".join(unknown)},
        )
    rows = []
    for raw in reader:
        row = {CHINESE_HEADERS.get(k.strip(), k.strip()): (v or "").strip() for k, v in raw.items() if k}
        rows.append(row)
    return rows


class BatchChoiceField(_BatchChoice):
    """A batch shown as the chain names it: sequence number, source, file and time."""

    def label_from_instance(self, obj: ReadingBatch) -> str:
        return f"#{obj.seq} {obj.get_source_display()} {obj.filename} ({obj.created_at:%Y-%m-%d %H:%M})"


class CorrectionForm(forms.Form):
    """A correction batch: the batch it corrects, why, and the corrected readings (a file or typed rows)."""

    corrects = BatchChoiceField(
        label=_("更正的批次"),
        queryset=ReadingBatch.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "required": _("请选择要更正的批次"),
            "invalid_choice": _("不是本单位的批次"),
        },
    )
    file = DataFileField(label=_("更正数据文件"), required=False, widget=_file_widget())
    rows = forms.CharField(
        label=_("或直接粘贴更正数据（CSV，首行为列名）"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(
            attrs={"rows": 5, "class": "form-control font-monospace", "placeholder": "point,ts,value,unit"}
        ),
    )
    reason = _reason_field(_("更正原因"))

    def __init__(self, *args: Any, batches: QuerySet[ReadingBatch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["corrects"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = batches

    def clean_rows(self) -> list[dict[str, str]]:
        rows = parse_typed_rows(self.cleaned_data.get("rows") or "")
        if len(rows) > MAX_TYPED_ROWS:
            raise forms.ValidationError(_("粘贴的行数过多，请上传文件"))
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_file, has_rows = bool(data.get("file")), bool(data.get("rows"))
        if not self.errors and has_file == has_rows:
            raise forms.ValidationError(_("请上传一个更正数据文件，或粘贴更正数据（二者选一）"))
        return data


class QuarantineFilterForm(forms.Form):
    """Filters of the quarantine list; like the register's, a value that does not validate is dropped."""

    code = forms.ChoiceField(
        label=_("代码"), required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )
    run = forms.IntegerField(
        label=_("接收记录"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args: Any, codes: Sequence[str], states: Sequence[tuple[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        assert isinstance(code, forms.ChoiceField)
        code.choices = [("", _("全部代码")), *((c, c) for c in codes)]
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [*states, ("all", _("全部状态"))]

    def wanted(self) -> dict[str, Any]:
        """The valid filters (an invalid one is left out), with ``state`` defaulting to open rows."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "code": data.get("code") or "",
            "run": data.get("run"),
            "state": data.get("state") or "open",
        }


def raw_cells(raw: Any) -> dict[str, str]:
    """A quarantined row's cells by column name (Chinese headers mapped), as text for the fix form."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, value in raw.items():
        name = CHINESE_HEADERS.get(str(key), str(key))
        out[name] = "" if value is None else str(value)
    return out


class FixRowForm(forms.Form):
    """The cells of one quarantined row, editable, and why the fix is right; re-submitted as one reading."""

    point = forms.CharField(label=_("计量点"), max_length=50, required=False, widget=_text())
    quantity = forms.CharField(label=_("量"), max_length=40, required=False, widget=_text())
    ts = forms.CharField(
        label=_("时间"), max_length=40, required=False, widget=_text(placeholder="2025-03-01 08:00")
    )
    value = forms.CharField(label=_("数值"), max_length=60, required=False, widget=_text())
    unit = forms.CharField(
        label=pgettext_lazy("unit of measurement", "单位"), max_length=40, required=False, widget=_text()
    )
    sample_id = forms.CharField(label=_("样品编号"), max_length=100, required=False, widget=_text())
    analyzed_at = forms.CharField(label=_("分析日期"), max_length=40, required=False, widget=_text())
    laboratory = forms.CharField(label=_("化验单位"), max_length=200, required=False, widget=_text())
    reason = _reason_field(_("修正说明"))

    CELLS: Final = tuple(en for en, _zh in INPUT_COLUMNS)

    #: Always sent, even empty, so an emptied required cell is reported (RD-MISSING) like in a file.
    REQUIRED: Final = ("point", "ts", "value")

    def __init__(self, *args: Any, bad_column: str = "", **kwargs: Any) -> None:
        """``bad_column``: the column the quarantine row names (its English or Chinese header); that field
        is marked invalid, so the reader sees at once which cell to correct."""
        super().__init__(*args, **kwargs)
        self.bad = CHINESE_HEADERS.get(bad_column, bad_column)
        if self.bad in self.fields and self.bad != "reason":
            attrs = self.fields[self.bad].widget.attrs
            attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            attrs["aria-invalid"] = "true"

    def cells(self) -> dict[str, str]:
        """The fixed reading: the required cells and the non-empty optional ones (an empty optional cell
        means "use the default", as in a file)."""
        data = self.cleaned_data
        return {n: data.get(n) or "" for n in self.CELLS if n in self.REQUIRED or data.get(n)}


class DismissForm(forms.Form):
    """The reason of a dismissal lives only in the history, whose "why" holds 100 characters: a longer one
    is refused with the limit and its length (never cut, neither here nor by the browser: no
    ``maxlength``), so the person shortens it knowingly."""

    reason = forms.CharField(
        label=_("驳回原因"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("驳回须填写原因。")},
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if len(reason) > HISTORY_REASON_MAX:
            raise forms.ValidationError(str(ReasonTooLong(len(reason))))
        return reason


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` → the first day of that month, or None when it is not one."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def parse_year(text: str | None, default: int) -> int:
    """A year from the query string, or ``default`` when it is missing or implausible."""
    try:
        year = int((text or "").strip())
    except ValueError:
        return default
    return year if FIRST_YEAR <= year <= LAST_YEAR else default


class CounterEventForm(_EventForm):
    """A totalizer reset or meter replacement on one point, recorded explicitly with its registers."""

    class Meta:
        model = CounterEvent
        fields = ("ts", "kind", "old_end", "new_start", "reason")
        widgets = {
            "ts": forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}),
            "kind": forms.Select(attrs={"class": "form-select"}, choices=COUNTER_EVENT_KINDS),
            "old_end": forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            "new_start": forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            "reason": forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        }

    def __init__(self, *args: Any, point: MeasuringPoint, totalizer: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.totalizer = totalizer
        self.instance.point = point
        self.instance.organization_id = point.organization_id
        self.fields["ts"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]  # type: ignore[attr-defined]
        self.fields["old_end"].required = True
        self.fields["new_start"].required = True
        if not self.is_bound:
            self.initial.setdefault("ts", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
            self.initial.setdefault("kind", "replacement")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.totalizer:
            raise forms.ValidationError(_("只有配置为累计读数（计数器）的计量点才能记录清零或换表事件"))
        return data

    def clean_ts(self) -> Any:
        ts = self.cleaned_data["ts"]
        if ts is not None and ts > timezone.now():
            raise forms.ValidationError(_("事件时间不能晚于现在"))
        return ts


def uploaded_name(file: UploadedFile) -> str:
    """The file's own name without any folder a browser may send, for the report and the batch."""
    return PurePath(str(file.name or "upload")).name[:300]
