"""Forms of the assessment and transfer pages: the date to assess at, the workbook to import, the confirm."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonmeter.web.assessment.services.transfer import TOKEN_PATTERN
from carbonmeter.web.widgets import iso_date_input


class RunForm(forms.Form):
    """Validity is judged at ``as_of``; today unless the manager wants to see a past or future date."""

    as_of = forms.DateField(
        label=_("评价日期"),
        widget=iso_date_input(),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["as_of"].initial = timezone.localdate()


class ImportForm(forms.Form):
    workbook = forms.FileField(
        label=_("工作簿（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx"}),
        error_messages={"required": _("请选择要导入的 .xlsx 工作簿")},
    )


class ConfirmForm(forms.Form):
    token = forms.RegexField(regex=TOKEN_PATTERN, widget=forms.HiddenInput)
