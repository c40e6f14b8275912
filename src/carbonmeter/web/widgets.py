"""Date and month inputs that show ISO dates (2026-03-01, 2026-03) in both languages.

A browser's own ``type="date"``/``type="month"`` control shows its user interface's format (03/01/2026,
"March 2026", 2026/3/1), whatever the page's language, and in some it is a blank "--------- ----".  The
register, the records and every export write ISO dates, so the inputs do too: text inputs with the ISO
pattern and a placeholder naming it; Django's date fields read ``%Y-%m-%d`` first.
"""

from __future__ import annotations

from django import forms

ISO_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
ISO_MONTH_PATTERN = r"\d{4}-\d{2}"


def iso_date_input(css: str = "form-control") -> forms.DateInput:
    return forms.DateInput(
        attrs={
            "class": css,
            "placeholder": "YYYY-MM-DD",
            "pattern": ISO_DATE_PATTERN,
            "inputmode": "numeric",
            "maxlength": "10",
            "autocomplete": "off",
        },
        format="%Y-%m-%d",
    )


def iso_month_input(css: str = "form-control") -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "class": css,
            "placeholder": "YYYY-MM",
            "pattern": ISO_MONTH_PATTERN,
            "inputmode": "numeric",
            "maxlength": "7",
            "autocomplete": "off",
        }
    )
